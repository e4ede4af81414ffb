package webhook

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
)

// FuzzAdmissionReview sends arbitrary bodies through the whole server
// (decode, decide with the policy library, mutate, encode). Every body
// must get an AdmissionReview answer, and nothing may panic: panics are
// recovered and answered 500, so the test checks the panic counter.
func FuzzAdmissionReview(f *testing.F) {
	fx := newFixture(f)
	h := fx.s.Handler()
	for _, body := range reviewSeeds(f) {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, path := range []string{ValidatePath, MutatePath} {
			hr := httptest.NewRequestWithContext(t.Context(), http.MethodPost, path, bytes.NewReader(body))
			hr.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, hr)
			if rec.Code != http.StatusOK {
				t.Fatalf("%s: status %d: %s", path, rec.Code, rec.Body)
			}
			var out admissionv1.AdmissionReview
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Response == nil {
				t.Fatalf("%s: answer is not an AdmissionReview (%v): %s", path, err, rec.Body)
			}
			if out.Response.Allowed && out.Response.Result != nil && out.Response.Result.Code >= 400 {
				t.Fatalf("%s: allowed with code %d", path, out.Response.Result.Code)
			}
		}
		if n := counterValue(t, fx.s.metrics.panics); n != 0 {
			t.Fatalf("%v panics recovered", n)
		}
	})
}

// reviewSeeds are AdmissionReview bodies for the fuzz tests of the decode
// path: reviews as the API server sends them, and malformed ones.
func reviewSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	podKind := &metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}
	return [][]byte{
		reviewBody(tb, reviewV1, newRequest(tb, admissionv1.Create, live(tb, "web"), nil)),
		reviewBody(tb, reviewV1beta1, newRequest(tb, admissionv1.Update, setPath(live(tb, "web"), int64(4), "spec", "replicas"), live(tb, "web"))),
		reviewBody(tb, reviewV1, newRequest(tb, admissionv1.Delete, nil, live(tb, "config"))),
		reviewBody(tb, reviewV1, scaleRequest(tb, 3, 2)),
		reviewBody(tb, reviewV1, newRequest(tb, admissionv1.Update, live(tb, "toolbox"), live(tb, "toolbox"), subresource("ephemeralcontainers", podKind))),
		reviewBody(tb, reviewV1, newRequest(tb, admissionv1.Create, childPod(tb, "web-1"), nil)),
		reviewBody(tb, reviewV1, newRequest(tb, admissionv1.Create, configMap("demo", "x", map[string]any{"a": "b"}), nil)),
		reviewBody(tb, reviewV1, newRequest(tb, admissionv1.Update, setPath(live(tb, "namespace"), "true", "metadata", "labels", ExemptLabel), live(tb, "namespace"))),
		[]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","kind":{"group":"apps","version":"v1","kind":"Deployment"},"namespace":"demo","name":"web","object":{"metadata":{"labels":null,"annotations":[1]},"spec":{"replicas":"2"}}}}`),
		[]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"UPDATE","subResource":"scale","resource":{"group":"apps","resource":"deployments"},"namespace":"demo","name":"web","object":{"spec":null},"oldObject":[]}}`),
		[]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"DELETE","kind":{"kind":"Pod"},"namespace":"demo","name":"p","oldObject":{"metadata":{"ownerReferences":[null,{"controller":"yes"}],"deletionTimestamp":{}}}}}`),
		[]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","object":{"metadata":"x"}}}`),
		[]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","object":{"a":1e999}}}`),
		[]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":null}`),
		[]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","object":{}, "object":{"x":1}}}`),
		[]byte(`{`),
		[]byte(`null`),
		[]byte(``),
		// As the API server sends it, with every field.
		[]byte(`{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"705ab4f5-6393-11e8-b7cc-42010a800002",` +
			`"kind":{"group":"apps","version":"v1","kind":"Deployment"},"resource":{"group":"apps","version":"v1","resource":"deployments"},` +
			`"requestKind":{"group":"apps","version":"v1beta1","kind":"Deployment"},"requestResource":{"group":"apps","version":"v1beta1","resource":"deployments"},` +
			`"subResource":"","requestSubResource":"","name":"web","namespace":"demo","operation":"UPDATE",` +
			`"userInfo":{"username":"admin","uid":"014fbff9a07c","groups":["system:authenticated","admins"],"extra":{"scopes":["a","b"],"empty":[],"scopes":["c"]}},` +
			`"object":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"demo","labels":{"app":"web"}},"spec":{"replicas":2,"x":1.5e0,"y":-0,"z":"\ud800\u00e9"}},` +
			`"oldObject":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"demo"},"spec":{"replicas":1}},` +
			`"dryRun":false,"options":{"kind":"UpdateOptions","apiVersion":"meta.k8s.io/v1","fieldManager":"kubectl-client-side-apply"}}}`),
		// Repeated fields that the general decoder merges or keeps.
		[]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","kind":{"group":"apps"},"kind":{"kind":"Deployment"},"name":"a","name":"b"}}`),
		[]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","userInfo":{"groups":["a","b"]},"userInfo":{"groups":[null]}}}`),
		[]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","object":{"a":1},"object":null,"dryRun":true,"dryRun":null}}`),
		[]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u"},"request":{"operation":"DELETE"}}`),
		// Escaped and differently cased names, nulls, wrong types.
		[]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","Request":{"uid":"x"},"request":{"ui\u0064":"u","UID":"v","operation":"DELETE","oldObject":{"metadata":{"name":"n"}},"object":null,"options":null,"dryRun":null}}`),
		[]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":5,"operation":"CREATE"}}`),
		[]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":null,"operation":"CREATE","userInfo":{"groups":[],"extra":{}}}}`),
		[]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","userInfo":{"groups":[],"extra":{}},"object":{"metadata":{}}}}`),
		[]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","options":[],"userInfo":null}}`),
		[]byte(`{"apiVersion":null,"kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","object":{"metadata":{"name":"x"}}}} `),
	}
}

// FuzzFastReviewAgrees checks fastReview against the general decoder it
// stands in for: whatever body fastReview accepts, sigs.k8s.io/json
// accepts too and reads as the same envelope (the objects' text
// included), and the objects fastReview decoded in its pass are those
// that parseReview decodes from that envelope.
func FuzzFastReviewAgrees(f *testing.F) {
	for _, body := range reviewSeeds(f) {
		f.Add(body)
	}
	manifest := func(*admissionv1.AdmissionRequest) map[string]any {
		return map[string]any{"metadata": map[string]any{"name": "x", "labels": map[string]any{"a": "b"}}, "spec": map[string]any{"replicas": int64(1)}}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := fastReview(body, manifest)
		if !ok {
			return // left to the general decoder
		}
		var want reviewEnvelope
		if err := kjson.UnmarshalCaseSensitivePreserveInts(body, &want); err != nil {
			t.Fatalf("fastReview accepted what sigs.k8s.io/json refuses (%v): %q", err, body)
		}
		objs := fast.objects
		fast.objects = nil
		if !reflect.DeepEqual(*fast, want) {
			t.Fatalf("fastReview read\n%#v\nsigs.k8s.io/json read\n%#v\nfrom %q", fast.Request, want.Request, body)
		}
		if want.Request == nil {
			return // decodeReview refuses it
		}
		r := &review{req: want.Request}
		if err := r.decodeObjects(nil); err != nil {
			// The objects are decoded and refused later (not an object).
			if objs.object != nil || objs.old != nil {
				t.Fatalf("fastReview decoded objects that parseReview refuses (%v): %q", err, body)
			}
			return
		}
		if !reflect.DeepEqual(objs.object, r.object) || !reflect.DeepEqual(objs.old, r.old) {
			t.Fatalf("fastReview decoded\n%#v\n%#v\nparseReview decodes\n%#v\n%#v\nfrom %q", objs.object, objs.old, r.object, r.old, body)
		}
	})
}
