package devenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"gitgate.dev/gitgate/api/v1alpha1"
)

const (
	shaA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	shaB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func source(applied, verified string, conds ...metav1.Condition) *v1alpha1.GitSource {
	return &v1alpha1.GitSource{
		ObjectMeta: metav1.ObjectMeta{Name: sourceName},
		Status: v1alpha1.GitSourceStatus{
			Conditions: conds, LastAppliedCommit: applied, LastVerifiedCommit: verified,
			Signers: []string{signerName}, Objects: 4,
		},
	}
}

func cond(t string, s metav1.ConditionStatus, reason, msg string) metav1.Condition {
	return metav1.Condition{Type: t, Status: s, Reason: reason, Message: msg}
}

func TestSourcePredicates(t *testing.T) {
	ready := cond(v1alpha1.ConditionReady, metav1.ConditionTrue, "Synced", "")
	notReady := cond(v1alpha1.ConditionReady, metav1.ConditionFalse, "VerificationFailed", "unsigned")
	verified := cond(v1alpha1.ConditionVerified, metav1.ConditionTrue, "Verified", "")
	unverified := cond(v1alpha1.ConditionVerified, metav1.ConditionFalse, "Unsigned", "commit bbbb is not signed")
	for _, tc := range []struct {
		name                               string
		gs                                 *v1alpha1.GitSource
		appliedA, refusedWant, verifiedAtA bool
	}{
		{"ready at A", source(shaA, shaA, ready, verified), true, false, true},
		{"ready at B", source(shaB, shaB, ready, verified), false, false, false},
		{"no conditions yet", source("", ""), false, false, false},
		{"refused, A kept", source(shaA, shaA, notReady, unverified), false, true, false},
		{"refused but ready", source(shaA, shaA, ready, unverified), true, true, false},
		{"verified, ledger elsewhere", source(shaA, shaB, ready, verified), true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := appliedAt(tc.gs, shaA); got != tc.appliedA {
				t.Errorf("appliedAt = %v", got)
			}
			if got := refused(tc.gs); got != tc.refusedWant {
				t.Errorf("refused = %v", got)
			}
			if got := verifiedAt(tc.gs, shaA); got != tc.verifiedAtA {
				t.Errorf("verifiedAt = %v", got)
			}
		})
	}
	got := describeSource(source(shaA, shaB, notReady, unverified))
	for _, want := range []string{"Ready=False (VerificationFailed: unsigned)", "Verified=False (Unsigned: commit bbbb is not signed)", "verified=bbbbbbbbbbbb applied=aaaaaaaaaaaa"} {
		if !strings.Contains(got, want) {
			t.Errorf("describeSource = %q, lacks %q", got, want)
		}
	}
}

func TestStateDiff(t *testing.T) {
	s := State{Replicas: 2, Greeting: "hi"}
	if d := stateDiff(s, 2, "hi"); d != "" {
		t.Fatal(d)
	}
	d := stateDiff(s, 5, "bye")
	if !strings.Contains(d, "has 5 replicas, Git says 2") || !strings.Contains(d, `has GREETING "bye", Git says "hi"`) {
		t.Fatalf("diff = %q", d)
	}
}

func TestIsDenial(t *testing.T) {
	denied := apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "web",
		errors.New(`admission webhook "namespaced.validate.gitgate.dev" denied the request: spec.replicas is 2 in Git`))
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{denied, true},
		{errors.New(`kubectl scale: exit status 1: Error from server (Forbidden): admission webhook "namespaced.validate.gitgate.dev" denied the request: x`), true},
		{apierrors.NewForbidden(schema.GroupResource{Resource: "deployments"}, "web", errors.New("RBAC: user cannot patch")), false},
		{errors.New(`admission webhook "validate.other.io" denied the request: no`), false},
		{nil, false},
	} {
		if got := isDenial(tc.err); got != tc.want {
			t.Errorf("isDenial(%v) = %v", tc.err, got)
		}
	}
}

// fakeCluster holds the demo objects as Git's state s says, and a GitSource.
func fakeCluster(t *testing.T, s State, gs *v1alpha1.GitSource, funcs interceptor.Funcs) client.WithWatch {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: demoNamespace}},
		&appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: demoNamespace, Name: webName, Generation: 1, Annotations: map[string]string{commitAnnotation: shaA}},
			Spec:       appsv1.DeploymentSpec{Replicas: ptr.To(s.Replicas)},
		},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: demoNamespace, Name: webName}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: demoNamespace, Name: configName}, Data: map[string]string{"GREETING": s.Greeting}},
	}
	if gs != nil {
		objs = append(objs, gs)
	}
	return fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).WithStatusSubresource(&v1alpha1.GitSource{}).
		WithInterceptorFuncs(funcs).Build()
}

// scaleBy answers scale patches: deny returns an error (a denial), else
// the Deployment's replicas are set, and after (when set) runs.
func scaleBy(deny error, after func(c client.Client)) interceptor.Funcs {
	return interceptor.Funcs{SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, _ ...client.SubResourcePatchOption) error {
		if sub != "scale" {
			return errors.New("unexpected subresource " + sub)
		}
		if deny != nil {
			return deny
		}
		data, err := patch.Data(obj)
		if err != nil {
			return err
		}
		var p struct {
			Spec struct {
				Replicas int32 `json:"replicas"`
			} `json:"spec"`
		}
		if err := json.Unmarshal(data, &p); err != nil {
			return err
		}
		var dep appsv1.Deployment
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), &dep); err != nil {
			return err
		}
		dep.Spec.Replicas = ptr.To(p.Spec.Replicas)
		dep.Generation++ // as the API server does on a spec change
		if err := c.Update(ctx, &dep); err != nil {
			return err
		}
		if after != nil {
			after(c)
		}
		return nil
	}}
}

func testWalkthrough(c client.Client) (*walkthrough, *strings.Builder, sayFunc) {
	var out strings.Builder
	say := func(format string, args ...any) {
		out.WriteString(strings.TrimSpace(fmt.Sprintf(format, args...)) + "\n")
	}
	return &walkthrough{admin: c, breakglass: c, timeout: 300 * time.Millisecond, poll: 5 * time.Millisecond, settle: 50 * time.Millisecond, goodState: initialState, good: shaA}, &out, say
}

func TestScaleDenied(t *testing.T) {
	denial := apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "web",
		errors.New(`admission webhook "namespaced.validate.gitgate.dev" denied the request: spec.replicas: Git has 2, the request 5`))
	for _, tc := range []struct {
		name    string
		funcs   interceptor.Funcs
		wantErr string
	}{
		{"denied", scaleBy(denial, nil), ""},
		{"admitted", scaleBy(nil, nil), "the scale was admitted"},
		{"failed otherwise", scaleBy(errors.New("connection refused"), nil), "not by gitgate's denial"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, out, say := testWalkthrough(fakeCluster(t, initialState, nil, tc.funcs))
			res, err := w.scaleDenied(t.Context(), say)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(res, "denied; web still has 2 replicas") {
				t.Errorf("result %q", res)
			}
			for _, want := range []string{"$ kubectl scale deployment web --replicas=5 -n demo\n", "denied the request: spec.replicas"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

func TestDriftReverted(t *testing.T) {
	var reverts atomic.Int32
	revertSoon := func(c client.Client) {
		go func() {
			time.Sleep(20 * time.Millisecond)
			var dep appsv1.Deployment
			if err := c.Get(context.Background(), client.ObjectKey{Namespace: demoNamespace, Name: webName}, &dep); err == nil {
				dep.Spec.Replicas = ptr.To(initialState.Replicas)
				dep.Generation++
				if c.Update(context.Background(), &dep) == nil {
					reverts.Add(1)
				}
			}
		}()
	}
	t.Run("reverted", func(t *testing.T) {
		w, out, say := testWalkthrough(fakeCluster(t, initialState, nil, scaleBy(nil, revertSoon)))
		res, err := w.driftReverted(t.Context(), say)
		if err != nil {
			t.Fatal(err)
		}
		if reverts.Load() != 1 || !strings.Contains(res, "reverted to 2 replicas (generation 1 -> 3") {
			t.Errorf("result %q after %d reverts", res, reverts.Load())
		}
		if !strings.Contains(out.String(), "--as=demo-breakglass --as-group=system:masters") {
			t.Errorf("the command shown is not the exempt user's:\n%s", out)
		}
	})
	t.Run("never reverted", func(t *testing.T) {
		w, _, say := testWalkthrough(fakeCluster(t, initialState, nil, scaleBy(nil, nil)))
		_, err := w.driftReverted(t.Context(), say)
		if err == nil || !strings.Contains(err.Error(), "last seen: 5 replicas") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("exempt edit denied", func(t *testing.T) {
		w, _, say := testWalkthrough(fakeCluster(t, initialState, nil, scaleBy(errors.New(deniedMarker), nil)))
		if _, err := w.driftReverted(t.Context(), say); err == nil || !strings.Contains(err.Error(), "not admitted") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestSyncStep(t *testing.T) {
	r := newTestRepo(t)
	head, err := r.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ready := cond(v1alpha1.ConditionReady, metav1.ConditionTrue, "Synced", "")
	t.Run("ready", func(t *testing.T) {
		w, out, say := testWalkthrough(fakeCluster(t, initialState, source(head, head, ready), interceptor.Funcs{}))
		w.repo, w.good = r, ""
		res, err := w.sync(t.Context(), say)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(res, "Ready at "+short(head)+", signed by demo, 4 objects") || w.good != head {
			t.Errorf("result %q, good %s", res, w.good)
		}
		if !strings.Contains(out.String(), "stamped gitgate.dev/commit=") {
			t.Errorf("output:\n%s", out)
		}
	})
	t.Run("ready at another commit", func(t *testing.T) {
		w, _, say := testWalkthrough(fakeCluster(t, initialState, source(shaB, shaB, ready), interceptor.Funcs{}))
		w.repo = r
		if _, err := w.sync(t.Context(), say); err == nil || !strings.Contains(err.Error(), "applied=bbbbbbbbbbbb") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("objects differ from Git", func(t *testing.T) {
		w, _, say := testWalkthrough(fakeCluster(t, State{Replicas: 7, Greeting: initialState.Greeting}, source(head, head, ready), interceptor.Funcs{}))
		w.repo = r
		if _, err := w.sync(t.Context(), say); err == nil || !strings.Contains(err.Error(), "has 7 replicas, Git says 2") {
			t.Fatalf("err = %v", err)
		}
	})
}
