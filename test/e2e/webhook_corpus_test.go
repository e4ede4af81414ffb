package e2e

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"gitgate.dev/gitgate/provenance/index"
	"gitgate.dev/gitgate/test/e2e/corpus"
	"gitgate.dev/gitgate/test/e2e/testenv"
	"gitgate.dev/gitgate/webhook"
	"gitgate.dev/gitgate/webhook/certs"
	"gitgate.dev/gitgate/webhook/config"
)

// corpusWorkers is how many kubectl processes the corpus test runs at once.
const corpusWorkers = 6

// corpusBatch is what one kubectl apply sends: the documents of one corpus
// file, exactly as written, into one namespace.
type corpusBatch struct {
	path     string // in the suite's checkout
	ns       string // for -n; "" when the documents name their own
	objs     []target
	deferred bool
}

// corpusPlan is the corpus as a commit of source gitSource.
type corpusPlan struct {
	repo    gitRepo
	batches []*corpusBatch
}

// planCorpus batches the served corpus objects as the corpus test's kubectl
// writer does (one namespace per file for objects that name none) and
// declares them, and every namespace they go to, in Git. A second object
// with the key of an earlier one (two examples that declare the same
// cluster-scoped object) is left out: Git cannot declare it twice.
func planCorpus(t *testing.T, targets []target) corpusPlan {
	t.Helper()
	var plan corpusPlan
	b := index.NewBuilder()
	byKey := map[string]*corpusBatch{}
	namespaces := map[string]bool{}
	declared := map[string]bool{}
	for _, tg := range targets {
		namespaced := tg.mapping.Scope.Name() == meta.RESTScopeNameNamespace
		key := fmt.Sprintf("%s|%v|%t", tg.File, deferredKind(tg.Kind()), tg.Namespace() != "")
		batch := byKey[key]
		if batch == nil {
			batch = &corpusBatch{path: fmt.Sprintf("batches/%02d-%s.yaml", len(plan.batches), slug(tg.File)), deferred: deferredKind(tg.Kind())}
			if tg.Namespace() == "" {
				batch.ns = fmt.Sprintf("gg-corpus-%02d", tg.fileSlot)
			}
			byKey[key] = batch
			plan.batches = append(plan.batches, batch)
		}
		obj := &unstructured.Unstructured{Object: runtime.DeepCopyJSON(tg.Manifest)}
		switch {
		case !namespaced:
			obj.SetNamespace("")
		case tg.Namespace() == "":
			obj.SetNamespace(batch.ns)
		}
		if _, err := b.Add(obj, index.Origin{Source: gitSource, Commit: gitCommit, Path: tg.File, Signers: gitSigners}); err != nil {
			var conflict *index.ConflictError
			if !errors.As(err, &conflict) {
				t.Fatalf("%s: %v", tg, err)
			}
			t.Logf("left out, Git already declares it: %v", err)
			continue
		}
		if obj.GetKind() == "Namespace" && obj.GroupVersionKind().Group == "" {
			declared[obj.GetName()] = true
		}
		if ns := obj.GetNamespace(); ns != "" {
			namespaces[ns] = true
		}
		plan.repo.objs = append(plan.repo.objs, gitObject{path: tg.File, obj: obj})
		batch.objs = append(batch.objs, tg)
	}
	var nsYAML strings.Builder
	for _, ns := range slices.Sorted(maps.Keys(namespaces)) {
		if declared[ns] {
			continue
		}
		doc := fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", ns)
		nsYAML.WriteString("---\n" + doc)
		obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
		plan.repo.objs = append(plan.repo.objs, gitObject{path: "namespaces.yaml", obj: obj})
	}
	plan.repo.files = append(plan.repo.files, gitFile{path: "namespaces.yaml", yaml: nsYAML.String()})
	for _, batch := range plan.batches {
		var sb strings.Builder
		for _, tg := range batch.objs {
			sb.WriteString("---\n")
			sb.Write(tg.YAML)
			sb.WriteString("\n")
		}
		plan.repo.files = append(plan.repo.files, gitFile{path: batch.path, yaml: sb.String()})
	}
	return plan
}

func slug(path string) string {
	r := strings.NewReplacer("/", "-", ".yaml", "", ".yml", "")
	return r.Replace(path)
}

// TestWebhookCorpus is issue 4's "no false denials on real manifests": every
// object of ../shared/corpus that the API server serves, declared in Git,
// is applied with kubectl through gitgate's webhooks exactly as written,
// client-side and server-side, and re-applied as the API server stores it;
// every write must be admitted and stamped with its provenance.
func TestWebhookCorpus(t *testing.T) {
	env := testenv.Require(t)
	objs, _, err := corpus.Load(corpus.Require(t))
	if err != nil {
		t.Fatal(err)
	}
	targets, _ := resolve(t, env, objs)
	plan := planCorpus(t, targets)
	s := newWebhookSuite(t, plan.repo, certs.Options{})
	s.register(t)
	s.waitCalled(t, "a Namespace create", s.probeNamespace(t), func(c admissionCall) bool {
		return c.Resource.Resource == "namespaces" && c.Name == "gg-probe"
	})
	mark := s.rec.mark()
	s.mustKubectl(t, "apply", "-f", filepath.Join(s.repo, "namespaces.yaml"))

	apply := func(t *testing.T, b *corpusBatch, extra ...string) {
		t.Helper()
		args := append([]string{"apply", "-f", filepath.Join(s.repo, b.path)}, extra...)
		if b.ns != "" {
			args = append(args, "-n", b.ns)
		}
		if r := s.kubectl(t, nil, args...); r.err != nil {
			t.Errorf("denied or failed (%s):\n%s", b.objs[0].File, r)
		}
	}
	reapplyLive := func(t *testing.T, b *corpusBatch) {
		t.Helper()
		if b.deferred {
			// Pruned after the previous mode.
			apply(t, b)
		}
		args := []string{"get", "-o", "yaml", "-f", filepath.Join(s.repo, b.path)}
		if b.ns != "" {
			args = append(args, "-n", b.ns)
		}
		live := s.kubectl(t, nil, args...)
		if live.err != nil {
			t.Errorf("read back (%s):\n%s", b.objs[0].File, live)
			return
		}
		cmd := s.env.KubectlCmd(t.Context(), "apply", "-f", "-")
		cmd.Stdin = strings.NewReader(live.stdout)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("re-apply of the live objects denied or failed (%s): %v\n%s", b.objs[0].File, err, out)
		}
	}
	modes := []struct {
		name string
		run  func(t *testing.T, b *corpusBatch)
	}{
		{"kubectl-apply", func(t *testing.T, b *corpusBatch) { apply(t, b) }},
		{"kubectl-apply-server-side", func(t *testing.T, b *corpusBatch) {
			apply(t, b, "--server-side", "--field-manager=gitops-e2e", "--force-conflicts")
		}},
		{"re-apply-live", reapplyLive},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			// Files are independent, and kubectl mostly waits on the API
			// server, so several run at once (more than -parallel, which
			// follows the cores). The files that disturb discovery
			// (deferred) go last, one at a time.
			var wg sync.WaitGroup
			sem := make(chan struct{}, corpusWorkers)
			for _, b := range plan.batches {
				if b.deferred {
					continue
				}
				wg.Go(func() {
					sem <- struct{}{}
					defer func() { <-sem }()
					mode.run(t, b)
				})
			}
			wg.Wait()
			// Git declares the deferred objects again (the previous mode
			// pruned them).
			if err := s.store.Publish(gitSource, buildIndex(t, plan.repo.objs)); err != nil {
				t.Fatal(err)
			}
			for _, b := range plan.batches {
				if b.deferred {
					mode.run(t, b)
				}
			}
			// kubectl's client-side apply sends nothing for an object
			// already as written (another test of the package may have
			// made it), and so stamps nothing; server-side apply always
			// writes.
			if mode.name == "kubectl-apply-server-side" {
				s.checkCorpusStamped(t, plan)
			}
			// An APIService without its service slows every later
			// kubectl down (discovery retries its group): prune it.
			s.pruneDeferred(t, plan)
		})
	}
	counts := map[string]int{}
	for _, c := range s.rec.since(mark) {
		if c.Path == webhook.ValidatePath {
			counts[c.Resource.Resource]++
		}
	}
	t.Logf("corpus: %d objects in %d files declared in Git; validating reviews per resource: %v", len(plan.repo.objs), len(plan.batches), counts)
}

// checkCorpusStamped checks that every object carries its provenance.
func (s *webhookSuite) checkCorpusStamped(t *testing.T, plan corpusPlan) {
	t.Helper()
	for _, b := range plan.batches {
		for _, tg := range b.objs {
			ri := s.env.Dynamic.Resource(tg.mapping.Resource)
			var live *unstructured.Unstructured
			var err error
			if tg.mapping.Scope.Name() == meta.RESTScopeNameNamespace {
				ns := cmp.Or(tg.Namespace(), b.ns)
				if slices.Contains(config.SystemNamespaces, ns) || ns == gitgateNamespace {
					// Never sent to the webhook, so never stamped.
					continue
				}
				live, err = ri.Namespace(ns).Get(t.Context(), tg.Name(), metav1.GetOptions{})
			} else {
				live, err = ri.Get(t.Context(), tg.Name(), metav1.GetOptions{})
			}
			if err != nil {
				t.Errorf("%s: %v", tg, err)
				continue
			}
			if got := live.GetAnnotations()[webhook.CommitAnnotation]; got != gitCommit {
				t.Errorf("%s: %s = %q, want the commit", tg, webhook.CommitAnnotation, got)
			}
		}
	}
}

// pruneDeferred removes the deferred objects (an APIService without its
// service breaks discovery for later tests) the way gitgate would: a new
// commit drops them from Git, and deleting them is then allowed as a prune.
func (s *webhookSuite) pruneDeferred(t *testing.T, plan corpusPlan) {
	t.Helper()
	var keep []gitObject
	var prune []target
	for _, o := range plan.repo.objs {
		if !deferredKind(o.obj.GetKind()) {
			keep = append(keep, o)
		}
	}
	for _, b := range plan.batches {
		if b.deferred {
			prune = append(prune, b.objs...)
		}
	}
	if len(prune) == 0 {
		return
	}
	if err := s.store.Publish(gitSource, buildIndex(t, keep)); err != nil {
		t.Fatal(err)
	}
	for _, tg := range prune {
		if err := s.env.Dynamic.Resource(tg.mapping.Resource).Delete(t.Context(), tg.Name(), metav1.DeleteOptions{}); err != nil {
			t.Errorf("%s: delete after Git removed it (a prune) was refused: %v", tg, err)
		}
	}
}
