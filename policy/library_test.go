package policy_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"gitgate.dev/gitgate/internal/gctune"
	"gitgate.dev/gitgate/internal/profile"
	"gitgate.dev/gitgate/policies"
	"gitgate.dev/gitgate/policy"
)

// admissionPod is an AdmissionReview request for a Pod that breaks several
// library policies (privileged, hostNetwork, image tag, no probes), so that
// the benchmark measures rules that fire as well as rules that pass.
const admissionPod = `{
  "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
  "kind": {"group": "", "version": "v1", "kind": "Pod"},
  "resource": {"group": "", "version": "v1", "resource": "pods"},
  "namespace": "team-a",
  "operation": "CREATE",
  "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
  "object": {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web", "namespace": "team-a", "labels": {"app": "web"}},
    "spec": {
      "hostNetwork": true,
      "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
      "initContainers": [
        {"name": "init", "image": "registry.example.com/init@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
      ],
      "containers": [
        {
          "name": "web",
          "image": "nginx:latest",
          "ports": [{"containerPort": 8080}],
          "securityContext": {"privileged": true, "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
          "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}
        },
        {
          "name": "sidecar",
          "image": "registry.example.com/sidecar:1.2.3",
          "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsUser": 1000},
          "readinessProbe": {"httpGet": {"path": "/ready", "port": 9090}},
          "livenessProbe": {"httpGet": {"path": "/live", "port": 9090}}
        }
      ],
      "volumes": [{"name": "data", "emptyDir": {}}]
    }
  }
}`

// libraryEngine compiles gitgate's whole policy library (policies.FS) in the
// admission profile, every package selected, with further options.
func libraryEngine(tb testing.TB, opts ...policy.Option) *policy.Engine {
	tb.Helper()
	mods, err := policy.ReadModulesFS(policies.FS())
	if err != nil {
		tb.Fatal(err)
	}
	opts = append([]policy.Option{policy.WithProfile(policy.ProfileAdmission), policy.WithAllNamespaces()}, opts...)
	e, err := policy.Compile(tb.Context(), policy.Source{Modules: mods}, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

func admissionInput(tb testing.TB) map[string]any { return reviewInput(tb, admissionPod) }

func conformingInput(tb testing.TB) map[string]any { return reviewInput(tb, conformingPod) }

// reviewInput is the Rego input of an AdmissionReview request in JSON.
func reviewInput(tb testing.TB, request string) map[string]any {
	tb.Helper()
	var req any
	if err := json.Unmarshal([]byte(request), &req); err != nil {
		tb.Fatal(err)
	}
	return map[string]any{"request": req}
}

// TestLibraryInAdmissionProfile proves the shipped library compiles under the
// admission restrictions and judges an admission request: the Pod above is
// denied, each denial carrying the library's metadata.
func TestLibraryInAdmissionProfile(t *testing.T) {
	e := libraryEngine(t)
	r, err := e.Evaluate(t.Context(), admissionInput(t))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Denied() || len(r.Failures) < 3 {
		t.Fatalf("failures = %+v, want the privileged, hostNetwork and latest-tag violations at least", r.Failures)
	}
	for _, m := range r.Failures {
		if m.Msg == "" || m.Metadata.Get("query") == nil {
			t.Errorf("failure without message or query: %+v", m)
		}
	}
}

// TestMessagesOnly: the same verdicts and messages, without metadata.
func TestMessagesOnly(t *testing.T) {
	full, err := libraryEngine(t).Evaluate(t.Context(), admissionInput(t))
	if err != nil {
		t.Fatal(err)
	}
	short, err := libraryEngine(t, policy.WithMessagesOnly()).Evaluate(t.Context(), admissionInput(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(short.Failures) != len(full.Failures) || len(short.Warnings) != len(full.Warnings) || short.Successes != full.Successes {
		t.Fatalf("messages only: %d failures, %d warnings, %d successes; with metadata %d, %d, %d",
			len(short.Failures), len(short.Warnings), short.Successes, len(full.Failures), len(full.Warnings), full.Successes)
	}
	for i, m := range short.Failures {
		if m.Msg != full.Failures[i].Msg || m.Metadata != nil {
			t.Errorf("failure %d = %q with metadata %s, want %q without", i, m.Msg, m.Metadata, full.Failures[i].Msg)
		}
	}
}

// BenchmarkEvaluateLibraryAdmission is one Pod AdmissionReview against the
// whole library in the admission profile, as the webhook evaluates it
// (messages only): the webhook's per-request policy cost. Target: at most
// 200 µs/op (issue 3). Conforming is a Pod that passes every policy, the
// common case of admission; Violating the Pod above, whose fifteen results
// are each a message and details built in Rego. Each runs on the VM (what
// gitgate uses) and on OPA's topdown evaluator, for comparison.
func BenchmarkEvaluateLibraryAdmission(b *testing.B) {
	for _, ev := range []struct {
		name string
		opts []policy.Option
	}{{"vm", nil}, {"topdown", []policy.Option{policy.WithTopdown()}}} {
		b.Run("Conforming/"+ev.name, func(b *testing.B) {
			benchmarkLibrary(b, conformingInput(b), false, ev.opts...)
		})
		b.Run("Violating/"+ev.name, func(b *testing.B) {
			benchmarkLibrary(b, admissionInput(b), true, ev.opts...)
		})
	}
}

func benchmarkLibrary(b *testing.B, input map[string]any, denied bool, opts ...policy.Option) {
	e := libraryEngine(b, append(opts, policy.WithMessagesOnly())...)
	// As the webhook hands it over: converted to Rego values as policies
	// read it.
	lazy := ast.LazyObject(input)
	// And with the garbage collection of gitgate serve, where the admission
	// profile runs (GOGC=400 unless GOGC is set; GOGC=100 in the
	// environment measures Go's default).
	b.Cleanup(gctune.Tune(b.Context(), os.LookupEnv))
	b.ReportAllocs()
	cpu0 := profile.CPUTime()
	for b.Loop() {
		r, err := e.EvaluateValue(b.Context(), lazy)
		if err != nil || r.Denied() != denied {
			b.Fatalf("Evaluate = %+v, %v", r, err)
		}
	}
	cpu := profile.CPUTime() - cpu0
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
}

// conformingPod is admissionPod made to pass every library policy: pinned
// images, resources, probes, the restricted security context, the
// recommended name label.
const conformingPod = `{
  "uid": "705ab4f5-6393-11e8-b7cc-42010a800003",
  "kind": {"group": "", "version": "v1", "kind": "Pod"},
  "resource": {"group": "", "version": "v1", "resource": "pods"},
  "namespace": "team-a",
  "operation": "CREATE",
  "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
  "object": {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web", "namespace": "team-a", "labels": {"app": "web", "app.kubernetes.io/name": "web"}},
    "spec": {
      "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
      "initContainers": [
        {"name": "init", "image": "registry.example.com/init:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
         "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
         "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "32Mi"}}}
      ],
      "containers": [
        {
          "name": "web",
          "image": "registry.example.com/web:1.4.2@sha256:1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
          "ports": [{"containerPort": 8080}],
          "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
          "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
          "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
          "livenessProbe": {"httpGet": {"path": "/live", "port": 8080}}
        },
        {
          "name": "sidecar",
          "image": "registry.example.com/sidecar:1.2.3@sha256:2123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
          "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsUser": 1000},
          "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "32Mi"}},
          "readinessProbe": {"httpGet": {"path": "/ready", "port": 9090}},
          "livenessProbe": {"httpGet": {"path": "/live", "port": 9090}}
        }
      ],
      "volumes": [{"name": "data", "emptyDir": {}}]
    }
  }
}`

// TestConformingPodPasses keeps the benchmark's conforming Pod honest: no
// failures and no warnings from the library.
func TestConformingPodPasses(t *testing.T) {
	r, err := libraryEngine(t).Evaluate(t.Context(), conformingInput(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Failures)+len(r.Warnings) > 0 || r.Successes == 0 {
		t.Fatalf("conforming pod: failures %+v, warnings %+v, %d successes", r.Failures, r.Warnings, r.Successes)
	}
}
