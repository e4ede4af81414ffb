package webhook

import (
	"context"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gitgate.dev/gitgate/policy"
	"gitgate.dev/gitgate/provenance/index"
)

// policyHolder lets SetPolicy swap the engine (or nil) atomically.
type policyHolder struct{ engine PolicyEngine }

// evaluatePolicy runs Rego on an allowed request in scope: a deny turns it
// into a denial with the policies' messages, a warn adds admission
// warnings, and a failure to evaluate denies.
func (s *Server) evaluatePolicy(ctx context.Context, r *review, d decision, sc *compiledScope) decision {
	h := s.policy.Load()
	if h == nil || h.engine == nil {
		return d
	}
	input := policyValue(policyInput(r, d.origin, sc))
	start := time.Now()
	res, err := h.engine.EvaluateValue(ctx, input)
	s.metrics.policyDuration.Observe(time.Since(start).Seconds())
	d.warnings = messages(res.Warnings)
	switch {
	case err != nil:
		d.allowed, d.reason = false, ReasonPolicyError
		d.message = s.policyErrorMessage(r, err)
	case res.Denied():
		d.allowed, d.reason = false, ReasonPolicyDenied
		d.message = s.policyDeniedMessage(r, d, messages(res.Failures), sc)
	}
	return d
}

// policyValue turns the input into a Rego value lazily: a field becomes a
// Rego value when a policy first reads it. The policy library reads the
// object's kind, metadata and pod spec; converting the whole request
// up front (object and oldObject, managedFields, status, every env var)
// cost more allocations than evaluating the library. policyInput holds
// only JSON-decoded values, strings and string slices, which convert
// without error.
func policyValue(input map[string]any) ast.Value { return ast.LazyObject(input) }

func messages(ms []policy.Message) []string {
	if len(ms) == 0 {
		return nil
	}
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Msg
	}
	return out
}

// policyInput is what Rego sees: the AdmissionReview-style input the
// policy library reads, {"request": {...}}, with the object's provenance
// beside it:
//
//	input.request     the AdmissionRequest (uid, kind, resource,
//	                  subResource, requestKind, requestResource,
//	                  requestSubResource, name, namespace, operation,
//	                  userInfo, object, oldObject, dryRun, options), with
//	                  object and oldObject null where the request has none
//	input.provenance  {"source", "commit", "path", "signers",
//	                  "repository"} when Git declares the object (for a
//	                  prune: declared it), null otherwise
func policyInput(r *review, origin *index.Origin, sc *compiledScope) map[string]any {
	return map[string]any{
		"request":    requestInput(r),
		"provenance": provenanceInput(origin, sc),
	}
}

func requestInput(r *review) map[string]any {
	req := r.req
	m := map[string]any{
		"uid":       string(req.UID),
		"kind":      gvkInput(req.Kind),
		"resource":  gvrInput(req.Resource),
		"name":      req.Name,
		"namespace": req.Namespace,
		"operation": string(req.Operation),
		"userInfo":  userInput(req),
		"object":    objectInput(r.object),
		"oldObject": objectInput(r.old),
		"dryRun":    req.DryRun != nil && *req.DryRun,
	}
	if req.SubResource != "" {
		m["subResource"] = req.SubResource
	}
	if req.RequestKind != nil {
		m["requestKind"] = gvkInput(*req.RequestKind)
	}
	if req.RequestResource != nil {
		m["requestResource"] = gvrInput(*req.RequestResource)
	}
	if req.RequestSubResource != "" {
		m["requestSubResource"] = req.RequestSubResource
	}
	if opts, err := decodeObject(req.Options); err == nil && opts != nil {
		m["options"] = opts
	}
	return m
}

// objectInput keeps an absent object null: a nil map would become {}.
func objectInput(obj map[string]any) any {
	if obj == nil {
		return nil
	}
	return obj
}

func gvkInput(k metav1.GroupVersionKind) map[string]any {
	return map[string]any{"group": k.Group, "version": k.Version, "kind": k.Kind}
}

func gvrInput(r metav1.GroupVersionResource) map[string]any {
	return map[string]any{"group": r.Group, "version": r.Version, "resource": r.Resource}
}

func userInput(req *admissionv1.AdmissionRequest) map[string]any {
	u := req.UserInfo
	m := map[string]any{"username": u.Username}
	if u.UID != "" {
		m["uid"] = u.UID
	}
	if len(u.Groups) > 0 {
		m["groups"] = u.Groups
	}
	if len(u.Extra) > 0 {
		extra := make(map[string]any, len(u.Extra))
		for k, v := range u.Extra {
			extra[k] = []string(v)
		}
		m["extra"] = extra
	}
	return m
}

func provenanceInput(o *index.Origin, sc *compiledScope) any {
	if o == nil {
		return nil
	}
	signers := o.Signers
	if signers == nil {
		signers = []string{}
	}
	return map[string]any{
		"source":     o.Source,
		"commit":     o.Commit,
		"path":       o.Path,
		"signers":    signers,
		"repository": sc.repository(o.Source),
	}
}
