package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/reconcile/drift"
)

const (
	// maxMessage bounds a condition message (the API allows 32 KiB);
	// the first lines say what is wrong, and kubectl shows them whole.
	maxMessage = 4096
	// maxEventMessage bounds an Event's message (the API allows 1 KiB).
	maxEventMessage = 1000
)

// finish records the outcome of a sync: metrics on every replica; status
// and Events on the leader. It is the only place that ends a sync.
func (r *Reconciler) finish(ctx context.Context, s *syncRun, err error) (ctrl.Result, error) {
	select {
	case <-ctx.Done():
		// Shutting down: nothing to record; the next process syncs again.
		return ctrl.Result{}, nil
	default:
	}
	s.st.setAttempted()
	interval := intervalOf(s.gs)
	s.st.gen = s.gs.Generation
	s.st.nextFetch = r.now().Add(interval)
	result := reasonSucceeded
	if err != nil {
		result = asStepError(err).reason
	}
	r.metrics.synced(s.name(), result, r.now().Sub(s.start))
	log := ctrl.LoggerFrom(ctx)
	if err != nil {
		log.Info("sync failed", "reason", result, "error", err.Error(), "leader", s.leader)
	} else if s.appliedNow {
		log.Info("synced", "commit", s.head(), "objects", s.ix.Len(), "pruned", s.pruned)
	}
	if !s.leader {
		return ctrl.Result{RequeueAfter: interval}, nil
	}
	r.recordEvents(s, err)
	base := s.gs.DeepCopy()
	r.setStatus(s.gs, s, err)
	if perr := r.patchStatus(ctx, base, s.gs); perr != nil {
		// The retry must sync again to know what to write.
		s.st.setForce()
		return ctrl.Result{}, perr
	}
	return ctrl.Result{RequeueAfter: interval}, nil
}

// setStatus is the one place that sets the conditions and status fields
// after a sync. A step that did not run leaves its condition as it was:
// a fetch failure says nothing new about verification.
func (r *Reconciler) setStatus(gs *v1alpha1.GitSource, s *syncRun, err error) {
	now := metav1.NewTime(r.now())
	status := &gs.Status
	set := func(typ string, ok bool, reason, msg string) {
		c := metav1.Condition{Type: typ, Status: metav1.ConditionFalse, Reason: reason, Message: truncate(msg, maxMessage), ObservedGeneration: gs.Generation}
		if ok {
			c.Status = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&status.Conditions, c)
	}
	var failed *stepError
	if err != nil {
		failed = asStepError(err)
	}
	failedOn := func(cond string) bool { return failed != nil && failed.condition == cond }

	if s.recorded != nil {
		status.LastVerifiedCommit = s.recorded.Commit
		status.VerifiedTrustRoot = s.recorded.TrustRoot
		status.VerifiedMode = v1alpha1.VerificationMode(s.recorded.Mode)
	}
	switch {
	case s.verified:
		set(v1alpha1.ConditionVerified, true, reasonSucceeded, fmt.Sprintf("commit %s on branch %s verified (%s mode), signed by %s",
			short(s.snap.Head), s.snap.Branch, s.snap.Mode, strings.Join(signerNames(s.snap.HeadSigners()), ", ")))
	case failedOn(v1alpha1.ConditionVerified):
		set(v1alpha1.ConditionVerified, false, failed.reason, failed.Error())
	}
	switch {
	case s.policyPassed && s.engine == nil:
		set(v1alpha1.ConditionPolicyPassed, true, reasonNoPolicy, "no policy configured")
	case s.policyPassed:
		set(v1alpha1.ConditionPolicyPassed, true, reasonSucceeded, fmt.Sprintf("commit %s passed policy (%d warnings)", short(s.head()), s.warnings))
	case failedOn(v1alpha1.ConditionPolicyPassed):
		set(v1alpha1.ConditionPolicyPassed, false, failed.reason, failed.Error())
	}
	switch {
	case s.applied && !failedOn(v1alpha1.ConditionApplied):
		set(v1alpha1.ConditionApplied, true, reasonSucceeded, fmt.Sprintf("applied %d objects of commit %s", s.ix.Len(), short(s.head())))
		status.LastAppliedCommit = s.snap.Head
		status.Signers = signerNames(s.snap.HeadSigners())
		status.Objects = s.ix.Len()
	case failedOn(v1alpha1.ConditionApplied):
		set(v1alpha1.ConditionApplied, false, failed.reason, failed.Error())
	}
	setDrift(gs, s.st.driftCount())
	if failed == nil {
		set(v1alpha1.ConditionReady, true, reasonSucceeded, fmt.Sprintf("commit %s applied (%d objects)", short(s.head()), s.ix.Len()))
	} else {
		set(v1alpha1.ConditionReady, false, failed.reason, failed.Error())
	}
	status.ObservedGeneration = gs.Generation
	status.LastSyncTime = &now
}

// setDrift sets status.drifted and the Drifted condition.
func setDrift(gs *v1alpha1.GitSource, n int) {
	gs.Status.Drifted = n
	c := metav1.Condition{Type: v1alpha1.ConditionDrifted, Status: metav1.ConditionFalse, Reason: reasonNoDrift,
		Message: "every managed object matches Git", ObservedGeneration: gs.Generation}
	if n > 0 {
		c.Status, c.Reason = metav1.ConditionTrue, reasonDriftDetected
		verb := "being reverted"
		if driftModeOf(gs) == drift.Detect {
			verb = "reported only (detect mode)"
		}
		c.Message = fmt.Sprintf("%d managed objects differ from Git, %s", n, verb)
	}
	meta.SetStatusCondition(&gs.Status.Conditions, c)
}

// refreshStatus writes what changed between syncs: the drift count.
func (r *Reconciler) refreshStatus(ctx context.Context, gs *v1alpha1.GitSource, st *sourceState, leader bool) error {
	if !leader {
		return nil
	}
	base := gs.DeepCopy()
	setDrift(gs, st.driftCount())
	return r.patchStatus(ctx, base, gs)
}

// patchStatus writes the status of gs when it differs from base's. The
// status belongs to gitgate alone, so the patch carries all of it; a merge
// patch needs no resourceVersion, and the leader is the only writer.
func (r *Reconciler) patchStatus(ctx context.Context, base, gs *v1alpha1.GitSource) error {
	if equality.Semantic.DeepEqual(base.Status, gs.Status) {
		return nil
	}
	patch, err := statusPatch(&gs.Status)
	if err != nil {
		return err
	}
	err = r.opts.Client.Status().Patch(ctx, gs, client.RawPatch(types.MergePatchType, patch))
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("write status of gitsource %s: %w", gs.Name, err)
	}
	return nil
}

// statusPatch is a merge patch that sets the whole status. The counts
// have no omitempty, so a zero is written and kubectl's OBJECTS and DRIFTED
// columns show 0, not <none>.
func statusPatch(st *v1alpha1.GitSourceStatus) ([]byte, error) {
	patch, err := json.Marshal(map[string]any{"status": st})
	if err != nil {
		return nil, fmt.Errorf("encode status: %w", err)
	}
	return patch, nil
}

// recordEvents records a Warning for a failed sync and a Normal Event when
// a commit was applied.
func (r *Reconciler) recordEvents(s *syncRun, err error) {
	if err != nil {
		se := asStepError(err)
		r.opts.Recorder.Event(s.gs, corev1.EventTypeWarning, se.reason, truncate(se.Error(), maxEventMessage))
		return
	}
	if !s.appliedNow {
		return
	}
	msg := fmt.Sprintf("applied commit %s (%d objects) signed by %s", short(s.head()), s.ix.Len(), strings.Join(signerNames(s.snap.HeadSigners()), ", "))
	r.opts.Recorder.Event(s.gs, corev1.EventTypeNormal, reasonSynced, truncate(msg, maxEventMessage))
	if s.pruned > 0 {
		r.opts.Recorder.Event(s.gs, corev1.EventTypeNormal, reasonPruned, fmt.Sprintf("deleted %d objects that left Git", s.pruned))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = " …"
	cut := n - len(ellipsis)
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
