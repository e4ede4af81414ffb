package e2ereconcile

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gitgate.dev/gitgate/api/v1alpha1"
)

// TestDriftStatus: the reconciler writes the drift watcher's count into
// status.drifted and the Drifted condition. In detect mode an out-of-band
// edit stays and is counted; switching the source to revert mode puts it
// back and the count returns to zero. (The drift watcher's own behaviour is
// tested in reconcile/drift.)
func TestDriftStatus(t *testing.T) {
	c := newCluster(t)
	const ns, name = "drift-status", "drift-status"
	repo := newSignedRepo(t)
	repo.WriteFile("namespace.yaml", fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", ns))
	repo.WriteFile("deployment.yaml", deploymentYAML(ns, 2, ""))
	head := repo.Commit("web", repo.alice)
	c.startController(t, t.TempDir())
	c.createSource(t, name, repo, func(gs *v1alpha1.GitSource) { gs.Spec.Drift = v1alpha1.DriftDetect })
	c.waitSource(t, name, "applied", func(gs *v1alpha1.GitSource) bool {
		return appliedAt(head)(gs) && conditionIs(v1alpha1.ConditionDrifted, metav1.ConditionFalse, "NoDrift")(gs)
	})

	// An edit that bypasses admission (no webhook is registered here).
	var d appsv1.Deployment
	if err := c.client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "web"}, &d); err != nil {
		t.Fatal(err)
	}
	base := d.DeepCopy()
	d.Spec.Replicas = ptr.To[int32](5)
	if err := c.client.Patch(t.Context(), &d, client.MergeFrom(base), client.FieldOwner("someone")); err != nil {
		t.Fatal(err)
	}
	gs := c.waitSource(t, name, "the drift counted", conditionIs(v1alpha1.ConditionDrifted, metav1.ConditionTrue, "DriftDetected", "detect mode"))
	if gs.Status.Drifted != 1 {
		t.Errorf("status.drifted %d, want 1", gs.Status.Drifted)
	}
	if got := c.replicas(t, ns); got != 5 {
		t.Errorf("detect mode changed the replicas to %d", got)
	}

	gs = c.source(t, name)
	base2 := gs.DeepCopy()
	gs.Spec.Drift = v1alpha1.DriftRevert
	if err := c.client.Patch(t.Context(), gs, client.MergeFrom(base2)); err != nil {
		t.Fatal(err)
	}
	gs = c.waitSource(t, name, "the drift reverted", conditionIs(v1alpha1.ConditionDrifted, metav1.ConditionFalse, "NoDrift"))
	if gs.Status.Drifted != 0 {
		t.Errorf("status.drifted %d, want 0", gs.Status.Drifted)
	}
	if got := c.replicas(t, ns); got != 2 {
		t.Errorf("replicas %d after the revert, want Git's 2", got)
	}
}
