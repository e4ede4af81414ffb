package webhook

import (
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"

	"gitgate.dev/gitgate/policy"
)

// provenancePolicy reads what the server puts beside the request.
const provenancePolicy = `package main

warn contains msg if {
	input.provenance != null
	msg := sprintf("from %s at %s path %s by %s (%s)", [input.provenance.source, input.provenance.commit, input.provenance.path, concat(",", input.provenance.signers), input.provenance.repository])
}

deny contains "objects outside Git may not be named rogue" if {
	input.provenance == null
	input.request.name == "rogue"
}

deny contains "dry-run updates by mallory are refused" if {
	input.request.dryRun
	input.request.userInfo.username == "mallory"
	input.request.oldObject.metadata.name == "web"
}
`

func TestPolicyInput(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Policy = compilePolicy(t, provenancePolicy) })
	t.Run("provenance of a managed object", func(t *testing.T) {
		d := f.decideRequest(t, newRequest(t, admissionv1.Create, live(t, "web"), nil))
		want := "from demo at " + testCommit + " path clusters/demo/web.yaml by alice,bob (" + testRepo + ")"
		if !d.allowed || len(d.warnings) != 1 || d.warnings[0] != want {
			t.Fatalf("allowed=%v warnings=%q, want %q", d.allowed, d.warnings, want)
		}
	})
	t.Run("null provenance for an undeclared object", func(t *testing.T) {
		d := f.decideRequest(t, newRequest(t, admissionv1.Create, childPod(t, "rogue"), nil))
		if d.allowed || d.reason != ReasonPolicyDenied || !strings.Contains(d.message, "objects outside Git may not be named rogue") {
			t.Fatalf("allowed=%v reason=%s message=%q", d.allowed, d.reason, d.message)
		}
	})
	t.Run("request fields: dryRun, userInfo, oldObject", func(t *testing.T) {
		req := newRequest(t, admissionv1.Update, live(t, "web"), live(t, "web"), dryRun())
		d := f.decideRequest(t, req)
		if d.allowed || d.reason != ReasonPolicyDenied || !strings.Contains(d.message, "dry-run updates by mallory are refused") {
			t.Fatalf("allowed=%v reason=%s message=%q", d.allowed, d.reason, d.message)
		}
		// A managed object's policy denial still says where Git holds it.
		for _, want := range gitDenial {
			if !strings.Contains(d.message, want) {
				t.Errorf("message does not contain %q:\n%s", want, d.message)
			}
		}
	})
}

func TestPolicyFailuresDeny(t *testing.T) {
	erroring := compilePolicy(t, `package main

deny contains "never" if to_number(input.request.name) > 0
`)
	timingOut := compilePolicy(t, `package main

deny contains "never" if count([x | some x in numbers.range(1, 100000)]) < 0
`, policy.WithTimeout(time.Nanosecond))
	for _, tc := range []struct {
		name   string
		engine PolicyEngine
		want   string
	}{
		{"builtin error", erroring, "EvaluationError"},
		{"timeout", timingOut, "Timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(o *Options) { o.Policy = tc.engine })
			d := f.decideRequest(t, newRequest(t, admissionv1.Create, live(t, "web"), nil))
			if d.allowed || d.reason != ReasonPolicyError {
				t.Fatalf("allowed=%v reason=%s, want a PolicyError denial", d.allowed, d.reason)
			}
			if !strings.Contains(d.message, "could not be judged by policy, so it is denied") || !strings.Contains(d.message, tc.want) {
				t.Errorf("message %q does not explain the %s", d.message, tc.want)
			}
		})
	}
}

func TestPolicyOptional(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Policy = nil })
	privileged := childPod(t, "web-priv")
	c := privileged["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	setPath(c, true, "securityContext", "privileged")
	req := newRequest(t, admissionv1.Create, privileged, nil)
	if d := f.decideRequest(t, req); !d.allowed || d.reason != ReasonControllerChild {
		t.Fatalf("without an engine: allowed=%v reason=%s", d.allowed, d.reason)
	}
	f.s.SetPolicy(libraryEngine(t))
	if d := f.decideRequest(t, req); d.allowed || d.reason != ReasonPolicyDenied {
		t.Fatalf("after SetPolicy: allowed=%v reason=%s", d.allowed, d.reason)
	}
	f.s.SetPolicy(nil)
	if d := f.decideRequest(t, req); !d.allowed {
		t.Fatalf("after SetPolicy(nil): denied: %s", d.message)
	}
}

func TestPolicyWarningsReachTheResponse(t *testing.T) {
	f := newFixture(t)
	resp := f.s.Validate(t.Context(), newRequest(t, admissionv1.Create, live(t, "web"), nil))
	if !resp.Allowed {
		t.Fatalf("denied: %+v", resp.Result)
	}
	if !containsAny(resp.Warnings, "registry.example.com/web:1.4.2") {
		t.Errorf("warnings %q lack the library's pinned-image warning", resp.Warnings)
	}
}

func TestSetScope(t *testing.T) {
	f := newFixture(t)
	req := newRequest(t, admissionv1.Create, secret("fresh", "token"), nil)
	if d := f.decideRequest(t, req); d.reason != ReasonOutOfScope {
		t.Fatalf("before: reason %s", d.reason)
	}
	f.s.SetScope(Scope{Sources: []SourceScope{{Name: "other", Repository: "https://git.example.com/other.git", Namespaces: []string{"fresh"}, Kinds: testOptions(t).Scope.Sources[0].Kinds}}})
	d := f.decideRequest(t, req)
	if d.reason != ReasonNotDeclared || !strings.Contains(d.message, "https://git.example.com/other.git") {
		t.Fatalf("after: reason %s message %q", d.reason, d.message)
	}
}

func TestTypedNilEngine(t *testing.T) {
	var nilEngine *policy.Engine
	f := newFixture(t, func(o *Options) { o.Policy = nilEngine })
	if d := f.decideRequest(t, newRequest(t, admissionv1.Create, live(t, "web"), nil)); !d.allowed {
		t.Errorf("a nil *policy.Engine: %s", d.message)
	}
}
