package reconcile

import (
	"os"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/provenance/index"
)

// TestRestoreAfterRestart: a new process whose first sync fails publishes
// the Index of status.lastAppliedCommit, read from the clone, without
// applying it or moving the ledger, so that admission protects the
// objects and the replica becomes ready; the conditions still report the
// failure. A commit the clone cannot provide is not restored, and the
// replica stays unready.
func TestRestoreAfterRestart(t *testing.T) {
	tests := []struct {
		name string
		// breakRepo changes the remote after head was applied.
		breakRepo func(t *testing.T, r *testRepo, old string)
		// sameCache: the new process finds the old one's clones (a
		// container restart); otherwise it starts with an empty cache.
		sameCache bool
		leader    bool
		reason    string
		restored  bool
	}{
		{name: "rewound branch", breakRepo: rewind, sameCache: true, leader: true, reason: reasonVerificationFailed, restored: true},
		{name: "rewound branch, follower", breakRepo: rewind, sameCache: true, reason: reasonVerificationFailed, restored: true},
		{name: "unsigned commit on top, empty cache", breakRepo: unsignedOnTop, leader: true, reason: reasonVerificationFailed, restored: true},
		{name: "remote gone", breakRepo: removeRemote, sameCache: true, leader: true, reason: reasonFetchFailed, restored: true},
		{name: "remote gone, empty cache", breakRepo: removeRemote, leader: true, reason: reasonFetchFailed},
		{name: "rewound branch, empty cache", breakRepo: rewind, leader: true, reason: reasonVerificationFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := newTestRepo(t)
			repo.WriteFile("apps/a.yaml", configMapYAML("shop", "a", "1"))
			old := repo.Commit("a", repo.alice)
			repo.WriteFile("apps/b.yaml", configMapYAML("shop", "b", "1"))
			repo.WriteFile("policy/warn.rego", "package custom\n\nwarn contains \"no team\" if { not input.metadata.labels.team }\n")
			head := repo.Commit("b", repo.alice)
			gs := gitSource("src", repo.url(), repo.root)
			gs.Spec.Scope.Namespaces = []string{"shop"}
			gs.Spec.Policy = &v1alpha1.PolicySpec{Paths: []string{"policy"}, Library: []string{"pss/baseline"}}
			f := newFixture(t, gs)
			f.leader = true
			f.reconcile(t, "src")
			if got := f.get(t, "src").Status.LastAppliedCommit; got != head {
				t.Fatalf("lastAppliedCommit %q, want %s", got, head)
			}
			applied := len(f.applies.applied())

			tt.breakRepo(t, repo, old)
			cache := t.TempDir()
			if tt.sameCache {
				cache = f.cacheDir
			}
			f.restart(t, cache)
			f.leader = tt.leader
			if f.r.Ready() {
				t.Error("Ready before the first sync of the new process")
			}
			f.reconcile(t, "src")

			if got := f.applies.applied(); len(got) != applied {
				t.Errorf("the new process applied %v", got[applied:])
			}
			got := f.get(t, "src")
			if got.Status.LastAppliedCommit != head || got.Status.LastVerifiedCommit != head {
				t.Errorf("status moved: applied %s, verified %s; want %s", got.Status.LastAppliedCommit, got.Status.LastVerifiedCommit, head)
			}
			if tt.leader {
				wantCondition(t, got, v1alpha1.ConditionReady, metav1.ConditionFalse, tt.reason)
				wantCondition(t, got, v1alpha1.ConditionApplied, metav1.ConditionTrue, reasonSucceeded)
			}
			ix := f.store.Source("src")
			if !tt.restored {
				if ix != nil {
					t.Errorf("published %d objects from a commit the clone cannot hold", ix.Len())
				}
				if f.r.Ready() {
					t.Error("Ready with an applied source and no Index")
				}
				return
			}
			if ix == nil || ix.Len() != 2 {
				t.Fatalf("restored Index %v, want the 2 objects of %s", ix, head)
			}
			for e := range ix.All() {
				if e.Origin.Commit != head || !slices.Equal(e.Origin.Signers, []string{"alice"}) || !strings.HasPrefix(e.Origin.Path, "apps/") {
					t.Errorf("%s: origin %+v, want commit %s signed by alice", e.Key, e.Origin, head)
				}
				if e.Object.GetLabels()[v1alpha1.SourceLabel] != "src" {
					t.Errorf("%s: labels %v lack the source label", e.Key, e.Object.GetLabels())
				}
			}
			pub, ok := f.pub.get("src")
			if !ok || pub.Policy == nil || pub.Repository != repo.url() || !slices.Equal(pub.Namespaces, []string{"shop"}) {
				t.Errorf("published %+v, want the repository, the scope and the compiled policy", pub)
			}
			if !f.r.Ready() {
				t.Error("Ready is false with the last applied commit published")
			}
			// Published once: a second failing sync leaves it.
			f.r.Trigger("src")
			f.reconcile(t, "src")
			if f.store.Source("src") != ix {
				t.Error("the restored Index was replaced by a second failing sync")
			}
		})
	}
}

func rewind(t *testing.T, r *testRepo, old string) {
	t.Helper()
	r.Run("reset", "-q", "--hard", old)
}

func unsignedOnTop(t *testing.T, r *testRepo, _ string) {
	t.Helper()
	r.WriteFile("apps/a.yaml", configMapYAML("shop", "a", "unsigned"))
	r.Commit("unsigned", nil)
}

func removeRemote(t *testing.T, r *testRepo, _ string) {
	t.Helper()
	if err := os.RemoveAll(r.Dir); err != nil {
		t.Fatal(err)
	}
}

// TestRestoreThenSync: once the branch verifies again, the sync replaces
// the restored Index, applies, and prunes against it.
func TestRestoreThenSync(t *testing.T) {
	repo := newTestRepo(t)
	repo.WriteFile("a.yaml", configMapYAML("default", "a", "1"))
	repo.WriteFile("b.yaml", configMapYAML("default", "b", "1"))
	good := repo.Commit("a, b", repo.alice)
	f := newFixture(t, gitSource("src", repo.url(), repo.root))
	f.leader = true
	f.reconcile(t, "src")
	unsigned := repo.Commit("unsigned", nil)
	f.restart(t, f.cacheDir)
	f.reconcile(t, "src")
	if ix := f.store.Source("src"); ix == nil || ix.Len() != 2 {
		t.Fatalf("restored Index %v, want 2 objects", ix)
	}

	b := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "default", Labels: map[string]string{v1alpha1.SourceLabel: "src"}}}
	if err := f.client.Create(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	repo.Run("reset", "-q", "--hard", good)
	repo.Remove("b.yaml")
	head := repo.Commit("drop b", repo.alice)
	f.r.Trigger("src")
	f.reconcile(t, "src")
	got := f.get(t, "src")
	wantCondition(t, got, v1alpha1.ConditionReady, metav1.ConditionTrue, reasonSucceeded)
	if got.Status.LastAppliedCommit != head {
		t.Errorf("lastAppliedCommit %s, want %s (not the unsigned %s)", got.Status.LastAppliedCommit, head, unsigned)
	}
	if e, ok := f.store.Source("src").Lookup(index.Key{Kind: "ConfigMap", Namespace: "default", Name: "a"}); !ok || e.Origin.Commit != head {
		t.Errorf("Index entry of a is from %q, want %s", e.Origin.Commit, head)
	}
	if f.exists(t, b) {
		t.Error("b, declared by the restored Index and not by the head, was not pruned")
	}
}

// TestReadyWhenFirstSyncFails: a source that was never applied counts as
// ready once a sync has finished, even a failed one; nothing is published
// for it.
func TestReadyWhenFirstSyncFails(t *testing.T) {
	repo := newTestRepo(t)
	repo.WriteFile("a.yaml", configMapYAML("default", "a", "1"))
	repo.Commit("a", repo.alice)
	typo := gitSource("typo", "file:///no/such/repository", repo.root)
	f := newFixture(t, gitSource("good", repo.url(), repo.root), typo)
	for _, leader := range []bool{false, true} {
		f.restart(t, t.TempDir())
		f.leader = leader
		if f.r.Ready() {
			t.Errorf("leader=%v: Ready before any sync", leader)
		}
		f.reconcile(t, "good")
		if f.r.Ready() {
			t.Errorf("leader=%v: Ready before the second source's first sync", leader)
		}
		f.reconcile(t, "typo")
		if !f.r.Ready() {
			t.Errorf("leader=%v: a source that cannot be fetched keeps Ready false", leader)
		}
		if f.store.Source("typo") != nil {
			t.Errorf("leader=%v: something was published for a source that cannot be fetched", leader)
		}
	}
	wantCondition(t, f.get(t, "typo"), v1alpha1.ConditionReady, metav1.ConditionFalse, reasonFetchFailed)
}

// TestFollowerForgetsWithdrawn: a replica that is not the leader never
// prunes; it forgets a withdrawn object once the object is gone (or no
// longer labelled for the source), and keeps it withdrawn while it exists.
func TestFollowerForgetsWithdrawn(t *testing.T) {
	key := func(name string) index.Key { return index.Key{Kind: "ConfigMap", Namespace: "default", Name: name} }
	withdrawn := func(f *fixture, name string) bool {
		_, ok := f.store.Current().Withdrawn(key(name))
		return ok
	}
	for _, prune := range []bool{true, false} {
		t.Run(map[bool]string{true: "prune", false: "no prune"}[prune], func(t *testing.T) {
			repo := newTestRepo(t)
			for _, n := range []string{"keep", "pending", "relabelled", "never"} {
				repo.WriteFile(n+".yaml", configMapYAML("default", n, "1"))
			}
			repo.Commit("four", repo.alice)
			gs := gitSource("src", repo.url(), repo.root)
			gs.Spec.Prune = ptr.To(prune)
			f := newFixture(t, gs)
			f.reconcile(t, "src")
			// The leader applied them; "never" was not created (its apply
			// failed, say).
			cm := func(name, source string) *corev1.ConfigMap {
				return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{v1alpha1.SourceLabel: source}}}
			}
			pending := cm("pending", "src")
			for _, obj := range []*corev1.ConfigMap{cm("keep", "src"), pending, cm("relabelled", "other")} {
				if err := f.client.Create(t.Context(), obj); err != nil {
					t.Fatal(err)
				}
			}
			repo.Remove("pending.yaml")
			repo.Remove("relabelled.yaml")
			repo.Remove("never.yaml")
			repo.Commit("only keep", repo.alice)
			f.r.Trigger("src")
			f.reconcile(t, "src")
			if !withdrawn(f, "pending") {
				t.Error("an object that still exists was forgotten")
			}
			for _, n := range []string{"relabelled", "never"} {
				if withdrawn(f, n) == prune {
					t.Errorf("%s withdrawn = %v, want %v", n, !prune, !prune)
				}
			}
			if withdrawn(f, "keep") {
				t.Error("an object still declared is withdrawn")
			}

			// The leader prunes; the follower's next sync sees it gone.
			if err := f.client.Delete(t.Context(), pending); err != nil {
				t.Fatal(err)
			}
			f.r.Trigger("src")
			f.reconcile(t, "src")
			if withdrawn(f, "pending") == prune {
				t.Errorf("pruned object withdrawn = %v, want %v", !prune, !prune)
			}
			if n := len(f.r.state("src").withdrawn); (n == 0) != prune {
				t.Errorf("%d keys left to look up", n)
			}
			if len(f.applies.applied()) != 0 {
				t.Errorf("the follower applied %v", f.applies.applied())
			}
		})
	}
}

func TestNoteWithdrawn(t *testing.T) {
	build := func(names ...string) *index.Index {
		b := index.NewBuilder()
		for _, n := range names {
			obj := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": n, "namespace": "default"}}
			if _, err := b.Add(unstructuredOf(obj), index.Origin{Source: "s"}); err != nil {
				t.Fatal(err)
			}
		}
		return b.Build()
	}
	st := newSourceState()
	st.noteWithdrawn(nil, build("a", "b"))
	if len(st.withdrawn) != 0 {
		t.Fatalf("the first Index withdrew %v", st.withdrawn)
	}
	v1, v2, v3 := build("a", "b"), build("a"), build("a", "b")
	st.noteWithdrawn(v1, v2)
	gvk, ok := st.withdrawn[index.Key{Kind: "ConfigMap", Namespace: "default", Name: "b"}]
	if !ok || gvk.Version != "v1" || gvk.Kind != "ConfigMap" || len(st.withdrawn) != 1 {
		t.Fatalf("withdrawn %v, want b as v1 ConfigMap", st.withdrawn)
	}
	st.noteWithdrawn(v2, v3)
	if len(st.withdrawn) != 0 {
		t.Errorf("declared again but still withdrawn: %v", st.withdrawn)
	}
}

func (f *fixture) exists(t *testing.T, obj client.Object) bool {
	t.Helper()
	err := f.client.Get(t.Context(), client.ObjectKeyFromObject(obj), obj)
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

func unstructuredOf(obj map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: obj}
}
