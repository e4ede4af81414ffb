package webhook

import (
	"context"
	"encoding/json"
	"time"
	"unicode/utf8"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// auditLine is one line of the audit log, written for every denial and
// every request answered with an error.
type auditLine struct {
	Time        string      `json:"time"`
	UID         string      `json:"uid"`
	User        string      `json:"user"`
	Groups      []string    `json:"groups"`
	Operation   string      `json:"operation"`
	Object      auditObject `json:"object"`
	SubResource string      `json:"subResource,omitempty"`
	DryRun      bool        `json:"dryRun"`
	Decision    string      `json:"decision"`
	Reason      Reason      `json:"reason"`
	Message     string      `json:"message,omitempty"`
	// Fields are the paths of the fields that differ from Git.
	Fields []string `json:"fields,omitempty"`
	Source string   `json:"source,omitempty"`
	Commit string   `json:"commit,omitempty"`
}

type auditObject struct {
	Group     string `json:"group"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// audit writes the audit line of a denied or failed request. Each line is
// written with a single Write under a mutex, so concurrent requests never
// interleave.
func (s *Server) audit(ctx context.Context, req *admissionv1.AdmissionRequest, out outcome) {
	if s.opts.AuditLog == nil {
		return
	}
	groups := req.UserInfo.Groups
	if groups == nil {
		groups = []string{}
	}
	line := auditLine{
		Time:        time.Now().UTC().Format(time.RFC3339Nano),
		UID:         string(req.UID),
		User:        req.UserInfo.Username,
		Groups:      groups,
		Operation:   string(req.Operation),
		Object:      auditObject{Group: req.Kind.Group, Version: req.Kind.Version, Kind: req.Kind.Kind, Namespace: req.Namespace, Name: req.Name},
		SubResource: req.SubResource,
		DryRun:      req.DryRun != nil && *req.DryRun,
		Decision:    out.decision,
		Reason:      out.reason,
		Message:     out.d.message,
		Source:      out.d.source,
	}
	if r := out.review; r != nil {
		line.Object.Group, line.Object.Kind, line.Object.Name = r.key.Group, r.key.Kind, r.key.Name
	}
	if o := out.d.origin; o != nil {
		line.Source, line.Commit = o.Source, o.Commit
	}
	for _, d := range out.d.diffs {
		line.Fields = append(line.Fields, d.Path)
	}
	b, err := json.Marshal(line)
	if err != nil {
		logf.FromContext(ctx).Error(err, "encode audit line")
		return
	}
	b = append(b, '\n')
	s.auditMu.Lock()
	defer s.auditMu.Unlock()
	if _, err := s.opts.AuditLog.Write(b); err != nil {
		logf.FromContext(ctx).Error(err, "write audit line")
	}
}

// maxEventMessage keeps an Event's message within what the API server
// stores for it (1 KiB).
const maxEventMessage = 1024

// event records a Warning Event on the existing managed object a denied
// request was about. Dry-run requests must have no side effects, so they
// get none.
func (s *Server) event(req *admissionv1.AdmissionRequest, out outcome) {
	if s.opts.Events == nil || out.review == nil || out.d.origin == nil || (req.DryRun != nil && *req.DryRun) {
		return
	}
	r := out.review
	obj := &unstructured.Unstructured{Object: map[string]any{}}
	obj.SetGroupVersionKind(r.key.GroupKind().WithVersion(req.Kind.Version))
	if req.SubResource != "" {
		// The request's kind is the subresource's (Scale); the Event
		// belongs on the parent, whose version request.resource names.
		obj.SetGroupVersionKind(r.key.GroupKind().WithVersion(req.Resource.Version))
	}
	obj.SetNamespace(r.key.Namespace)
	obj.SetName(r.key.Name)
	if uid := nestedString(r.old, "metadata", "uid"); uid != "" {
		obj.SetUID(types.UID(uid))
	}
	if rv := nestedString(r.old, "metadata", "resourceVersion"); rv != "" {
		obj.SetResourceVersion(rv)
	}
	msg := "denied " + string(req.Operation) + " by " + req.UserInfo.Username + ": " + out.d.message
	s.opts.Events.Event(obj, corev1.EventTypeWarning, string(out.reason), truncate(msg, maxEventMessage))
}

// truncate cuts s to at most n bytes, at a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
