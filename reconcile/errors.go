package reconcile

import "errors"

// Condition reasons. They are part of the status API: users alert on them.
const (
	reasonSucceeded          = "Succeeded"
	reasonNoPolicy           = "NoPolicy"
	reasonCredentialsError   = "CredentialsError"
	reasonFetchFailed        = "FetchFailed"
	reasonVerificationError  = "VerificationError"
	reasonVerificationFailed = "VerificationFailed"
	reasonRenderFailed       = "RenderFailed"
	reasonPolicyInvalid      = "PolicyInvalid"
	reasonPolicyDenied       = "PolicyDenied"
	reasonConflict           = "Conflict"
	reasonApplyFailed        = "ApplyFailed"
	reasonPruneFailed        = "PruneFailed"
	reasonSyncFailed         = "SyncFailed"
	reasonInvalidSpec        = "InvalidSpec"
	reasonNoDrift            = "NoDrift"
	reasonDriftDetected      = "DriftDetected"
	reasonSynced             = "Synced"
	reasonPruned             = "Pruned"
)

// stepError is how a step fails: the condition the failure turns False
// (besides Ready, which every failure turns False; empty when no other
// condition is about it) and the reason both carry.
type stepError struct {
	condition string
	reason    string
	err       error
}

func (e *stepError) Error() string { return e.err.Error() }

func (e *stepError) Unwrap() error { return e.err }

// fail wraps err as the failure of a step.
func fail(condition, reason string, err error) error {
	return &stepError{condition: condition, reason: reason, err: err}
}

// asStepError returns err as a *stepError; an error that is not one (a bug
// or a canceled context) becomes a SyncFailed failure of Ready alone.
func asStepError(err error) *stepError {
	var se *stepError
	if errors.As(err, &se) {
		return se
	}
	return &stepError{reason: reasonSyncFailed, err: err}
}
