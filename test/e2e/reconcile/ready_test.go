package e2ereconcile

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gitgate.dev/gitgate/api/v1alpha1"
)

// TestUnfetchableSourceReady: a source that was never applied and whose
// first sync fails (a mistyped URL) leaves nothing to protect, so it does
// not keep the replica unready; nothing is published for it.
func TestUnfetchableSourceReady(t *testing.T) {
	c := newCluster(t)
	const name = "typo"
	repo := newSignedRepo(t)
	ctl := c.startController(t, t.TempDir())
	c.createSource(t, name, repo, func(gs *v1alpha1.GitSource) {
		gs.Spec.URL = "file:///no/such/repository"
	})
	gs := c.waitSource(t, name, "the fetch failure", conditionIs(v1alpha1.ConditionReady, metav1.ConditionFalse, "FetchFailed", "/no/such/repository"))
	if gs.Status.LastAppliedCommit != "" {
		t.Fatalf("lastAppliedCommit %q for a source never fetched", gs.Status.LastAppliedCommit)
	}
	// Ready lists the sources through the manager's cache, which holds
	// this one: its watch event started the sync.
	if !ctl.rec.Ready() {
		t.Error("a source that cannot be fetched keeps the replica unready")
	}
	if ix := ctl.store.Source(name); ix != nil {
		t.Errorf("published %d objects for a source that cannot be fetched", ix.Len())
	}
	if _, ok := ctl.pub.get(name); ok {
		t.Error("a source that cannot be fetched was handed to admission")
	}
}
