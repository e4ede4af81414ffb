package reconcile

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/provenance"
	"gitgate.dev/gitgate/provenance/index"
	"gitgate.dev/gitgate/provenance/render"
)

var crdKind = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}

// render turns the verified commit into the source's Index.
func (r *Reconciler) render(ctx context.Context, s *syncRun) error {
	st := s.st
	if st.published != nil && st.publishedHead == s.snap.Head && st.publishedGen == s.gs.Generation {
		s.unchanged = true
		s.ix = st.published
		s.engine = st.engine
		return nil
	}
	origin := index.Origin{Source: s.name(), Commit: s.snap.Head, Signers: signerNames(s.snap.HeadSigners())}
	objs, ix, err := r.buildIndex(ctx, s.gs, s.snap, origin)
	if err != nil {
		return fail("", reasonRenderFailed, err)
	}
	s.objects, s.ix = objs, ix
	return nil
}

// buildIndex renders the paths of gs from tree (spec.paths, or the
// default paths), labels every object for the source and builds its
// Index, each entry with origin and its own path. The sync renders a
// verified head this way, and restoreApplied the last applied commit.
func (r *Reconciler) buildIndex(ctx context.Context, gs *v1alpha1.GitSource, tree render.Tree, origin index.Origin) ([]render.Object, *index.Index, error) {
	paths := gs.Spec.Paths
	if len(paths) == 0 {
		var err error
		if paths, err = defaultPaths(tree, policyPaths(gs)); err != nil {
			return nil, nil, err
		}
	}
	objs, err := render.Render(ctx, tree, paths, render.Options{})
	if err != nil {
		return nil, nil, err
	}
	b := index.NewBuilder(index.WithNamespaces(defaultNamespace, r.scopeOf(objs)))
	for _, o := range objs {
		labelObject(o.Object, gs.Name)
		origin.Path = o.Path
		if _, err := b.Add(o.Object, origin); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", o.Path, err)
		}
	}
	return objs, b.Build(), nil
}

// labelObject sets the source label, which prune and the drift watches
// select on. It is added before the Index is built, so the Index holds
// exactly what is applied and the webhook protects the label too.
func labelObject(obj *unstructured.Unstructured, source string) {
	labels := obj.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[v1alpha1.SourceLabel] = source
	obj.SetLabels(labels)
}

// scopeOf tells the Builder which kinds are namespaced: the API server's
// answer where it has one, else the CRD that the same commit declares (a
// CRD is not served until it has been applied), else unknown. Answers are
// cached for the Build, so a thousand objects of a new kind cost one
// discovery.
func (r *Reconciler) scopeOf(objs []render.Object) index.Scope {
	declared := map[schema.GroupKind]bool{}
	for _, o := range objs {
		if o.Object.GroupVersionKind().GroupKind() != crdKind {
			continue
		}
		group, _, _ := unstructured.NestedString(o.Object.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(o.Object.Object, "spec", "names", "kind")
		scope, _, _ := unstructured.NestedString(o.Object.Object, "spec", "scope")
		if kind != "" {
			declared[schema.GroupKind{Group: group, Kind: kind}] = scope == "Namespaced"
		}
	}
	type answer struct{ namespaced, known bool }
	cache := map[schema.GroupKind]answer{}
	return func(gk schema.GroupKind) (bool, bool) {
		if a, ok := cache[gk]; ok {
			return a.namespaced, a.known
		}
		var a answer
		if m, err := r.opts.RESTMapper.RESTMapping(gk); err == nil {
			a = answer{namespaced: m.Scope.Name() == meta.RESTScopeNameNamespace, known: true}
		} else if ns, ok := declared[gk]; ok {
			a = answer{namespaced: ns, known: true}
		}
		cache[gk] = a
		return a.namespaced, a.known
	}
}

// defaultPaths is what a source without spec.paths renders: every
// top-level folder and manifest file, except hidden entries (.gitgate holds
// the trust policy, .github CI files; neither are objects) and the folders
// that hold the source's Rego.
func defaultPaths(tree render.Tree, exclude []string) ([]string, error) {
	skip := map[string]bool{}
	for _, p := range exclude {
		skip[strings.Trim(path.Clean(p), "/")] = true
	}
	seen := map[string]bool{}
	err := tree.Walk("", func(f provenance.File) error {
		top, _, nested := strings.Cut(f.Path, "/")
		if seen[top] || strings.HasPrefix(top, ".") || skip[top] {
			return nil
		}
		// A top-level file is rendered only if it is a manifest; a README
		// is not. Anything under a folder is render's business.
		if !nested && !isManifestName(top) {
			return nil
		}
		seen[top] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the repository: %w", err)
	}
	paths := make([]string, 0, len(seen))
	for p := range seen {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths, nil
}

func isManifestName(name string) bool {
	switch path.Ext(name) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

func policyPaths(gs *v1alpha1.GitSource) []string {
	if gs.Spec.Policy == nil {
		return nil
	}
	return gs.Spec.Policy.Paths
}

// signerNames returns the distinct trust-policy names of signers, in
// order.
func signerNames(signers []provenance.Signer) []string {
	var names []string
	seen := map[string]bool{}
	for _, s := range signers {
		if !seen[s.Name] {
			seen[s.Name] = true
			names = append(names, s.Name)
		}
	}
	return names
}
