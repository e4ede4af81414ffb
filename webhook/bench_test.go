package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"gitgate.dev/gitgate/provenance/index"
)

// bigDeployment is a Git manifest of a Deployment with three containers,
// environment, mounts, probes and resources: with the server's defaults,
// managedFields and status it is about 10 KB of JSON, a large but ordinary
// object.
func bigDeployment() map[string]any {
	labels := map[string]any{"app.kubernetes.io/name": "big", "app.kubernetes.io/part-of": "shop", "app.kubernetes.io/version": "3.2.1"}
	containers := []any{}
	for i, name := range []string{"api", "worker", "proxy"} {
		env := []any{}
		for j := range 30 {
			env = append(env, map[string]any{"name": fmt.Sprintf("SETTING_%s_%02d", name, j), "value": fmt.Sprintf("value-%d-%d", i, j)})
		}
		env = append(env, map[string]any{"name": "POD_NAME", "valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "metadata.name"}}})
		containers = append(containers, map[string]any{
			"name":  name,
			"image": fmt.Sprintf("registry.example.com/shop/%s:3.2.1", name),
			"args":  []any{"--port", fmt.Sprint(8080 + i), "--log-format", "json"},
			"ports": []any{map[string]any{"name": "http", "containerPort": int64(8080 + i)}, map[string]any{"name": "metrics", "containerPort": int64(9090 + i)}},
			"env":   env,
			"resources": map[string]any{
				"requests": map[string]any{"cpu": "250m", "memory": "256Mi"},
				"limits":   map[string]any{"memory": "512Mi"},
			},
			"volumeMounts":   []any{map[string]any{"name": "config", "mountPath": "/etc/shop"}, map[string]any{"name": "tmp", "mountPath": "/tmp"}},
			"livenessProbe":  map[string]any{"httpGet": map[string]any{"path": "/healthz", "port": int64(8080 + i)}, "initialDelaySeconds": int64(5)},
			"readinessProbe": map[string]any{"httpGet": map[string]any{"path": "/ready", "port": int64(8080 + i)}},
			"securityContext": map[string]any{
				"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
				"capabilities": map[string]any{"drop": []any{"ALL"}},
			},
		})
	}
	return map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "big", "namespace": "demo", "labels": labels},
		"spec": map[string]any{
			"replicas": int64(3),
			"selector": map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "big"}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": labels, "annotations": map[string]any{"prometheus.io/scrape": "true"}},
				"spec": map[string]any{
					"serviceAccountName": "shop",
					"securityContext":    map[string]any{"runAsNonRoot": true, "runAsUser": int64(10001), "seccompProfile": map[string]any{"type": "RuntimeDefault"}},
					"containers":         containers,
					"volumes":            []any{map[string]any{"name": "config", "configMap": map[string]any{"name": "shop"}}, map[string]any{"name": "tmp", "emptyDir": map[string]any{}}},
				},
			},
		},
	}
}

// liveBig is bigDeployment as the API server stores it.
func liveBig(tb testing.TB) map[string]any {
	obj := roundTrip(tb, bigDeployment())
	md := obj["metadata"].(map[string]any)
	md["uid"], md["resourceVersion"], md["generation"] = "0b7d6c5e-4f3a-4b2c-9d1e-0f9a8b7c6d5e", "981273", int64(7)
	md["creationTimestamp"] = "2025-01-02T03:04:05Z"
	md["annotations"] = map[string]any{"deployment.kubernetes.io/revision": "7"}
	fields := map[string]any{}
	for _, c := range []string{"api", "worker", "proxy"} {
		fields[fmt.Sprintf(`k:{"name":"%s"}`, c)] = map[string]any{".": map[string]any{}, "f:env": map[string]any{}, "f:image": map[string]any{}, "f:ports": map[string]any{}, "f:resources": map[string]any{}, "f:securityContext": map[string]any{}}
	}
	md["managedFields"] = []any{map[string]any{
		"manager": "gitgate", "operation": "Apply", "apiVersion": "apps/v1", "time": "2025-01-02T03:04:05Z", "fieldsType": "FieldsV1",
		"fieldsV1": map[string]any{"f:spec": map[string]any{"f:template": map[string]any{"f:spec": map[string]any{"f:containers": fields}}}},
	}}
	spec := obj["spec"].(map[string]any)
	spec["revisionHistoryLimit"], spec["progressDeadlineSeconds"] = int64(10), int64(600)
	spec["strategy"] = map[string]any{"type": "RollingUpdate", "rollingUpdate": map[string]any{"maxSurge": "25%", "maxUnavailable": "25%"}}
	defaultPodSpec(spec["template"].(map[string]any)["spec"].(map[string]any))
	obj["status"] = map[string]any{"replicas": int64(3), "readyReplicas": int64(3), "updatedReplicas": int64(3), "availableReplicas": int64(3), "observedGeneration": int64(7),
		"conditions": []any{map[string]any{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "lastUpdateTime": "2025-01-02T03:05:00Z", "lastTransitionTime": "2025-01-02T03:05:00Z", "message": "Deployment has minimum availability."}}}
	return obj
}

// benchFixture is the test fixture with the big Deployment in the Index.
func benchFixture(b *testing.B) *fixture {
	b.Helper()
	f := newFixture(b)
	bld := index.NewBuilder()
	for _, name := range gitFiles {
		if _, err := bld.Add(gitObject(b, name), origin(name)); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := bld.Add(&unstructured.Unstructured{Object: bigDeployment()}, origin("big")); err != nil {
		b.Fatal(err)
	}
	if err := f.store.Publish(testSource, bld.Build()); err != nil {
		b.Fatal(err)
	}
	return f
}

// cpuTime is the CPU time the process has used. On a shared machine the
// wall-clock time of an operation includes waiting for a core; CPU time
// per op does not.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportPercentiles reports the 50th and 99th percentile of per-op
// durations, which ns/op (a mean) hides.
func reportPercentiles(b *testing.B, d []time.Duration, cpuStart time.Duration) {
	b.Helper()
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	b.ReportMetric(float64((cpuTime(b)-cpuStart).Nanoseconds())/float64(len(d)), "cpu-ns/op")
	b.ReportMetric(float64(d[len(d)*50/100].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(d[min(len(d)*99/100, len(d)-1)].Nanoseconds()), "p99-ns")
}

// BenchmarkDecide is the in-process decision on an UPDATE of a ~10 KB
// managed Deployment (object and oldObject) that conforms, with the whole
// policy library: decode both objects, look up the Index, compare with
// Git, build the Rego input and evaluate every library policy, answer.
// Target (issue 4): p99 ≤ 1 ms.
func BenchmarkDecide(b *testing.B) {
	f := benchFixture(b)
	obj := liveBig(b)
	req := newRequest(b, admissionv1.Update, obj, liveBig(b))
	b.ReportMetric(float64(len(req.Object.Raw)), "object-bytes")
	benchValidate(b, f, req, true)
}

// BenchmarkDecideNoPolicy is BenchmarkDecide without Rego: the webhook's
// own share (decode, Index, conformance, answer).
func BenchmarkDecideNoPolicy(b *testing.B) {
	f := benchFixture(b)
	f.s.SetPolicy(nil)
	benchValidate(b, f, newRequest(b, admissionv1.Update, liveBig(b), liveBig(b)), true)
}

// BenchmarkDecideDenied is the same request with a changed image: the
// denial path (differences, message, Event), which skips Rego.
func BenchmarkDecideDenied(b *testing.B) {
	f := benchFixture(b)
	f.s.opts.AuditLog = io.Discard
	obj := liveBig(b)
	c := obj["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[1].(map[string]any)
	c["image"] = "registry.example.com/shop/worker:evil"
	benchValidate(b, f, newRequest(b, admissionv1.Update, obj, liveBig(b)), false)
}

func benchValidate(b *testing.B, f *fixture, req admission.Request, wantAllowed bool) {
	b.Helper()
	ctx := b.Context()
	if resp := f.s.Validate(ctx, req); resp.Allowed != wantAllowed {
		b.Fatalf("allowed=%v, want %v: %+v", resp.Allowed, wantAllowed, resp.Result)
	}
	durations := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	cpu := cpuTime(b)
	for b.Loop() {
		start := time.Now()
		resp := f.s.Validate(ctx, req)
		durations = append(durations, time.Since(start))
		if resp.Allowed != wantAllowed {
			b.Fatal("verdict changed")
		}
	}
	reportPercentiles(b, durations, cpu)
}

// BenchmarkServeHTTP adds the HTTP layer in process: read and decode the
// AdmissionReview body, decide, encode the answer.
func BenchmarkServeHTTP(b *testing.B) {
	f := benchFixture(b)
	body := reviewBody(b, reviewV1, newRequest(b, admissionv1.Update, liveBig(b), liveBig(b)))
	h := f.s.Handler()
	durations := make([]time.Duration, 0, 1<<16)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	cpu := cpuTime(b)
	for b.Loop() {
		hr := httptest.NewRequestWithContext(b.Context(), http.MethodPost, ValidatePath, bytes.NewReader(body))
		hr.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, hr)
		durations = append(durations, time.Since(start))
		var out admissionv1.AdmissionReview
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Response == nil || !out.Response.Allowed {
			b.Fatalf("answer %s", rec.Body)
		}
	}
	reportPercentiles(b, durations, cpu)
}

// BenchmarkMutate stamps the big Deployment.
func BenchmarkMutate(b *testing.B) {
	f := benchFixture(b)
	req := newRequest(b, admissionv1.Update, liveBig(b), liveBig(b))
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if resp := f.s.Mutate(ctx, req); len(resp.Patches) == 0 {
			b.Fatal("no patch")
		}
	}
}

// BenchmarkPolicyLibrary is the Rego share of BenchmarkDecide alone: the
// whole library on the prebuilt input of the big Deployment's UPDATE.
func BenchmarkPolicyLibrary(b *testing.B) {
	f := benchFixture(b)
	req := newRequest(b, admissionv1.Update, liveBig(b), liveBig(b))
	ix := f.s.opts.Desired.Current()
	r, err := f.s.parseReview(&req.AdmissionRequest, ix)
	if err != nil {
		b.Fatal(err)
	}
	e, _ := ix.Lookup(r.key)
	engine := libraryEngine(b)
	durations := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	cpu := cpuTime(b)
	for b.Loop() {
		start := time.Now()
		// The input is made for each evaluation, as the server does: it
		// converts lazily, so part of the conversion happens in Rego.
		if _, err := engine.EvaluateValue(b.Context(), policyValue(policyInput(r, &e.Origin, f.s.scope.Load()))); err != nil {
			b.Fatal(err)
		}
		durations = append(durations, time.Since(start))
	}
	reportPercentiles(b, durations, cpu)
}

// BenchmarkPolicyInput is the cost of turning the request into Rego's
// input value if it were converted whole, as before the server's input
// became lazy (policyValue): the share of BenchmarkDecide it saves.
func BenchmarkPolicyInput(b *testing.B) {
	f := benchFixture(b)
	req := newRequest(b, admissionv1.Update, liveBig(b), liveBig(b))
	ix := f.s.opts.Desired.Current()
	r, err := f.s.parseReview(&req.AdmissionRequest, ix)
	if err != nil {
		b.Fatal(err)
	}
	sc := f.s.scope.Load()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ast.InterfaceToValue(policyInput(r, nil, sc)); err != nil {
			b.Fatal(err)
		}
	}
}
