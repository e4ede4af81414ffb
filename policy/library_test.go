package policy_test

import (
	"encoding/json"
	"syscall"
	"testing"

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
// admission profile, every package selected.
func libraryEngine(tb testing.TB) *policy.Engine {
	tb.Helper()
	mods, err := policy.ReadModulesFS(policies.FS())
	if err != nil {
		tb.Fatal(err)
	}
	e, err := policy.Compile(tb.Context(), policy.Source{Modules: mods},
		policy.WithProfile(policy.ProfileAdmission), policy.WithAllNamespaces())
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

func admissionInput(tb testing.TB) any {
	tb.Helper()
	var req any
	if err := json.Unmarshal([]byte(admissionPod), &req); err != nil {
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

// BenchmarkEvaluateLibraryAdmission is one Pod AdmissionReview against the
// whole library in the admission profile: the webhook's per-request policy
// cost. Target: at most 200 µs/op (issue 3).
func BenchmarkEvaluateLibraryAdmission(b *testing.B) {
	e := libraryEngine(b)
	input := admissionInput(b)
	b.ReportAllocs()
	var ru0, ru1 syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru0); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		r, err := e.Evaluate(b.Context(), input)
		if err != nil || !r.Denied() {
			b.Fatalf("Evaluate = %+v, %v", r, err)
		}
	}
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru1); err != nil {
		b.Fatal(err)
	}
	// CPU time per op: on a shared machine ns/op includes waiting for a
	// core, CPU time does not.
	cpu := ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano()
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
}
