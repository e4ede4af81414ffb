package reconcile

import (
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/provenance/index"
)

// TestLeaderGating: every replica fetches, verifies, renders and publishes;
// only the leader applies, writes status, adds the finalizer and records
// Events.
func TestLeaderGating(t *testing.T) {
	repo := newTestRepo(t)
	repo.WriteFile("apps/ns.yaml", namespaceYAML("shop"))
	repo.WriteFile("apps/cm.yaml", configMapYAML("shop", "settings", "1"))
	head := repo.Commit("shop", repo.alice)
	f := newFixture(t, gitSource("shop", repo.url(), repo.root))

	f.leader = false
	f.reconcile(t, "shop")
	ix := f.store.Source("shop")
	if ix.Len() != 2 {
		t.Fatalf("follower published %d objects, want 2", ix.Len())
	}
	if _, ok := f.pub.get("shop"); !ok {
		t.Error("follower did not hand the source to the publisher")
	}
	if got := f.applies.applied(); len(got) != 0 {
		t.Errorf("follower applied %v", got)
	}
	gs := f.get(t, "shop")
	if len(gs.Finalizers) != 0 || len(gs.Status.Conditions) != 0 || gs.Status.LastVerifiedCommit != "" {
		t.Errorf("follower wrote the GitSource: finalizers %v, status %+v", gs.Finalizers, gs.Status)
	}
	if len(f.events.Events) != 0 {
		t.Errorf("follower recorded Events: %d", len(f.events.Events))
	}
	if !f.r.Ready() {
		t.Error("Ready is false although the only source has an Index")
	}

	// Elected: the Trigger of the election kick makes the sync due.
	f.leader = true
	f.r.Trigger("shop")
	f.reconcile(t, "shop")
	want := []string{"Namespace shop", "ConfigMap shop/settings"}
	if got := f.applies.applied(); !slices.Equal(got, want) {
		t.Errorf("leader applied %v, want %v (Namespaces first)", got, want)
	}
	gs = f.get(t, "shop")
	if !slices.Contains(gs.Finalizers, finalizer) {
		t.Errorf("finalizers %v lack %s", gs.Finalizers, finalizer)
	}
	wantCondition(t, gs, v1alpha1.ConditionReady, metav1.ConditionTrue, reasonSucceeded)
	wantCondition(t, gs, v1alpha1.ConditionVerified, metav1.ConditionTrue, reasonSucceeded)
	wantCondition(t, gs, v1alpha1.ConditionPolicyPassed, metav1.ConditionTrue, reasonNoPolicy)
	wantCondition(t, gs, v1alpha1.ConditionApplied, metav1.ConditionTrue, reasonSucceeded)
	wantCondition(t, gs, v1alpha1.ConditionDrifted, metav1.ConditionFalse, reasonNoDrift)
	if gs.Status.LastVerifiedCommit != head || gs.Status.LastAppliedCommit != head || gs.Status.Objects != 2 ||
		!slices.Equal(gs.Status.Signers, []string{"alice"}) || gs.Status.VerifiedTrustRoot != repo.root {
		t.Errorf("status %+v, want head %s applied with 2 objects signed by alice", gs.Status, head)
	}
	if e := <-f.events.Events; !strings.HasPrefix(e, "Normal Synced") {
		t.Errorf("event %q, want Normal Synced", e)
	}
}

// TestUnchangedHeadIsNotReapplied: a sync of the same head and spec does not
// re-apply (drift is the watcher's job; detect mode must keep drift), but a
// new commit is applied and what left Git is pruned.
func TestUnchangedHeadIsNotReapplied(t *testing.T) {
	repo := newTestRepo(t)
	repo.WriteFile("a.yaml", configMapYAML("default", "a", "1"))
	repo.WriteFile("b.yaml", configMapYAML("default", "b", "1"))
	repo.Commit("a and b", repo.alice)
	f := newFixture(t, gitSource("src", repo.url(), repo.root))
	f.leader = true
	f.reconcile(t, "src")
	if n := len(f.applies.applied()); n != 2 {
		t.Fatalf("first sync applied %d objects, want 2", n)
	}
	f.r.Trigger("src")
	f.reconcile(t, "src")
	if n := len(f.applies.applied()); n != 2 {
		t.Fatalf("unchanged head applied again: %v", f.applies.applied())
	}

	// Prune finds b through the Index difference; the fake holds b as
	// gitgate applied it.
	b := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "default", Labels: map[string]string{v1alpha1.SourceLabel: "src"}}}
	if err := f.client.Create(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	repo.Remove("b.yaml")
	repo.WriteFile("a.yaml", configMapYAML("default", "a", "2"))
	head := repo.Commit("drop b", repo.alice)
	f.r.Trigger("src")
	f.reconcile(t, "src")
	if got := f.applies.applied(); len(got) != 3 || got[2] != "ConfigMap default/a" {
		t.Errorf("applies %v, want a third apply of ConfigMap default/a", got)
	}
	err := f.client.Get(t.Context(), client.ObjectKeyFromObject(b), &corev1.ConfigMap{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("ConfigMap b was not pruned: %v", err)
	}
	if gs := f.get(t, "src"); gs.Status.LastAppliedCommit != head {
		t.Errorf("lastAppliedCommit %s, want %s", gs.Status.LastAppliedCommit, head)
	}
	if _, withdrawn := f.store.Current().Withdrawn(index.Key{Kind: "ConfigMap", Namespace: "default", Name: "b"}); withdrawn {
		t.Error("the Store still lists the pruned ConfigMap as withdrawn")
	}
}

// TestNotDueOnlyRefreshesDrift: a reconcile between syncs (the drift
// watcher's OnChange) fetches nothing and writes the drift count.
func TestNotDueOnlyRefreshesDrift(t *testing.T) {
	repo := newTestRepo(t)
	repo.WriteFile("a.yaml", configMapYAML("default", "a", "1"))
	repo.Commit("a", repo.alice)
	f := newFixture(t, gitSource("src", repo.url(), repo.root))
	f.leader = true
	f.reconcile(t, "src")

	// A new commit is not fetched until the interval or a Trigger.
	repo.WriteFile("a.yaml", configMapYAML("default", "a", "2"))
	repo.Commit("a=2", repo.alice)
	f.r.driftChanged("src", 3)
	res := f.reconcile(t, "src")
	if res.RequeueAfter <= 0 {
		t.Errorf("requeue after %v, want the rest of the interval", res.RequeueAfter)
	}
	if n := len(f.applies.applied()); n != 1 {
		t.Errorf("a drift refresh applied: %v", f.applies.applied())
	}
	gs := f.get(t, "src")
	if gs.Status.Drifted != 3 {
		t.Errorf("status.drifted %d, want 3", gs.Status.Drifted)
	}
	c := wantCondition(t, gs, v1alpha1.ConditionDrifted, metav1.ConditionTrue, reasonDriftDetected)
	if !strings.Contains(c.Message, "reverted") {
		t.Errorf("drift message %q does not say the objects are being reverted", c.Message)
	}
}

// TestSuspendedSourceIsNotFetched: suspend stops fetching; nothing is
// published for a source never synced, and Ready leaves it out.
func TestSuspendedSourceIsNotFetched(t *testing.T) {
	repo := newTestRepo(t)
	repo.WriteFile("a.yaml", configMapYAML("default", "a", "1"))
	repo.Commit("a", repo.alice)
	gs := gitSource("src", repo.url(), repo.root)
	gs.Spec.Suspend = true
	f := newFixture(t, gs)
	f.leader = true
	if res := f.reconcile(t, "src"); res.RequeueAfter != 0 {
		t.Errorf("suspended source requeued after %v", res.RequeueAfter)
	}
	if f.store.Source("src") != nil || len(f.applies.applied()) != 0 {
		t.Error("a suspended source was synced")
	}
	if !f.r.Ready() {
		t.Error("a suspended source keeps Ready false")
	}
}

// TestDeletionOrphans: deleting a GitSource withdraws it from the Store and
// the Publisher and removes the finalizer; applied objects stay.
func TestDeletionOrphans(t *testing.T) {
	repo := newTestRepo(t)
	repo.WriteFile("a.yaml", configMapYAML("default", "a", "1"))
	repo.Commit("a", repo.alice)
	f := newFixture(t, gitSource("src", repo.url(), repo.root))
	f.leader = true
	f.reconcile(t, "src")
	a := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "default", Labels: map[string]string{v1alpha1.SourceLabel: "src"}}}
	if err := f.client.Create(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	if err := f.client.Delete(t.Context(), f.get(t, "src")); err != nil {
		t.Fatal(err)
	}
	f.reconcile(t, "src")
	if f.store.Source("src") != nil {
		t.Error("the Store still holds the deleted source")
	}
	if _, ok := f.pub.get("src"); ok || !slices.Contains(f.pub.withdrawn, "src") {
		t.Error("the source was not withdrawn from the publisher")
	}
	err := f.client.Get(t.Context(), client.ObjectKey{Name: "src"}, &v1alpha1.GitSource{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("GitSource still exists after its finalizer should be gone: %v", err)
	}
	if err := f.client.Get(t.Context(), client.ObjectKeyFromObject(a), &corev1.ConfigMap{}); err != nil {
		t.Errorf("the applied ConfigMap was deleted with its source: %v", err)
	}
	// A reconcile of a source that no longer exists is a no-op.
	f.reconcile(t, "src")
}

// TestConflictKeepsBothSources: a source that declares an object another
// source already declares is refused with Conflict; the first keeps its
// Index and the second publishes nothing.
func TestConflictKeepsBothSources(t *testing.T) {
	first, second := newTestRepo(t), newTestRepo(t)
	first.WriteFile("shared.yaml", configMapYAML("default", "shared", "first"))
	first.Commit("shared", first.alice)
	second.WriteFile("shared.yaml", configMapYAML("default", "shared", "second"))
	second.WriteFile("own.yaml", configMapYAML("default", "own", "second"))
	second.Commit("shared too", second.alice)
	f := newFixture(t, gitSource("first", first.url(), first.root), gitSource("second", second.url(), second.root))
	f.leader = true
	f.reconcile(t, "first")
	f.reconcile(t, "second")
	c := wantCondition(t, f.get(t, "second"), v1alpha1.ConditionReady, metav1.ConditionFalse, reasonConflict)
	if !strings.Contains(c.Message, "ConfigMap default/shared") {
		t.Errorf("conflict message %q does not name the object", c.Message)
	}
	if f.store.Source("second") != nil {
		t.Error("the conflicting source was published")
	}
	if e, ok := f.store.Current().Lookup(index.Key{Kind: "ConfigMap", Namespace: "default", Name: "shared"}); !ok || e.Origin.Source != "first" {
		t.Errorf("the shared object belongs to %q, want first", e.Origin.Source)
	}
	if got := f.applies.applied(); !slices.Equal(got, []string{"ConfigMap default/shared"}) {
		t.Errorf("applied %v, want only the first source's object", got)
	}
}

// TestMetrics: syncs are counted by result, the published commit and the
// number of objects are exported, and a deleted source's series go away.
func TestMetrics(t *testing.T) {
	repo := newTestRepo(t)
	repo.WriteFile("a.yaml", configMapYAML("default", "a", "1"))
	head := repo.Commit("a", repo.alice)
	f := newFixture(t, gitSource("src", repo.url(), repo.root))
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	f.r.metrics = m
	f.leader = true
	f.reconcile(t, "src")
	repo.Commit("unsigned", nil)
	f.r.Trigger("src")
	f.reconcile(t, "src")

	if got := testutil.ToFloat64(m.total.WithLabelValues("src", reasonSucceeded)); got != 1 {
		t.Errorf("succeeded syncs %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.total.WithLabelValues("src", reasonVerificationFailed)); got != 1 {
		t.Errorf("failed syncs %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.info.WithLabelValues("src", head)); got != 1 {
		t.Errorf("source info for %s = %v, want 1", head, got)
	}
	if got := testutil.ToFloat64(m.managed.WithLabelValues("src")); got != 1 {
		t.Errorf("managed objects %v, want 1", got)
	}
	if n := testutil.CollectAndCount(m.duration); n != 1 {
		t.Errorf("%d duration series, want 1", n)
	}
	// A second Reconciler in the process shares the registered series.
	if _, err := newMetrics(reg); err != nil {
		t.Errorf("registering the metrics twice: %v", err)
	}
	f.r.withdraw("src")
	if n := testutil.CollectAndCount(m.info) + testutil.CollectAndCount(m.total) + testutil.CollectAndCount(m.managed); n != 0 {
		t.Errorf("%d series left after the source was withdrawn", n)
	}
}
