package e2ereconcile

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/provenance/gittest"
	"gitgate.dev/gitgate/provenance/index"
)

func deploymentYAML(ns string, replicas int, extra string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: %s
spec:
  replicas: %d
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
%s`, ns, replicas, extra)
}

func configMapYAML(ns, name, value string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\ndata:\n  value: %q\n", name, ns, value)
}

// shopRepo writes the shop application: a Namespace, a Deployment, a
// Service and two ConfigMaps.
func shopRepo(t *testing.T, ns string) *signedRepo {
	t.Helper()
	r := newSignedRepo(t)
	r.WriteFile("apps/namespace.yaml", fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", ns))
	r.WriteFile("apps/deployment.yaml", deploymentYAML(ns, 1, ""))
	r.WriteFile("apps/service.yaml", fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: %s
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
`, ns))
	r.WriteFile("apps/config.yaml", configMapYAML(ns, "web-config", "v1"))
	r.WriteFile("apps/extra.yaml", configMapYAML(ns, "extra", "v1"))
	r.WriteFile("README.md", "# shop\n")
	return r
}

func (c *cluster) replicas(t *testing.T, ns string) int32 {
	t.Helper()
	var d appsv1.Deployment
	if err := c.client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "web"}, &d); err != nil {
		t.Fatal(err)
	}
	return *d.Spec.Replicas
}

func (c *cluster) exists(t *testing.T, obj client.Object, ns, name string) bool {
	t.Helper()
	err := c.client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, obj)
	if apierrors.IsNotFound(err) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// TestSignedSourceLifecycle is issue 5's acceptance list for the sync: a
// signed repository applied whole, an update with a prune, and every kind of
// commit that must not reach the cluster, including after a restart of the
// controller. The subtests run in order on one repository.
func TestSignedSourceLifecycle(t *testing.T) {
	c := newCluster(t)
	const ns, name = "lifecycle", "lifecycle"
	repo := shopRepo(t, ns)
	v1 := repo.Commit("shop v1", repo.alice)
	cache := t.TempDir()
	ctl := c.startController(t, cache)
	c.createSource(t, name, repo, nil)

	// good is the last commit the cluster should be at.
	good := v1
	// refused commits a change that must be refused and checks that the
	// cluster stays at the last good commit, then puts main back.
	refused := func(t *testing.T, reason, part string, commit func() string) {
		t.Helper()
		bad := commit()
		ctl.rec.Trigger(name)
		gs := c.waitSource(t, name, "Verified=False for "+short(bad), conditionIs(v1alpha1.ConditionVerified, metav1.ConditionFalse, reason, part))
		if gs.Status.LastAppliedCommit != good || gs.Status.LastVerifiedCommit != good {
			t.Errorf("status moved off the last good commit %s: applied %s, verified %s", short(good), gs.Status.LastAppliedCommit, gs.Status.LastVerifiedCommit)
		}
		if meta := gs.Status.Conditions; !slices.ContainsFunc(meta, func(c metav1.Condition) bool {
			return c.Type == v1alpha1.ConditionReady && c.Status == metav1.ConditionFalse && c.Reason == reason
		}) {
			t.Errorf("Ready is not False/%s", reason)
		}
		if got := c.replicas(t, ns); got != 3 {
			t.Errorf("replicas %d after a refused commit, want the last good 3", got)
		}
		if e, _ := ctl.store.Source(name).Lookup(index.Key{Group: "apps", Kind: "Deployment", Namespace: ns, Name: "web"}); e.Origin.Commit != good {
			t.Errorf("published Index is from %s, want the last good %s", e.Origin.Commit, short(good))
		}
		c.waitEvent(t, name, corev1.EventTypeWarning, reason, short(bad))
	}
	restore := func(t *testing.T) {
		t.Helper()
		repo.Run("reset", "-q", "--hard", good)
		ctl.rec.Trigger(name)
		c.waitSource(t, name, "Ready again at "+short(good), func(gs *v1alpha1.GitSource) bool {
			return appliedAt(good)(gs) && conditionIs(v1alpha1.ConditionVerified, metav1.ConditionTrue, "Succeeded", short(good))(gs)
		})
	}

	t.Run("applied", func(t *testing.T) {
		gs := c.waitSource(t, name, "the first commit applied", appliedAt(v1))
		if !slices.Equal(gs.Status.Signers, []string{"alice"}) || gs.Status.Objects != 5 || gs.Status.LastVerifiedCommit != v1 {
			t.Errorf("status: signers %v, objects %d, verified %s; want [alice], 5, %s", gs.Status.Signers, gs.Status.Objects, gs.Status.LastVerifiedCommit, short(v1))
		}
		for _, obj := range []struct {
			o    client.Object
			name string
		}{{&appsv1.Deployment{}, "web"}, {&corev1.Service{}, "web"}, {&corev1.ConfigMap{}, "web-config"}, {&corev1.ConfigMap{}, "extra"}} {
			if !c.exists(t, obj.o, ns, obj.name) {
				t.Fatalf("%T %s was not applied", obj.o, obj.name)
			}
			if got := obj.o.GetLabels()[v1alpha1.SourceLabel]; got != name {
				t.Errorf("%T %s has source label %q, want %q", obj.o, obj.name, got, name)
			}
			if !slices.ContainsFunc(obj.o.GetManagedFields(), func(f metav1.ManagedFieldsEntry) bool {
				return f.Manager == "gitgate" && f.Operation == metav1.ManagedFieldsOperationApply
			}) {
				t.Errorf("%T %s was not server-side applied by field manager gitgate", obj.o, obj.name)
			}
		}
		if !c.exists(t, &corev1.Namespace{}, "", ns) {
			t.Error("the Namespace was not applied")
		}
		pub, ok := ctl.pub.get(name)
		if !ok || pub.Repository != repo.url() || pub.Policy != nil {
			t.Errorf("published %+v, want the repository and no policy", pub)
		}
		if !ctl.rec.Ready() {
			t.Error("Ready() is false with every source published")
		}
		c.waitEvent(t, name, corev1.EventTypeNormal, "Synced", short(v1))
	})
	if t.Failed() {
		t.FailNow()
	}

	t.Run("printer-columns", func(t *testing.T) {
		out, err := c.env.KubectlCmd(t.Context(), "get", "gitsources", name).CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl get gitsources: %v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != 2 {
			t.Fatalf("kubectl output:\n%s", out)
		}
		header, row := strings.Fields(lines[0]), strings.Fields(lines[1])
		want := []string{"NAME", "READY", "COMMIT", "SIGNERS", "OBJECTS", "DRIFTED", "AGE"}
		if !slices.Equal(header, want) || len(row) != len(want) {
			t.Fatalf("kubectl output:\n%s", out)
		}
		for i, wantValue := range []string{name, "True", v1, `["alice"]`, "5", "0"} {
			if row[i] != wantValue {
				t.Errorf("column %s = %q, want %q\n%s", header[i], row[i], wantValue, out)
			}
		}
	})

	t.Run("update-and-prune", func(t *testing.T) {
		repo.WriteFile("apps/deployment.yaml", deploymentYAML(ns, 3, ""))
		repo.Remove("apps/extra.yaml")
		v2 := repo.Commit("three replicas, no extra", repo.bob)
		ctl.rec.Trigger(name)
		gs := c.waitSource(t, name, "the second commit applied", appliedAt(v2))
		if got := c.replicas(t, ns); got != 3 {
			t.Errorf("replicas %d, want 3", got)
		}
		if c.exists(t, &corev1.ConfigMap{}, ns, "extra") {
			t.Error("the ConfigMap removed from Git was not pruned")
		}
		if !c.exists(t, &corev1.ConfigMap{}, ns, "web-config") {
			t.Error("a ConfigMap still in Git was deleted")
		}
		if !slices.Equal(gs.Status.Signers, []string{"bob"}) || gs.Status.Objects != 4 {
			t.Errorf("signers %v objects %d, want [bob] and 4", gs.Status.Signers, gs.Status.Objects)
		}
		c.waitEvent(t, name, corev1.EventTypeNormal, "Pruned", "deleted 1 objects")
		good = v2
	})
	if t.Failed() {
		t.FailNow()
	}

	t.Run("unsigned-commit", func(t *testing.T) {
		refused(t, "VerificationFailed", "not signed", func() string {
			repo.WriteFile("apps/deployment.yaml", deploymentYAML(ns, 7, ""))
			return repo.Commit("unsigned", nil)
		})
		restore(t)
	})

	t.Run("untrusted-signer", func(t *testing.T) {
		mallory := gittest.NewSSHSigner(t, "mallory")
		refused(t, "VerificationFailed", "not verified", func() string {
			repo.WriteFile("apps/deployment.yaml", deploymentYAML(ns, 7, ""))
			return repo.Commit("mallory", mallory)
		})
		restore(t)
	})

	t.Run("trust-policy-change-by-unauthorized-signer", func(t *testing.T) {
		refused(t, "VerificationFailed", "may not change .gitgate/trust.yaml", func() string {
			policy := repo.Run("show", "HEAD:.gitgate/trust.yaml") + "\n"
			repo.WriteFile(".gitgate/trust.yaml", strings.Replace(policy, "signers: [alice]", "signers: [alice, bob]", 1))
			return repo.Commit("bob makes himself an admin", repo.bob)
		})
		restore(t)
	})

	t.Run("force-push-rewind", func(t *testing.T) {
		refused(t, "VerificationFailed", "rewound", func() string {
			repo.Run("reset", "-q", "--hard", v1)
			return v1
		})
	})

	t.Run("restart-keeps-ledger", func(t *testing.T) {
		// restart starts a new process, with its clone cache in cacheDir,
		// and waits for its first sync; the only memory it shares with the
		// old one is the GitSource's status (and the cache, if the same).
		restart := func(t *testing.T, cacheDir string) *v1alpha1.GitSource {
			t.Helper()
			ctl.stop(t)
			before := c.source(t, name).Status.LastSyncTime
			ctl = c.startController(t, cacheDir)
			gs := c.waitSource(t, name, "a sync by the new process", func(gs *v1alpha1.GitSource) bool {
				return gs.Status.LastSyncTime != nil && (before == nil || gs.Status.LastSyncTime.After(before.Time))
			})
			if !conditionIs(v1alpha1.ConditionVerified, metav1.ConditionFalse, "VerificationFailed", "rewound")(gs) {
				t.Fatalf("the restarted controller accepted the rewound branch:\n%s", describeStatus(gs))
			}
			if gs.Status.LastAppliedCommit != good || gs.Status.LastVerifiedCommit != good || c.replicas(t, ns) != 3 ||
				!c.exists(t, &corev1.ConfigMap{}, ns, "web-config") || c.exists(t, &corev1.ConfigMap{}, ns, "extra") {
				t.Errorf("the cluster or the ledger left the last good state after the restart:\n%s", describeStatus(gs))
			}
			return gs
		}

		// A new pod: its fresh clone of the rewound branch does not hold
		// the last applied commit, so there is no Index to answer
		// admission with, and the replica stays unready (fail closed).
		restart(t, t.TempDir())
		if ix := ctl.store.Source(name); ix != nil {
			t.Errorf("the new process published %d objects without the last applied commit", ix.Len())
		}
		if ctl.rec.Ready() {
			t.Error("Ready with an applied source and no Index")
		}

		// A restarted container with its clone cache: the Index of the
		// last applied commit is published again, nothing is applied, and
		// the replica is ready.
		gs := restart(t, cache)
		ix := ctl.store.Source(name)
		if ix == nil || ix.Len() != gs.Status.Objects {
			t.Fatalf("restored Index %v, want the %d objects of %s", ix, gs.Status.Objects, short(good))
		}
		for e := range ix.All() {
			if e.Origin.Commit != good || !slices.Equal(e.Origin.Signers, gs.Status.Signers) || e.Object.GetLabels()[v1alpha1.SourceLabel] != name {
				t.Errorf("%s: origin %+v labels %v, want commit %s signed by %v with the source label", e.Key, e.Origin, e.Object.GetLabels(), short(good), gs.Status.Signers)
			}
		}
		if pub, ok := ctl.pub.get(name); !ok || pub.Repository != repo.url() {
			t.Errorf("published %+v, want the source handed to admission", pub)
		}
		if !ctl.rec.Ready() {
			t.Error("Ready is false with the last applied commit published")
		}
		if v := c.source(t, name).Status; !conditionIs(v1alpha1.ConditionReady, metav1.ConditionFalse, "VerificationFailed")(&v1alpha1.GitSource{Status: v}) {
			t.Errorf("Ready condition does not report the refused head:\n%s", describeStatus(&v1alpha1.GitSource{Status: v}))
		}
		restore(t)
	})
}

// TestPolicyViolation: a commit that violates an enabled library policy is
// not applied, PolicyPassed=False carries the policy's message, and the last
// good Index stays published with its engine.
func TestPolicyViolation(t *testing.T) {
	c := newCluster(t)
	const ns, name = "policy", "policy"
	repo := newSignedRepo(t)
	repo.WriteFile("namespace.yaml", fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", ns))
	repo.WriteFile("apps/deployment.yaml", deploymentYAML(ns, 1, ""))
	good := repo.Commit("web", repo.alice)
	ctl := c.startController(t, t.TempDir())
	c.createSource(t, name, repo, func(gs *v1alpha1.GitSource) {
		gs.Spec.Policy = &v1alpha1.PolicySpec{Library: []string{"pss/baseline"}}
		gs.Spec.Scope.Kinds = []string{"Deployment.apps", "ConfigMap"}
		gs.Spec.Scope.Namespaces = []string{ns}
	})
	c.waitSource(t, name, "the compliant commit applied", appliedAt(good))
	pub, ok := ctl.pub.get(name)
	if !ok || pub.Policy == nil || !slices.Equal(pub.Namespaces, []string{ns}) ||
		!slices.Equal(pub.Kinds, []schema.GroupKind{{Group: "apps", Kind: "Deployment"}, {Kind: "ConfigMap"}}) {
		t.Fatalf("published %+v, want the engine and the scope", pub)
	}

	repo.WriteFile("apps/deployment.yaml", deploymentYAML(ns, 1, "        securityContext:\n          privileged: true\n"))
	bad := repo.Commit("privileged", repo.alice)
	ctl.rec.Trigger(name)
	gs := c.waitSource(t, name, "PolicyPassed=False", conditionIs(v1alpha1.ConditionPolicyPassed, metav1.ConditionFalse, "PolicyDenied",
		short(bad), "Deployment.apps policy/web (apps/deployment.yaml)", "privileged"))
	if gs.Status.LastAppliedCommit != good {
		t.Errorf("lastAppliedCommit %s, want the last good %s", short(gs.Status.LastAppliedCommit), short(good))
	}
	if !conditionIs(v1alpha1.ConditionVerified, metav1.ConditionTrue, "Succeeded", short(bad))(gs) {
		t.Errorf("the denied commit is not reported as verified:\n%s", describeStatus(gs))
	}
	var d appsv1.Deployment
	if err := c.client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "web"}, &d); err != nil {
		t.Fatal(err)
	}
	if sc := d.Spec.Template.Spec.Containers[0].SecurityContext; sc != nil && sc.Privileged != nil {
		t.Error("the denied commit's privileged container was applied")
	}
	if e, _ := ctl.store.Source(name).Lookup(index.Key{Group: "apps", Kind: "Deployment", Namespace: ns, Name: "web"}); e.Origin.Commit != good {
		t.Errorf("published Index is from %s, want the last good %s", e.Origin.Commit, short(good))
	}
	c.waitEvent(t, name, corev1.EventTypeWarning, "PolicyDenied", "privileged")
}
