package devenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gitgate.dev/gitgate/api/v1alpha1"
)

// Identities of the walkthrough.
const (
	// breakglassUser is configured as exempt from admission: an operator's
	// emergency access, whose edits gitgate does not block but reverts.
	breakglassUser = "demo-breakglass"
	// breakglassGroup gives the impersonated user the rights to edit.
	breakglassGroup = "system:masters"
	// sourceName is the demo GitSource.
	sourceName = "demo"
	// commitAnnotation is the provenance stamp of the mutating webhook.
	commitAnnotation = "gitgate.dev/commit"
	// deniedMarker is in every denial of gitgate's validating webhooks
	// (namespaced.validate.gitgate.dev and cluster.validate.gitgate.dev).
	deniedMarker = `validate.gitgate.dev" denied the request`
)

// walkthrough drives the demo's steps against the cluster and the demo
// repository; gitgate itself (webhook and reconciler) runs beside it.
type walkthrough struct {
	admin      client.Client // the cluster admin, as the user's kubeconfig
	breakglass client.Client // the admin impersonating breakglassUser
	repo       *DemoRepo
	kubectl    *kubectl // nil: requests go through client-go instead
	timeout    time.Duration
	poll       time.Duration
	// settle is how long a refusal must hold: one sync interval.
	settle time.Duration

	// good is the last commit the cluster holds, with its state.
	good      string
	goodState State
}

// steps are the walkthrough of the issue: sync, a denied scale, a reverted
// break-glass edit, a signed commit applied, an unsigned one refused and
// undone.
func (w *walkthrough) steps() []step {
	return []step{
		{"Sync: gitgate verifies the signed commits and applies them", w.sync},
		{"A direct change is denied by the admission webhook", w.scaleDenied},
		{"An exempt (break-glass) edit is admitted, and reverted as drift", w.driftReverted},
		{"A new signed commit reaches the cluster", w.signedCommit},
		{"An unsigned commit is refused; the cluster keeps the last good state", w.unsignedCommit},
	}
}

func (w *walkthrough) sync(ctx context.Context, say sayFunc) (string, error) {
	head, err := w.repo.Head(ctx)
	if err != nil {
		return "", err
	}
	say("GitSource %s pulls %s (branch main, trust root %s)", sourceName, w.repo.Dir, short(w.repo.TrustRoot))
	start := time.Now()
	gs, err := w.waitSource(ctx, "GitSource "+sourceName+" Ready at "+short(head), func(gs *v1alpha1.GitSource) bool {
		return appliedAt(gs, head)
	})
	if err != nil {
		return "", err
	}
	took := time.Since(start)
	if err := w.waitState(ctx, initialState); err != nil {
		return "", err
	}
	var dep appsv1.Deployment
	if err := w.admin.Get(ctx, client.ObjectKey{Namespace: demoNamespace, Name: webName}, &dep); err != nil {
		return "", fmt.Errorf("get deployment: %w", err)
	}
	say("applied: namespace/%s, deployment.apps/%s (%d replicas), service/%s, configmap/%s",
		demoNamespace, webName, initialState.Replicas, webName, configName)
	if stamp := dep.Annotations[commitAnnotation]; stamp != "" {
		say("deployment.apps/%s is stamped %s=%s by the mutating webhook", webName, commitAnnotation, stamp)
	}
	w.good, w.goodState = head, initialState
	return fmt.Sprintf("GitSource %s Ready at %s, signed by %s, %d objects, in %s",
		sourceName, short(head), strings.Join(gs.Status.Signers, ", "), gs.Status.Objects, took.Round(100*time.Millisecond)), nil
}

func (w *walkthrough) scaleDenied(ctx context.Context, say sayFunc) (string, error) {
	res := w.scale(ctx, say, "", w.goodState.Replicas+3)
	if res.err == nil {
		return "", fmt.Errorf("the scale was admitted: %s", res.output)
	}
	if !isDenial(res.err) {
		return "", fmt.Errorf("the scale failed, but not by gitgate's denial: %w", res.err)
	}
	if err := w.checkState(ctx, w.goodState); err != nil {
		return "", fmt.Errorf("after the denial: %w", err)
	}
	return fmt.Sprintf("denied; %s still has %d replicas", webName, w.goodState.Replicas), nil
}

func (w *walkthrough) driftReverted(ctx context.Context, say sayFunc) (string, error) {
	before, err := w.deployment(ctx)
	if err != nil {
		return "", err
	}
	drifted := w.goodState.Replicas + 3
	res := w.scale(ctx, say, breakglassUser, drifted)
	if res.err != nil {
		return "", fmt.Errorf("the exempt user's scale was not admitted: %w", res.err)
	}
	edited := time.Now()
	say("admitted: %s is exempt (--exempt-users); gitgate sees the drift from Git and puts it back", breakglassUser)
	// The revert can land before the first look, so the generation is the
	// proof that both writes happened: the edit and gitgate's revert each
	// change the spec.
	var after *appsv1.Deployment
	err = waitFor(ctx, w.timeout, 20*time.Millisecond, "deployment "+webName+" back at "+strconv.Itoa(int(w.goodState.Replicas))+" replicas",
		func(ctx context.Context) (bool, string, error) {
			dep, err := w.deployment(ctx)
			if err != nil {
				return false, "", err
			}
			after = dep
			n := replicasOf(dep)
			return n == w.goodState.Replicas && dep.Generation >= before.Generation+2,
				fmt.Sprintf("%d replicas, generation %d (was %d)", n, dep.Generation, before.Generation), nil
		})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("reverted to %d replicas (generation %d -> %d: the edit, then gitgate's revert), seen %s after kubectl returned",
		w.goodState.Replicas, before.Generation, after.Generation, time.Since(edited).Round(time.Millisecond)), nil
}

func (w *walkthrough) signedCommit(ctx context.Context, say sayFunc) (string, error) {
	next := State{Replicas: w.goodState.Replicas + 1, Greeting: "hello from the second signed commit"}
	if err := w.repo.WriteState(next); err != nil {
		return "", err
	}
	sha, err := w.repo.Commit(ctx, "Scale web to "+strconv.Itoa(int(next.Replicas))+" and change the greeting", true)
	if err != nil {
		return "", err
	}
	say("$ git commit -S -am 'Scale web to %d and change the greeting'   # in %s", next.Replicas, w.repo.Dir)
	say("commit %s, signed with %s", short(sha), w.repo.Key)
	start := time.Now()
	if _, err := w.waitSource(ctx, "GitSource "+sourceName+" Ready at "+short(sha), func(gs *v1alpha1.GitSource) bool {
		return appliedAt(gs, sha)
	}); err != nil {
		return "", err
	}
	if err := w.waitState(ctx, next); err != nil {
		return "", err
	}
	w.good, w.goodState = sha, next
	return fmt.Sprintf("applied %s in %s: %s has %d replicas, %s says %q",
		short(sha), time.Since(start).Round(100*time.Millisecond), webName, next.Replicas, configName, next.Greeting), nil
}

func (w *walkthrough) unsignedCommit(ctx context.Context, say sayFunc) (string, error) {
	bad := State{Replicas: w.goodState.Replicas + 5, Greeting: "hello from an unsigned commit"}
	if err := w.repo.WriteState(bad); err != nil {
		return "", err
	}
	sha, err := w.repo.Commit(ctx, "Unsigned: scale web to "+strconv.Itoa(int(bad.Replicas)), false)
	if err != nil {
		return "", err
	}
	say("$ git commit --no-gpg-sign -am 'Unsigned: scale web to %d'", bad.Replicas)
	gs, err := w.waitSource(ctx, "GitSource "+sourceName+" Verified=False", refused)
	if err != nil {
		return "", err
	}
	if c := meta.FindStatusCondition(gs.Status.Conditions, v1alpha1.ConditionVerified); c != nil {
		say("GitSource %s: Verified=False %s: %s", sourceName, c.Reason, c.Message)
	}
	if err := w.keepsGoodState(ctx); err != nil {
		return "", err
	}
	say("the cluster keeps %s: %s has %d replicas, not %d (checked again %s later)", short(w.good), webName, w.goodState.Replicas, bad.Replicas, w.settle)

	if err := w.repo.ResetHard(ctx, w.good); err != nil {
		return "", err
	}
	say("$ git reset --hard %s   # main back to the last verified commit", short(w.good))
	if _, err := w.waitSource(ctx, "GitSource "+sourceName+" Ready and Verified again", func(gs *v1alpha1.GitSource) bool {
		return verifiedAt(gs, w.good)
	}); err != nil {
		return "", err
	}
	return fmt.Sprintf("refused %s; main reset to %s; GitSource %s Ready again", short(sha), short(w.good), sourceName), nil
}

// keepsGoodState checks that the GitSource still applies the last good
// commit and the objects still hold its state, now and once more a sync
// interval later: a refusal must hold, not only be reported.
func (w *walkthrough) keepsGoodState(ctx context.Context) error {
	for i := range 2 {
		if i > 0 {
			select {
			case <-ctx.Done():
				return context.Cause(ctx)
			case <-time.After(w.settle):
			}
		}
		var gs v1alpha1.GitSource
		if err := w.admin.Get(ctx, client.ObjectKey{Name: sourceName}, &gs); err != nil {
			return fmt.Errorf("get GitSource: %w", err)
		}
		if gs.Status.LastAppliedCommit != w.good {
			return fmt.Errorf("the applied commit moved to %s, want %s", short(gs.Status.LastAppliedCommit), short(w.good))
		}
		if err := w.checkState(ctx, w.goodState); err != nil {
			return fmt.Errorf("the cluster left the last good state: %w", err)
		}
	}
	return nil
}

// scaleResult is the outcome of a scale request: what kubectl (or
// client-go) printed, and the error the API server returned.
type scaleResult struct {
	output string
	err    error
}

// scale does what `kubectl scale deployment web --replicas=n -n demo` does
// (as user when set), with the kubectl binary when there is one and
// otherwise with the same request through client-go: a merge patch of the
// deployment's scale subresource.
func (w *walkthrough) scale(ctx context.Context, say sayFunc, user string, n int32) scaleResult {
	args := []string{"scale", "deployment", webName, "--replicas=" + strconv.Itoa(int(n)), "-n", demoNamespace}
	if user != "" {
		args = append(args, "--as="+user, "--as-group="+breakglassGroup)
	}
	say("$ kubectl %s", strings.Join(args, " "))
	if w.kubectl != nil {
		out, err := w.kubectl.run(ctx, args...)
		if out != "" {
			say("%s", out)
		}
		return scaleResult{output: out, err: err}
	}
	c := w.admin
	if user != "" {
		c = w.breakglass
	}
	say("(no kubectl beside the control plane: the same PATCH of deployments/%s/scale through client-go)", webName)
	scale := &autoscalingv1.Scale{}
	patch := client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, n))
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: demoNamespace, Name: webName}}
	if err := c.SubResource("scale").Patch(ctx, dep, patch, client.WithSubResourceBody(scale)); err != nil {
		say("Error from server: %v", err)
		return scaleResult{err: err}
	}
	out := fmt.Sprintf("deployment.apps/%s scaled", webName)
	say("%s", out)
	return scaleResult{output: out}
}

// isDenial reports whether err is a denial by gitgate's validating webhook.
func isDenial(err error) bool {
	return err != nil && strings.Contains(err.Error(), deniedMarker)
}

// waitSource waits until the GitSource satisfies ok and returns it.
func (w *walkthrough) waitSource(ctx context.Context, what string, ok func(*v1alpha1.GitSource) bool) (*v1alpha1.GitSource, error) {
	var gs v1alpha1.GitSource
	err := waitFor(ctx, w.timeout, w.poll, what, func(ctx context.Context) (bool, string, error) {
		if err := w.admin.Get(ctx, client.ObjectKey{Name: sourceName}, &gs); err != nil {
			return false, "", fmt.Errorf("get GitSource: %w", err)
		}
		return ok(&gs), describeSource(&gs), nil
	})
	if err != nil {
		return nil, err
	}
	return &gs, nil
}

// waitState waits until the cluster holds s (the reconciler applies after
// it sets status in some orders; the objects are what counts).
func (w *walkthrough) waitState(ctx context.Context, s State) error {
	return waitFor(ctx, w.timeout, w.poll, "the objects of the commit in the cluster", func(ctx context.Context) (bool, string, error) {
		replicas, greeting, err := w.observe(ctx)
		if err != nil {
			return false, "", err
		}
		diff := stateDiff(s, replicas, greeting)
		return diff == "", diff, nil
	})
}

// checkState fails when the live demo objects differ from s.
func (w *walkthrough) checkState(ctx context.Context, s State) error {
	replicas, greeting, err := w.observe(ctx)
	if err != nil {
		return err
	}
	if diff := stateDiff(s, replicas, greeting); diff != "" {
		return errors.New(diff)
	}
	return nil
}

// observe reads what State describes from the live objects, and checks
// that the Service is there.
func (w *walkthrough) observe(ctx context.Context) (replicas int32, greeting string, err error) {
	if replicas, err = w.replicas(ctx); err != nil {
		return 0, "", err
	}
	var cm corev1.ConfigMap
	if err := w.admin.Get(ctx, client.ObjectKey{Namespace: demoNamespace, Name: configName}, &cm); err != nil {
		return 0, "", fmt.Errorf("get configmap %s: %w", configName, err)
	}
	var svc corev1.Service
	if err := w.admin.Get(ctx, client.ObjectKey{Namespace: demoNamespace, Name: webName}, &svc); err != nil {
		return 0, "", fmt.Errorf("get service %s: %w", webName, err)
	}
	return replicas, cm.Data["GREETING"], nil
}

// stateDiff says how the observed replicas and greeting differ from s;
// empty when they do not.
func stateDiff(s State, replicas int32, greeting string) string {
	var diffs []string
	if replicas != s.Replicas {
		diffs = append(diffs, fmt.Sprintf("deployment %s has %d replicas, Git says %d", webName, replicas, s.Replicas))
	}
	if greeting != s.Greeting {
		diffs = append(diffs, fmt.Sprintf("configmap %s has GREETING %q, Git says %q", configName, greeting, s.Greeting))
	}
	return strings.Join(diffs, "; ")
}

func (w *walkthrough) replicas(ctx context.Context) (int32, error) {
	dep, err := w.deployment(ctx)
	if err != nil {
		return 0, err
	}
	return replicasOf(dep), nil
}

func (w *walkthrough) deployment(ctx context.Context) (*appsv1.Deployment, error) {
	var dep appsv1.Deployment
	if err := w.admin.Get(ctx, client.ObjectKey{Namespace: demoNamespace, Name: webName}, &dep); err != nil {
		return nil, fmt.Errorf("get deployment %s: %w", webName, err)
	}
	return &dep, nil
}

// replicasOf is spec.replicas, defaulted as the API server does.
func replicasOf(dep *appsv1.Deployment) int32 {
	if dep.Spec.Replicas == nil {
		return 1
	}
	return *dep.Spec.Replicas
}

// appliedAt reports whether gs is Ready with commit applied.
func appliedAt(gs *v1alpha1.GitSource, commit string) bool {
	return meta.IsStatusConditionTrue(gs.Status.Conditions, v1alpha1.ConditionReady) && gs.Status.LastAppliedCommit == commit
}

// refused reports whether gs says the head failed verification.
func refused(gs *v1alpha1.GitSource) bool {
	return meta.IsStatusConditionFalse(gs.Status.Conditions, v1alpha1.ConditionVerified)
}

// verifiedAt reports whether gs is Ready and Verified with commit as its
// last verified head.
func verifiedAt(gs *v1alpha1.GitSource, commit string) bool {
	return meta.IsStatusConditionTrue(gs.Status.Conditions, v1alpha1.ConditionVerified) &&
		appliedAt(gs, commit) && gs.Status.LastVerifiedCommit == commit
}

// describeSource is the GitSource's state in one line, for timeouts.
func describeSource(gs *v1alpha1.GitSource) string {
	var b strings.Builder
	for _, t := range []string{v1alpha1.ConditionReady, v1alpha1.ConditionVerified, v1alpha1.ConditionPolicyPassed, v1alpha1.ConditionApplied} {
		c := meta.FindStatusCondition(gs.Status.Conditions, t)
		if c == nil {
			continue
		}
		fmt.Fprintf(&b, "%s=%s", t, c.Status)
		if c.Status != metav1.ConditionTrue && c.Message != "" {
			fmt.Fprintf(&b, " (%s: %s)", c.Reason, c.Message)
		}
		b.WriteString(" ")
	}
	fmt.Fprintf(&b, "verified=%s applied=%s", short(gs.Status.LastVerifiedCommit), short(gs.Status.LastAppliedCommit))
	return b.String()
}

// kubectl runs the kubectl binary built with the control plane against the
// demo's kubeconfig, never the user's own (KUBECONFIG is dropped and HOME
// points at the demo folder, where kubectl keeps its discovery cache).
type kubectl struct {
	path       string
	kubeconfig string
	home       string
}

// run returns kubectl's output (stdout and stderr) and, when it fails, an
// error holding its stderr.
func (k *kubectl) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, k.path, append([]string{"--kubeconfig", k.kubeconfig}, args...)...)
	env := make([]string, 0, len(os.Environ())+1)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KUBECONFIG=") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	env = append(env, "HOME="+k.home)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out := strings.TrimSpace(stdout.String() + "\n" + stderr.String())
	if err != nil {
		return out, fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
