package policies_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"gitgate.dev/gitgate/internal/profile"
	"gitgate.dev/gitgate/policies"
	"gitgate.dev/gitgate/policy"
)

// benchPod is a Pod that passes most of the library: every rule is evaluated
// to the end, which is the common case in admission.
const benchPod = `{
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {"name": "web-7d4b9c", "namespace": "apps", "labels": {"app.kubernetes.io/name": "web"}},
  "spec": {
    "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
    "initContainers": [{"name": "migrate", "image": "registry.example.com/web-migrate:1.4.2",
      "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
      "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}],
    "containers": [{"name": "web", "image": "registry.example.com/web:1.4.2",
      "ports": [{"containerPort": 8080}],
      "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
      "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
      "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
      "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}},
      {"name": "proxy", "image": "registry.example.com/proxy:2.0.1",
      "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
      "livenessProbe": {"tcpSocket": {"port": 9090}},
      "readinessProbe": {"tcpSocket": {"port": 9090}},
      "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}],
    "volumes": [{"name": "config", "configMap": {"name": "web"}}, {"name": "tmp", "emptyDir": {}}]
  }
}`

// BenchmarkLibraryPod evaluates one Pod against every policy of the library
// (deny and warn), as an admission request, with one prepared query.
func BenchmarkLibraryPod(b *testing.B) {
	c := compileLibrary(b, ast.CapabilitiesForThisVersion())
	pq := prepare(b, c, libraryQuery(b))
	input := benchInput(b)
	ctx := context.Background()
	loopCPU(b, func() {
		if _, err := pq.Eval(ctx, rego.EvalParsedInput(input)); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkLibraryPodEngine is BenchmarkLibraryPod through gitgate's
// engine in the admission profile, as the webhook evaluates it: every
// namespace of the library selected, conftest's reading of the results,
// the per-evaluation timeout.
func BenchmarkLibraryPodEngine(b *testing.B) {
	mods, err := policy.ReadModulesFS(policies.FS())
	if err != nil {
		b.Fatal(err)
	}
	e, err := policy.Compile(b.Context(), policy.Source{Modules: mods}, policy.WithProfile(policy.ProfileAdmission), policy.WithAllNamespaces())
	if err != nil {
		b.Fatal(err)
	}
	input := benchInput(b)
	ctx := context.Background()
	loopCPU(b, func() {
		r, err := e.EvaluateValue(ctx, input)
		if err != nil || r.Denied() || len(r.Warnings) != 3 {
			b.Fatalf("EvaluateValue = %+v, %v; want 3 warnings (tags without digests), no failure", r, err)
		}
	})
}

// BenchmarkPolicy evaluates the bench Pod against each policy on its own, to
// show where the library's time goes.
func BenchmarkPolicy(b *testing.B) {
	c := compileLibrary(b, ast.CapabilitiesForThisVersion())
	input := benchInput(b)
	ctx := context.Background()
	for _, dir := range policyFolders(b) {
		pq := prepare(b, c, "data.gitgate."+strings.ReplaceAll(dir, "/", ".")+".deny")
		b.Run(dir, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pq.Eval(ctx, rego.EvalParsedInput(input)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchInput is the admission request for benchPod as a Rego value, made
// once before the timed loop.
func benchInput(b *testing.B) ast.Value {
	b.Helper()
	var pod map[string]any
	if err := json.Unmarshal([]byte(benchPod), &pod); err != nil {
		b.Fatal(err)
	}
	input, err := ast.InterfaceToValue(admissionReview(pod, "apps"))
	if err != nil {
		b.Fatal(err)
	}
	return input
}

// loopCPU runs op in the benchmark loop and reports allocations and the
// CPU time per op.
func loopCPU(b *testing.B, op func()) {
	b.Helper()
	b.ReportAllocs()
	cpu := profile.CPUTime()
	for b.Loop() {
		op()
	}
	b.ReportMetric(float64(profile.CPUTime()-cpu)/float64(b.N), "cpu-ns/op")
}
