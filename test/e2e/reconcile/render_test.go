package e2ereconcile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gitgate.dev/gitgate/api/v1alpha1"
)

// TestHostileRepositories: a repository with invalid YAML, a 100 MB file,
// a symlink to /etc/passwd or a kustomization that reaches outside the
// repository gets a status error naming the file; nothing of it is applied
// or published, and the controller keeps running for the next source.
func TestHostileRepositories(t *testing.T) {
	c := newCluster(t)
	ctl := c.startController(t, t.TempDir())
	tests := []struct {
		name  string
		setup func(t *testing.T, r *signedRepo)
		file  string // the path the message must name
		cause string
	}{
		{
			name: "invalid-yaml",
			setup: func(_ *testing.T, r *signedRepo) {
				r.WriteFile("apps/broken.yaml", "apiVersion: v1\nkind: [ConfigMap\n")
			},
			file: "apps/broken.yaml", cause: "invalid YAML",
		},
		{
			name: "huge-file",
			setup: func(_ *testing.T, r *signedRepo) {
				r.WriteFile("apps/huge.yaml", strings.Repeat("# 100 MB of padding\n", 100<<20/20))
			},
			file: "apps/huge.yaml", cause: "limit exceeded",
		},
		{
			name: "symlink-to-etc-passwd",
			setup: func(t *testing.T, r *signedRepo) {
				if err := os.Symlink("/etc/passwd", filepath.Join(r.Dir, "apps", "passwd.yaml")); err != nil {
					t.Fatal(err)
				}
			},
			file: "apps/passwd.yaml", cause: "symlinks and submodules are not followed",
		},
		{
			name: "kustomization-outside",
			setup: func(_ *testing.T, r *signedRepo) {
				r.WriteFile("apps/kustomization.yaml", "resources:\n- good.yaml\n- ../../../../etc/passwd\n")
			},
			file: "apps/kustomization.yaml", cause: "path leaves the repository",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "hostile-" + tt.name
			repo := newSignedRepo(t)
			repo.WriteFile("apps/good.yaml", configMapYAML("default", name, "v1"))
			tt.setup(t, repo)
			head := repo.Commit(tt.name, repo.alice)
			c.createSource(t, name, repo, nil)
			gs := c.waitSource(t, name, "a render error", conditionIs(v1alpha1.ConditionReady, metav1.ConditionFalse, "RenderFailed", tt.file, tt.cause))
			if !conditionIs(v1alpha1.ConditionVerified, metav1.ConditionTrue, "Succeeded", short(head))(gs) {
				t.Errorf("the commit is not reported verified:\n%s", describeStatus(gs))
			}
			if gs.Status.LastAppliedCommit != "" {
				t.Errorf("lastAppliedCommit %s after a render error", gs.Status.LastAppliedCommit)
			}
			if c.exists(t, &corev1.ConfigMap{}, "default", name) {
				t.Error("the valid object of a commit that failed to render was applied")
			}
			if ctl.store.Source(name) != nil {
				t.Error("an Index was published for a commit that failed to render")
			}
			c.waitEvent(t, name, corev1.EventTypeWarning, "RenderFailed", tt.file)
			// Never applied, so nothing to protect: a source that cannot be
			// rendered does not keep the replica unready.
			if !ctl.rec.Ready() {
				t.Error("Ready() is false for a source that was never applied and whose sync failed")
			}
		})
	}
	// The same controller still syncs a good source.
	repo := newSignedRepo(t)
	repo.WriteFile("good.yaml", configMapYAML("default", "hostile-after", "v1"))
	head := repo.Commit("good", repo.alice)
	c.createSource(t, "hostile-after", repo, nil)
	c.waitSource(t, "hostile-after", "a good source after the hostile ones", appliedAt(head))
}

// TestDeleteSourceOrphans: deleting a GitSource withdraws it from the Store
// and the Publisher and lets the deletion finish; its objects stay.
func TestDeleteSourceOrphans(t *testing.T) {
	c := newCluster(t)
	const name = "orphans"
	repo := newSignedRepo(t)
	repo.WriteFile("cm.yaml", configMapYAML("default", name, "v1"))
	head := repo.Commit("cm", repo.alice)
	ctl := c.startController(t, t.TempDir())
	c.createSource(t, name, repo, nil)
	gs := c.waitSource(t, name, "applied", appliedAt(head))
	if len(gs.Finalizers) != 1 || gs.Finalizers[0] != "gitgate.dev/prune" {
		t.Fatalf("finalizers %v, want gitgate.dev/prune", gs.Finalizers)
	}
	if err := c.client.Delete(t.Context(), gs); err != nil {
		t.Fatal(err)
	}
	err := poll(t.Context(), waitTimeout, func() (bool, error) {
		err := c.client.Get(t.Context(), client.ObjectKey{Name: name}, &v1alpha1.GitSource{})
		return client.IgnoreNotFound(err) == nil && err != nil, client.IgnoreNotFound(err)
	})
	if err != nil {
		t.Fatalf("the GitSource was not finalized: %v", err)
	}
	if !c.exists(t, &corev1.ConfigMap{}, "default", name) {
		t.Error("the source's ConfigMap was deleted with it")
	}
	if ctl.store.Source(name) != nil {
		t.Error("the Store still holds the deleted source")
	}
	if _, ok := ctl.pub.get(name); ok {
		t.Error("the deleted source was not withdrawn from the publisher")
	}
}

// TestPruneAfterRestart: what left Git while no controller ran is pruned by
// the next process, which has no earlier Index to compare with: the sweep
// over every served kind finds it by label, a kind that left Git entirely
// included. An object that only carries the label, without gitgate's field
// manager having applied it, stays.
func TestPruneAfterRestart(t *testing.T) {
	c := newCluster(t)
	const ns, name = "restart-prune", "restart-prune"
	repo := newSignedRepo(t)
	repo.WriteFile("namespace.yaml", fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", ns))
	repo.WriteFile("apps/keep.yaml", configMapYAML(ns, "keep", "v1"))
	repo.WriteFile("apps/gone.yaml", configMapYAML(ns, "gone", "v1"))
	repo.WriteFile("apps/secret.yaml", fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: gone\n  namespace: %s\nstringData:\n  k: v\n", ns))
	v1 := repo.Commit("v1", repo.alice)
	ctl := c.startController(t, t.TempDir())
	c.createSource(t, name, repo, nil)
	c.waitSource(t, name, "v1 applied", appliedAt(v1))
	ctl.stop(t)

	// Labelled by someone else: not gitgate's to delete.
	foreign := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "foreign", Namespace: ns, Labels: map[string]string{v1alpha1.SourceLabel: name}}}
	if err := c.client.Create(t.Context(), foreign); err != nil {
		t.Fatal(err)
	}
	repo.Remove("apps/gone.yaml")
	repo.Remove("apps/secret.yaml") // the last Secret: the kind leaves Git
	v2 := repo.Commit("v2", repo.alice)
	c.startController(t, t.TempDir())
	c.waitSource(t, name, "v2 applied", appliedAt(v2))
	if c.exists(t, &corev1.ConfigMap{}, ns, "gone") {
		t.Error("a ConfigMap removed from Git while the controller was down was not pruned")
	}
	if c.exists(t, &corev1.Secret{}, ns, "gone") {
		t.Error("a Secret, of a kind that left Git, was not pruned after the restart")
	}
	if !c.exists(t, &corev1.ConfigMap{}, ns, "keep") {
		t.Error("a ConfigMap still in Git was deleted")
	}
	if !c.exists(t, &corev1.ConfigMap{}, ns, "foreign") {
		t.Error("an object gitgate never applied was pruned for carrying the label")
	}
}
