package devenv

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"gitgate.dev/gitgate/api/v1alpha1"
)

// fakeSyncer plays the reconciler's visible part for the commit steps:
// it reads the demo repository's head and, when the head is signed (or
// applyUnsigned is set), applies its replicas and greeting and reports it
// Ready; otherwise it reports Verified=False and keeps what it applied.
type fakeSyncer struct {
	c             client.Client
	r             *DemoRepo
	applyUnsigned bool
	// leak applies an unsigned head's objects although it reports the
	// head refused (a reconciler bug the step must catch).
	leak bool
}

var (
	replicasRE = regexp.MustCompile(`(?m)^  replicas: (\d+)$`)
	greetingRE = regexp.MustCompile(`(?m)^  GREETING: "(.*)"$`)
)

func (f *fakeSyncer) run(ctx context.Context, t *testing.T) {
	for ctx.Err() == nil {
		f.sync(ctx, t)
		time.Sleep(5 * time.Millisecond)
	}
}

func (f *fakeSyncer) sync(ctx context.Context, t *testing.T) {
	head, err := f.r.Head(ctx)
	if err != nil {
		return
	}
	raw, err := f.r.git(ctx, "cat-file", "commit", head)
	if err != nil {
		return
	}
	var gs v1alpha1.GitSource
	if err := f.c.Get(ctx, client.ObjectKey{Name: sourceName}, &gs); err != nil {
		return
	}
	signed := strings.Contains(raw, "\ngpgsig ")
	if !signed && !f.applyUnsigned {
		meta.SetStatusCondition(&gs.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionVerified, Status: metav1.ConditionFalse, Reason: "VerificationFailed", Message: "commit is not signed"})
		meta.SetStatusCondition(&gs.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: "VerificationFailed", Message: "not verified"})
		_ = f.c.Status().Update(ctx, &gs)
		if f.leak {
			f.applyObjects(ctx, t, head)
		}
		return
	}
	f.applyObjects(ctx, t, head)
	gs.Status.LastAppliedCommit, gs.Status.LastVerifiedCommit = head, head
	for _, typ := range []string{v1alpha1.ConditionVerified, v1alpha1.ConditionReady} {
		meta.SetStatusCondition(&gs.Status.Conditions, metav1.Condition{Type: typ, Status: metav1.ConditionTrue, Reason: "Succeeded", Message: "ok"})
	}
	_ = f.c.Status().Update(ctx, &gs)
}

// applyObjects sets the Deployment's replicas and the ConfigMap's
// greeting to what commit head declares.
func (f *fakeSyncer) applyObjects(ctx context.Context, t *testing.T, head string) {
	dep, err := f.r.git(ctx, "show", head+":demo/deployment.yaml")
	if err != nil {
		return // the test is ending (ctx cancelled)
	}
	cmYAML, err := f.r.git(ctx, "show", head+":demo/configmap.yaml")
	if err != nil {
		return
	}
	m, g := replicasRE.FindStringSubmatch(dep), greetingRE.FindStringSubmatch(cmYAML)
	if m == nil || g == nil {
		t.Errorf("fake syncer cannot read the manifests of %s", head)
		return
	}
	n, _ := strconv.Atoi(m[1])
	var d appsv1.Deployment
	if f.c.Get(ctx, client.ObjectKey{Namespace: demoNamespace, Name: webName}, &d) == nil && *d.Spec.Replicas != int32(n) {
		d.Spec.Replicas = ptr.To(int32(n))
		_ = f.c.Update(ctx, &d)
	}
	var cm corev1.ConfigMap
	if f.c.Get(ctx, client.ObjectKey{Namespace: demoNamespace, Name: configName}, &cm) == nil && cm.Data["GREETING"] != g[1] {
		cm.Data["GREETING"] = g[1]
		_ = f.c.Update(ctx, &cm)
	}
}

// commitWalkthrough is a walkthrough after a sync at the repository's
// head, with a fake syncer running beside it.
func commitWalkthrough(t *testing.T, f fakeSyncer) (*walkthrough, sayFunc) {
	t.Helper()
	r := newTestRepo(t)
	head, err := r.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ready := cond(v1alpha1.ConditionReady, metav1.ConditionTrue, "Succeeded", "")
	verified := cond(v1alpha1.ConditionVerified, metav1.ConditionTrue, "Succeeded", "")
	c := fakeCluster(t, initialState, source(head, head, ready, verified), interceptor.Funcs{})
	w, _, say := testWalkthrough(c)
	w.repo, w.good, w.timeout = r, head, 5*time.Second
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.c, f.r = c, r
		f.run(ctx, t)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return w, say
}

func TestCommitSteps(t *testing.T) {
	t.Run("signed applied, unsigned refused and undone", func(t *testing.T) {
		w, say := commitWalkthrough(t, fakeSyncer{})
		res, err := w.signedCommit(t.Context(), say)
		if err != nil {
			t.Fatal(err)
		}
		if w.goodState.Replicas != 3 || !strings.Contains(res, "web has 3 replicas") {
			t.Fatalf("result %q, good state %+v", res, w.goodState)
		}
		good := w.good
		res, err = w.unsignedCommit(t.Context(), say)
		if err != nil {
			t.Fatal(err)
		}
		head, err := w.repo.Head(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if head != good || w.good != good || !strings.Contains(res, "main reset to "+short(good)) {
			t.Fatalf("head %s, good %s, result %q", head, good, res)
		}
	})
	t.Run("an unsigned commit that reaches the cluster fails the step", func(t *testing.T) {
		w, say := commitWalkthrough(t, fakeSyncer{applyUnsigned: true})
		w.timeout = 500 * time.Millisecond
		if _, err := w.unsignedCommit(t.Context(), say); err == nil || !strings.Contains(err.Error(), "Verified=False: not within") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a refused commit whose objects leak into the cluster fails the step", func(t *testing.T) {
		w, say := commitWalkthrough(t, fakeSyncer{leak: true})
		_, err := w.unsignedCommit(t.Context(), say)
		if err == nil || !strings.Contains(err.Error(), "the cluster left the last good state") {
			t.Fatalf("err = %v", err)
		}
	})
}
