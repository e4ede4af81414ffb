package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"gitgate.dev/gitgate/provenance/index"
)

type webhookKind string

const (
	webhookValidate webhookKind = "validate"
	webhookMutate   webhookKind = "mutate"
)

// outcome is what a handler reports for metrics, the audit log and Events.
type outcome struct {
	decision string
	reason   Reason
	review   *review
	d        decision
}

// Validate is the validating webhook: the decision pipeline of the package
// doc over one request. It never panics; a panic inside is answered 500
// and counted. The request's objects are read in place: the caller must
// not modify their raw bytes afterwards.
func (s *Server) Validate(ctx context.Context, req admission.Request) admission.Response {
	return s.handle(ctx, webhookValidate, &req.AdmissionRequest, nil)
}

// Mutate is the mutating webhook: it stamps an object Git declares with
// its provenance annotations. It never panics; a panic inside is answered
// 500 and counted.
func (s *Server) Mutate(ctx context.Context, req admission.Request) admission.Response {
	return s.handle(ctx, webhookMutate, &req.AdmissionRequest, nil)
}

// handle runs one webhook on one request with the per-request logger in
// ctx, panic recovery, metrics, the audit log and Events. objs are the
// request's objects if they are decoded already, nil if not.
func (s *Server) handle(ctx context.Context, hook webhookKind, req *admissionv1.AdmissionRequest, objs *requestObjects) (resp admission.Response) {
	log := s.requestLogger(req)
	ctx = logf.IntoContext(ctx, log)
	var out outcome
	defer func() {
		if p := recover(); p != nil {
			s.metrics.panics.Inc()
			log.Error(fmt.Errorf("panic: %v", p), "recovered a panic while answering an admission request", "stack", string(debug.Stack()))
			resp = admission.Errored(http.StatusInternalServerError, errors.New("internal error in gitgate's admission webhook"))
			out = outcome{decision: decisionErrored, reason: ReasonInternal, review: out.review, d: decision{message: "internal error (a recovered panic)"}}
		}
		resp.UID = req.UID
		s.record(ctx, req, out)
	}()
	ix := s.opts.Desired.Current()
	r, err := s.parseReview(req, ix, objs)
	if err != nil {
		out = outcome{decision: decisionErrored, reason: ReasonBadRequest, d: decision{message: err.Error()}}
		log.Info("bad admission request", "error", err.Error())
		return admission.Errored(http.StatusBadRequest, err)
	}
	out.review = r
	if hook == webhookMutate {
		resp, out = s.mutate(r, ix)
		return resp
	}
	d := s.decide(ctx, r, ix)
	out = outcome{review: r, d: d, reason: d.reason, decision: decisionAllowed}
	if !d.allowed {
		out.decision = decisionDenied
		log.V(1).Info("denied", "reason", d.reason)
		return denied(d)
	}
	return admission.Allowed("").WithWarnings(d.warnings...)
}

// denied builds the denial response: 403 Forbidden with the message, and
// each differing field as a cause.
func denied(d decision) admission.Response {
	resp := admission.Denied(d.message)
	if len(d.diffs) > 0 {
		causes := make([]metav1.StatusCause, 0, min(len(d.diffs), maxListedDiffs))
		for i, diff := range d.diffs {
			if i == maxListedDiffs {
				break
			}
			causes = append(causes, metav1.StatusCause{Type: metav1.CauseTypeFieldValueInvalid, Field: diff.Path, Message: diff.String()})
		}
		resp.Result.Details = &metav1.StatusDetails{Causes: causes}
	}
	return resp.WithWarnings(d.warnings...)
}

// requestLogger is the per-request logger: the request's UID, object and
// user. Handlers read it back with logf.FromContext (ctrl.LoggerFrom).
func (s *Server) requestLogger(req *admissionv1.AdmissionRequest) logr.Logger {
	kv := []any{
		"uid", string(req.UID),
		"operation", string(req.Operation),
		"kind", kindLabel(req.Kind.Group, req.Kind.Kind),
		"namespace", req.Namespace,
		"name", req.Name,
		"user", req.UserInfo.Username,
	}
	if req.SubResource != "" {
		kv = append(kv, "subResource", req.SubResource)
	}
	return s.log.WithValues(kv...)
}

// record counts the request and, for a denial, writes the audit line and
// the Event.
func (s *Server) record(ctx context.Context, req *admissionv1.AdmissionRequest, out outcome) {
	kind := otherLabel
	if out.review != nil {
		kind = s.kindMetricLabel(out.review.key)
	}
	s.metrics.requests.WithLabelValues(operationLabel(req.Operation), kind, out.decision, string(out.reason)).Inc()
	if out.decision != decisionDenied && out.decision != decisionErrored {
		return
	}
	s.audit(ctx, req, out)
	if out.decision == decisionDenied && out.d.existing {
		s.event(req, out)
	}
}

func operationLabel(op admissionv1.Operation) string {
	switch op {
	case admissionv1.Create, admissionv1.Update, admissionv1.Delete, admissionv1.Connect:
		return string(op)
	}
	return otherLabel
}

// kindMetricLabel labels a kind that Git declares or a source manages;
// anything else is "other", which bounds the label's values by the
// configuration rather than by what a client sends.
func (s *Server) kindMetricLabel(k index.Key) string {
	gk := k.GroupKind()
	if s.opts.Desired.Current().Count(gk) > 0 {
		return kindLabel(gk.Group, gk.Kind)
	}
	for _, src := range s.scope.Load().sources {
		if src.kinds[gk] {
			return kindLabel(gk.Group, gk.Kind)
		}
	}
	return otherLabel
}
