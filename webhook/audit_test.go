package webhook

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
)

func auditLines(t *testing.T, f *fixture) []auditLine {
	t.Helper()
	var lines []auditLine
	sc := bufio.NewScanner(strings.NewReader(f.audit.String()))
	for sc.Scan() {
		var l auditLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("audit line is not JSON: %v\n%s", err, sc.Text())
		}
		lines = append(lines, l)
	}
	return lines
}

func TestAuditAndEvents(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()

	// Allowed: no audit line, no Event.
	f.s.Validate(ctx, newRequest(t, admissionv1.Create, live(t, "web"), nil))
	if f.audit.Len() != 0 || len(f.events.recorded()) != 0 {
		t.Fatalf("an allowed request was audited: %s %v", f.audit, f.events.recorded())
	}

	// A denied update of a managed object: audit line and Event.
	upd := newRequest(t, admissionv1.Update, setPath(live(t, "web"), int64(5), "spec", "replicas"), live(t, "web"))
	if resp := f.s.Validate(ctx, upd); resp.Allowed {
		t.Fatal("update allowed")
	}
	lines := auditLines(t, f)
	if len(lines) != 1 {
		t.Fatalf("%d audit lines, want 1", len(lines))
	}
	l := lines[0]
	l.Time, l.Message = "", firstLine(l.Message)
	want := auditLine{
		UID: string(upd.UID), User: "mallory", Groups: []string{"system:authenticated", "devs"}, Operation: "UPDATE",
		Object:   auditObject{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "demo", Name: "web"},
		Decision: decisionDenied, Reason: ReasonNotConforming, Message: "Deployment.apps demo/web does not match Git:",
		Fields: []string{"spec.replicas"}, Source: testSource, Commit: testCommit,
	}
	if diff := cmp.Diff(want, l); diff != "" {
		t.Errorf("audit line (-want +got):\n%s", diff)
	}
	evs := f.events.recorded()
	if len(evs) != 1 {
		t.Fatalf("%d Events, want 1", len(evs))
	}
	ev := evs[0]
	if ev.eventType != corev1.EventTypeWarning || ev.reason != string(ReasonNotConforming) || !strings.Contains(ev.message, "denied UPDATE by mallory") || !strings.Contains(ev.message, "spec.replicas") {
		t.Errorf("Event %s %s %q", ev.eventType, ev.reason, ev.message)
	}
	if o := ev.object; o.GetKind() != "Deployment" || o.GetAPIVersion() != "apps/v1" || o.GetNamespace() != "demo" || o.GetName() != "web" || o.GetUID() == "" {
		t.Errorf("Event object %v", o.Object)
	}

	// kubectl scale: the Event goes on the Deployment, not on a Scale.
	f.s.Validate(ctx, scaleRequest(t, 9, 2))
	if evs := f.events.recorded(); len(evs) != 2 || evs[1].object.GetKind() != "Deployment" || evs[1].object.GetUID() == "" {
		t.Fatalf("scale Event on %v", evs[len(evs)-1].object.Object)
	}

	// Dry-run: audited, but no Event (no side effects).
	f.s.Validate(ctx, newRequest(t, admissionv1.Delete, nil, live(t, "web"), dryRun()))
	lines = auditLines(t, f)
	if last := lines[len(lines)-1]; !last.DryRun || last.Reason != ReasonManagedDelete || last.Operation != "DELETE" {
		t.Errorf("dry-run audit line %+v", last)
	}
	if n := len(f.events.recorded()); n != 2 {
		t.Errorf("dry-run recorded an Event (%d Events)", n)
	}

	// Creating an undeclared object: audited, no Event (nothing exists).
	f.s.Validate(ctx, newRequest(t, admissionv1.Create, configMap("demo", "extra", nil), nil))
	lines = auditLines(t, f)
	if last := lines[len(lines)-1]; last.Reason != ReasonNotDeclared || last.Source != testSource || last.Commit != "" {
		t.Errorf("audit line %+v", last)
	}
	if n := len(f.events.recorded()); n != 2 {
		t.Errorf("a denied create recorded an Event (%d Events)", n)
	}
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

func TestMetricsLabels(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.s.Validate(ctx, scaleRequest(t, 5, 2))
	f.s.Validate(ctx, newRequest(t, admissionv1.Create, live(t, "web"), nil))
	f.s.Mutate(ctx, newRequest(t, admissionv1.Create, live(t, "web"), nil))
	// A kind nobody manages is "other", whatever a client sends.
	odd := map[string]any{"apiVersion": "x.example.com/v1", "kind": "Anything1234", "metadata": map[string]any{"name": "a", "namespace": "elsewhere"}}
	f.s.Validate(ctx, newRequest(t, admissionv1.Create, odd, nil))
	for _, tc := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"UPDATE", "Deployment.apps", decisionDenied, string(ReasonNotConforming)}, 1},
		{[]string{"CREATE", "Deployment.apps", decisionAllowed, string(ReasonConforms)}, 1},
		{[]string{"CREATE", "Deployment.apps", decisionMutated, string(ReasonStamped)}, 1},
		{[]string{"CREATE", otherLabel, decisionAllowed, string(ReasonOutOfScope)}, 1},
	} {
		if got := counterValue(t, f.s.metrics.requests.WithLabelValues(tc.labels...)); got != tc.want {
			t.Errorf("requests_total%v = %v, want %v", tc.labels, got, tc.want)
		}
	}
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
		if mf.GetName() == "gitgate_policy_evaluation_duration_seconds" {
			// Only the create reached Rego: the scale was denied by Git
			// first, mutate does not judge, the odd kind is out of scope.
			if n := mf.GetMetric()[0].GetHistogram().GetSampleCount(); n != 1 {
				t.Errorf("policy evaluations observed %d, want 1", n)
			}
		}
	}
	for _, n := range []string{"gitgate_admission_requests_total", "gitgate_policy_evaluation_duration_seconds", "gitgate_admission_panics_total"} {
		if !names[n] {
			t.Errorf("metric %s not registered", n)
		}
	}
	// A second server on the same registry shares the collectors.
	opts := testOptions(t)
	opts.Registerer = f.reg
	if _, err := NewServer(opts); err != nil {
		t.Fatalf("second server on one registry: %v", err)
	}
}
