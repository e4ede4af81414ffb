package webhook

import (
	"strings"

	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"gitgate.dev/gitgate/provenance/conform"
	"gitgate.dev/gitgate/provenance/index"
)

// The provenance annotations the mutating webhook stamps on an object that
// Git declares. conform ignores every annotation under
// conform.ProvenancePrefix, so stamping never makes an object differ from
// Git.
const (
	CommitAnnotation  = conform.ProvenancePrefix + "commit"
	SourceAnnotation  = conform.ProvenancePrefix + "source"
	PathAnnotation    = conform.ProvenancePrefix + "path"
	SignersAnnotation = conform.ProvenancePrefix + "signers"
)

// provenanceAnnotations are stamped in this order.
var provenanceAnnotations = []string{CommitAnnotation, SourceAnnotation, PathAnnotation, SignersAnnotation}

// stamp returns the provenance annotations of origin. Signers are joined
// with commas (trust-policy names hold none).
func stamp(o index.Origin) map[string]string {
	return map[string]string{
		CommitAnnotation:  o.Commit,
		SourceAnnotation:  o.Source,
		PathAnnotation:    o.Path,
		SignersAnnotation: strings.Join(o.Signers, ","),
	}
}

// mutate stamps a CREATE or UPDATE of an object that Git declares, and that
// matches Git, with its provenance; on any other object it removes
// provenance annotations, so that they are never found where Git does not
// vouch for the object (a forged stamp, an object an exempt user changed
// away from Git). It never denies: the validating webhook judges.
func (s *Server) mutate(r *review, ix *index.Index) (admission.Response, outcome) {
	out := outcome{review: r, decision: decisionMutated, reason: ReasonUnchanged}
	req := r.req
	if req.SubResource != "" || (req.Operation != admissionv1.Create && req.Operation != admissionv1.Update) {
		return admission.Allowed(""), out
	}
	want := map[string]string{}
	if e, ok := ix.Lookup(r.key); ok && conform.Compare(e.Object.Object, r.object) == nil {
		want = stamp(e.Origin)
	}
	ops := annotationPatch(r.object, want)
	if len(ops) == 0 {
		return admission.Allowed(""), out
	}
	out.reason = ReasonStamped
	if len(want) == 0 {
		out.reason = ReasonStripped
	}
	return admission.Patched("", ops...), out
}

// annotationPatch returns the JSON patch that makes obj's provenance
// annotations exactly want (none, when want is empty), leaving every other
// annotation alone.
func annotationPatch(obj map[string]any, want map[string]string) []jsonpatch.JsonPatchOperation {
	meta, hasMeta := obj["metadata"].(map[string]any)
	current, hasAnnotations := meta["annotations"].(map[string]any)
	if !hasAnnotations && len(want) > 0 {
		// No annotations map (absent or null): add the whole map, since a
		// JSON patch cannot add a member to a missing object.
		m := make(map[string]any, len(want))
		for k, v := range want {
			m[k] = v
		}
		if !hasMeta {
			return []jsonpatch.JsonPatchOperation{jsonpatch.NewOperation("add", "/metadata", map[string]any{"annotations": m})}
		}
		return []jsonpatch.JsonPatchOperation{jsonpatch.NewOperation("add", "/metadata/annotations", m)}
	}
	var ops []jsonpatch.JsonPatchOperation
	for _, k := range provenanceAnnotations {
		v, wanted := want[k]
		have, present := current[k]
		path := "/metadata/annotations/" + escapePointer(k)
		switch {
		case wanted && (!present || have != v):
			ops = append(ops, jsonpatch.NewOperation("add", path, v))
		case !wanted && present:
			ops = append(ops, jsonpatch.NewOperation("remove", path, nil))
		}
	}
	return ops
}

// escapePointer escapes a JSON pointer reference token (RFC 6901): "~"
// becomes "~0" and "/" becomes "~1".
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
