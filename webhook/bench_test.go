package webhook

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"gitgate.dev/gitgate/internal/benchobj"
	"gitgate.dev/gitgate/internal/gctune"
	"gitgate.dev/gitgate/internal/profile"
	"gitgate.dev/gitgate/provenance/index"
)

// liveBig is the big Deployment of the benchmarks as the API server stores
// it, with the fuller pod spec defaults of this package's live objects.
func liveBig() map[string]any {
	obj := benchobj.Live("demo", 7, "981273")
	defaultPodSpec(obj["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any))
	return obj
}

// benchFixture is the test fixture with the big Deployment in the Index.
func benchFixture(b *testing.B) *fixture {
	b.Helper()
	// The garbage collector as gitgate serve sets it (GOGC 400 unless the
	// environment sets GOGC): GOGC=100 in the environment measures Go's
	// default.
	b.Cleanup(gctune.Tune(b.Context(), os.LookupEnv))
	f := newFixture(b)
	bld := index.NewBuilder()
	for _, name := range gitFiles {
		if _, err := bld.Add(gitObject(b, name), origin(name)); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := bld.Add(&unstructured.Unstructured{Object: benchobj.Manifest("demo")}, origin("big")); err != nil {
		b.Fatal(err)
	}
	if err := f.store.Publish(testSource, bld.Build()); err != nil {
		b.Fatal(err)
	}
	return f
}

// reportPercentiles reports the 50th and 99th percentile of per-op
// durations, which ns/op (a mean) hides.
func reportPercentiles(b *testing.B, d []time.Duration, cpuStart time.Duration) {
	b.Helper()
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	b.ReportMetric(float64((profile.CPUTime()-cpuStart).Nanoseconds())/float64(len(d)), "cpu-ns/op")
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
	obj := liveBig()
	req := newRequest(b, admissionv1.Update, obj, liveBig())
	b.ReportMetric(float64(len(req.Object.Raw)), "object-bytes")
	benchValidate(b, f, req, true)
}

// BenchmarkDecideNoPolicy is BenchmarkDecide without Rego: the webhook's
// own share (decode, Index, conformance, answer).
func BenchmarkDecideNoPolicy(b *testing.B) {
	f := benchFixture(b)
	f.s.SetPolicy(nil)
	benchValidate(b, f, newRequest(b, admissionv1.Update, liveBig(), liveBig()), true)
}

// BenchmarkDecideDenied is the same request with a changed image: the
// denial path (differences, message, Event), which skips Rego.
func BenchmarkDecideDenied(b *testing.B) {
	f := benchFixture(b)
	f.s.opts.AuditLog = io.Discard
	obj := liveBig()
	c := obj["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[1].(map[string]any)
	c["image"] = "registry.example.com/shop/worker:evil"
	benchValidate(b, f, newRequest(b, admissionv1.Update, obj, liveBig()), false)
}

func benchValidate(b *testing.B, f *fixture, req admission.Request, wantAllowed bool) {
	b.Helper()
	ctx := b.Context()
	if resp := f.s.Validate(ctx, req); resp.Allowed != wantAllowed {
		b.Fatalf("allowed=%v, want %v: %+v", resp.Allowed, wantAllowed, resp.Result)
	}
	durations := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	cpu := profile.CPUTime()
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
	body := reviewBody(b, reviewV1, newRequest(b, admissionv1.Update, liveBig(), liveBig()))
	h := f.s.Handler()
	durations := make([]time.Duration, 0, 1<<16)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	cpu := profile.CPUTime()
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
	req := newRequest(b, admissionv1.Update, liveBig(), liveBig())
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
	req := newRequest(b, admissionv1.Update, liveBig(), liveBig())
	ix := f.s.opts.Desired.Current()
	r, err := f.s.parseReview(&req.AdmissionRequest, ix, nil)
	if err != nil {
		b.Fatal(err)
	}
	e, _ := ix.Lookup(r.key)
	engine := libraryEngine(b)
	durations := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	cpu := profile.CPUTime()
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
	req := newRequest(b, admissionv1.Update, liveBig(), liveBig())
	ix := f.s.opts.Desired.Current()
	r, err := f.s.parseReview(&req.AdmissionRequest, ix, nil)
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
