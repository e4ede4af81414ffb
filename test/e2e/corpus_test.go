package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"gitgate.dev/gitgate/provenance/conform"
	"gitgate.dev/gitgate/test/e2e/corpus"
	"gitgate.dev/gitgate/test/e2e/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m, testenv.Options{})) }

const fieldManager = "gitgate-e2e"

// target is one corpus object the API server serves, with where it goes.
type target struct {
	corpus.Object
	mapping  *meta.RESTMapping
	fileSlot int // position of its file, for per-file namespaces
}

// TestCorpusConforms is DESIGN.md §2's promise about conformance, proved on
// real manifests and a real API server: every served object of the corpus,
// written exactly as in Git (server-side apply, client-side create/update,
// and kubectl apply), reads back with all the server's defaulting and still
// conforms to its manifest; and changing any field Git sets makes the
// manifest stop conforming to that live object.
func TestCorpusConforms(t *testing.T) {
	env := testenv.Require(t)
	dir := corpus.Require(t)
	objs, notObjects, err := corpus.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	targets, skipped := resolve(t, env, objs)
	if len(targets) == 0 {
		t.Fatal("no served objects in the corpus")
	}

	writers := []struct {
		name  string
		write func(t *testing.T, env *testenv.Env, tg target, ns string)
	}{
		{"server-side-apply", applyServerSide},
		{"create-update", createOrUpdate},
	}
	checked := map[string]int{}
	live := map[string]map[string]any{}
	for _, w := range writers {
		t.Run(w.name, func(t *testing.T) {
			for _, tg := range targets {
				ns := namespaceFor(t, env, tg, w.name)
				w.write(t, env, tg, ns)
				obj := checkLive(t, env, tg, ns)
				if obj != nil {
					checked[w.name]++
					live[tg.String()] = obj
				}
			}
			cleanupDeferred(t, env, targets)
		})
	}
	t.Run("kubectl-apply", func(t *testing.T) {
		checked["kubectl-apply"] = kubectlApply(t, env, targets)
		cleanupDeferred(t, env, targets)
	})

	mutations := 0
	t.Run("changed-fields-do-not-conform", func(t *testing.T) {
		for _, tg := range targets {
			obj := live[tg.String()]
			if obj == nil {
				continue
			}
			if ok, diffs := conform.Conforms(tg.Manifest, obj); !ok {
				t.Fatalf("%s: live object does not conform: %v", tg, diffs)
			}
			mutations += mutateEachLeaf(t, tg, obj)
		}
	})

	kinds := slices.Sorted(maps.Keys(skipped))
	t.Logf("corpus: %d objects (%d YAML documents that are not objects); served and checked: %d server-side apply, %d create/update, %d kubectl apply; %d changed-field checks",
		len(objs), notObjects, checked["server-side-apply"], checked["create-update"], checked["kubectl-apply"], mutations)
	for _, k := range kinds {
		t.Logf("skipped, not served by the API server: %s (%d)", k, skipped[k])
	}
}

// resolve keeps the objects whose kind the API server serves, in corpus
// order, with kinds that disturb discovery for everyone else (APIService:
// its backing service does not exist here) moved to the end.
func resolve(t *testing.T, env *testenv.Env, objs []corpus.Object) ([]target, map[string]int) {
	t.Helper()
	groups, err := restmapper.GetAPIGroupResources(env.Discovery)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	mapper := restmapper.NewDiscoveryRESTMapper(groups)
	var files []string
	skipped := map[string]int{}
	var targets, last []target
	for _, o := range objs {
		gv, err := schema.ParseGroupVersion(o.APIVersion())
		if err != nil {
			t.Fatalf("%s: %v", o, err)
		}
		m, err := mapper.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: o.Kind()}, gv.Version)
		if meta.IsNoMatchError(err) {
			skipped[o.APIVersion()+" "+o.Kind()]++
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", o, err)
		}
		if !slices.Contains(files, o.File) {
			files = append(files, o.File)
		}
		tg := target{Object: o, mapping: m, fileSlot: slices.Index(files, o.File)}
		if deferredKind(o.Kind()) {
			last = append(last, tg)
		} else {
			targets = append(targets, tg)
		}
	}
	return append(targets, last...), skipped
}

func deferredKind(kind string) bool { return kind == "APIService" }

// cleanupDeferred deletes the objects that would break discovery for the
// next writer (an APIService without its service).
func cleanupDeferred(t *testing.T, env *testenv.Env, targets []target) {
	t.Helper()
	for _, tg := range targets {
		if !deferredKind(tg.Kind()) {
			continue
		}
		err := env.Dynamic.Resource(tg.mapping.Resource).Delete(t.Context(), tg.Name(), metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("%s: delete: %v", tg, err)
		}
	}
}

// namespaceFor returns the namespace an object goes to and creates it: the
// manifest's own, or one per corpus file and writer (as `kubectl apply -n`
// would), so that objects of the same name in different examples do not
// meet.
func namespaceFor(t *testing.T, env *testenv.Env, tg target, writer string) string {
	t.Helper()
	if tg.mapping.Scope.Name() != meta.RESTScopeNameNamespace {
		return ""
	}
	ns := tg.Namespace()
	if ns == "" {
		ns = fmt.Sprintf("corpus-%s-%02d", writer, tg.fileSlot)
	}
	ensureNamespace(t, env, ns)
	return ns
}

var namespaceGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

func ensureNamespace(t *testing.T, env *testenv.Env, ns string) {
	t.Helper()
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns},
	}}
	_, err := env.Dynamic.Resource(namespaceGVR).Create(t.Context(), u, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace %s: %v", ns, err)
	}
}

func resourceFor(env *testenv.Env, tg target, ns string) dynamic.ResourceInterface {
	r := env.Dynamic.Resource(tg.mapping.Resource)
	if ns == "" {
		return r
	}
	return r.Namespace(ns)
}

// manifest returns a copy of the Git manifest to send: the client may set
// fields on what it is given.
func manifest(tg target) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: runtime.DeepCopyJSON(tg.Manifest)}
}

func applyServerSide(t *testing.T, env *testenv.Env, tg target, ns string) {
	t.Helper()
	_, err := resourceFor(env, tg, ns).Apply(t.Context(), tg.Name(), manifest(tg),
		metav1.ApplyOptions{FieldManager: fieldManager, Force: true})
	if err != nil {
		t.Errorf("%s: server-side apply: %v", tg, err)
	}
}

func createOrUpdate(t *testing.T, env *testenv.Env, tg target, ns string) {
	t.Helper()
	r := resourceFor(env, tg, ns)
	_, err := r.Create(t.Context(), manifest(tg), metav1.CreateOptions{FieldManager: fieldManager})
	if !apierrors.IsAlreadyExists(err) {
		if err != nil {
			t.Errorf("%s: create: %v", tg, err)
		}
		return
	}
	// Cluster-scoped objects and objects with their own namespace exist
	// from the writer before: replace them, as `kubectl replace` does.
	cur, err := r.Get(t.Context(), tg.Name(), metav1.GetOptions{})
	if err != nil {
		t.Errorf("%s: get for update: %v", tg, err)
		return
	}
	u := manifest(tg)
	u.SetResourceVersion(cur.GetResourceVersion())
	if _, err := r.Update(t.Context(), u, metav1.UpdateOptions{FieldManager: fieldManager}); err != nil {
		t.Errorf("%s: update: %v", tg, err)
	}
}

// kubectlApply runs the kubectl built with the API server, client-side
// apply, once per corpus file (the documents it serves, exactly as written)
// and checks each object; it returns how many conformed.
func kubectlApply(t *testing.T, env *testenv.Env, targets []target) int {
	t.Helper()
	type batch struct {
		ns   string
		docs [][]byte
		objs []target
	}
	var batches []*batch
	index := map[string]*batch{}
	for _, tg := range targets {
		// Creates the namespace an object names; kubectl would refuse -n
		// for it, so such objects go in batches of their own.
		namespaceFor(t, env, tg, "kubectl")
		key := fmt.Sprintf("%s|%v|%t", tg.File, deferredKind(tg.Kind()), tg.Namespace() != "")
		b := index[key]
		if b == nil {
			b = &batch{}
			if tg.Namespace() == "" {
				b.ns = fmt.Sprintf("corpus-kubectl-%02d", tg.fileSlot)
				ensureNamespace(t, env, b.ns)
			}
			index[key] = b
			batches = append(batches, b)
		}
		b.docs = append(b.docs, tg.YAML)
		b.objs = append(b.objs, tg)
	}
	n := 0
	dir := t.TempDir()
	for i, b := range batches {
		file := filepath.Join(dir, fmt.Sprintf("batch-%02d.yaml", i))
		var sb strings.Builder
		for _, d := range b.docs {
			sb.WriteString("---\n")
			sb.Write(d)
			sb.WriteString("\n")
		}
		if err := os.WriteFile(file, []byte(sb.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		args := []string{"apply", "-f", file}
		if b.ns != "" {
			args = append(args, "-n", b.ns)
		}
		out, err := env.KubectlCmd(t.Context(), args...).CombinedOutput()
		if err != nil {
			t.Errorf("kubectl %s (%s): %v\n%s", strings.Join(args, " "), b.objs[0].File, err, out)
			continue
		}
		for _, tg := range b.objs {
			ns := b.ns
			if tg.Namespace() != "" {
				ns = tg.Namespace()
			}
			if tg.mapping.Scope.Name() != meta.RESTScopeNameNamespace {
				ns = ""
			}
			if checkLive(t, env, tg, ns) != nil {
				n++
			}
		}
	}
	return n
}

// checkLive reads the object back and asserts that it conforms to its Git
// manifest; it returns the live object, or nil when it could not be read or
// does not conform.
func checkLive(t *testing.T, env *testenv.Env, tg target, ns string) map[string]any {
	t.Helper()
	u, err := resourceFor(env, tg, ns).Get(context.WithoutCancel(t.Context()), tg.Name(), metav1.GetOptions{})
	if err != nil {
		t.Errorf("%s: read back: %v", tg, err)
		return nil
	}
	if ok, diffs := conform.Conforms(tg.Manifest, u.Object); !ok {
		t.Errorf("%s: the object the API server stored does not conform to its manifest (false denial):\n%s",
			tg, diffList(diffs))
		return nil
	}
	return u.Object
}

func diffList(diffs []conform.Diff) string {
	var b strings.Builder
	for _, d := range diffs {
		b.WriteString("  ")
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// mutateEachLeaf changes every scalar Git sets, one at a time, and asserts
// that the changed manifest no longer conforms to the live object. It
// returns how many changes it checked.
func mutateEachLeaf(t *testing.T, tg target, live map[string]any) int {
	t.Helper()
	n := 0
	for _, leaf := range leaves(tg.Manifest, nil) {
		changed := runtime.DeepCopyJSON(tg.Manifest)
		setAt(changed, leaf.path, mutate(leaf.value))
		if ok, _ := conform.Conforms(changed, live); ok {
			t.Errorf("%s: changing %s from %v to %v in Git still conforms", tg, pathString(leaf.path), leaf.value, mutate(leaf.value))
		}
		n++
	}
	return n
}

type leaf struct {
	path  []any // string keys and int indexes
	value any
}

// leaves lists the scalars of a manifest that the comparator must hold the
// object to: not status, not server-set metadata, not gitgate's or kubectl's
// bookkeeping annotations, not nulls (which leave a field free).
func leaves(v any, path []any) []leaf {
	switch x := v.(type) {
	case map[string]any:
		var out []leaf
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if ignoredLeaf(path, k) {
				continue
			}
			out = append(out, leaves(x[k], append(slices.Clip(path), k))...)
		}
		return out
	case []any:
		var out []leaf
		for i, e := range x {
			out = append(out, leaves(e, append(slices.Clip(path), i))...)
		}
		return out
	case nil:
		return nil
	default:
		return []leaf{{path: path, value: v}}
	}
}

func ignoredLeaf(path []any, k string) bool {
	switch {
	case len(path) == 0:
		return k == "status"
	case len(path) == 1 && path[0] == "metadata":
		switch k {
		case "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
			"deletionGracePeriodSeconds", "managedFields", "selfLink":
			return true
		}
	case len(path) == 2 && path[0] == "metadata" && path[1] == "annotations":
		return strings.HasPrefix(k, conform.ProvenancePrefix) || k == conform.LastAppliedAnnotation
	}
	return false
}

// mutate returns a different value of the same JSON type.
func mutate(v any) any {
	switch x := v.(type) {
	case string:
		return x + "-changed"
	case bool:
		return !x
	case float64:
		return x + 1
	case int64:
		return x + 1
	case json.Number:
		return json.Number(string(x) + "1")
	default:
		return fmt.Sprintf("%v-changed", v)
	}
}

func setAt(root any, path []any, v any) {
	cur := root
	for i, p := range path {
		last := i == len(path)-1
		switch k := p.(type) {
		case string:
			m := cur.(map[string]any)
			if last {
				m[k] = v
				return
			}
			cur = m[k]
		case int:
			l := cur.([]any)
			if last {
				l[k] = v
				return
			}
			cur = l[k]
		}
	}
}

func pathString(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch k := p.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
		case int:
			fmt.Fprintf(&b, "[%d]", k)
		}
	}
	return b.String()
}
