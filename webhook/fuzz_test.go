package webhook

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FuzzAdmissionReview sends arbitrary bodies through the whole server
// (decode, decide with the policy library, mutate, encode). Every body
// must get an AdmissionReview answer, and nothing may panic: panics are
// recovered and answered 500, so the test checks the panic counter.
func FuzzAdmissionReview(f *testing.F) {
	fx := newFixture(f)
	h := fx.s.Handler()
	podKind := &metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}
	for _, req := range [][]byte{
		reviewBody(f, reviewV1, newRequest(f, admissionv1.Create, live(f, "web"), nil)),
		reviewBody(f, reviewV1beta1, newRequest(f, admissionv1.Update, setPath(live(f, "web"), int64(4), "spec", "replicas"), live(f, "web"))),
		reviewBody(f, reviewV1, newRequest(f, admissionv1.Delete, nil, live(f, "config"))),
		reviewBody(f, reviewV1, scaleRequest(f, 3, 2)),
		reviewBody(f, reviewV1, newRequest(f, admissionv1.Update, live(f, "toolbox"), live(f, "toolbox"), subresource("ephemeralcontainers", podKind))),
		reviewBody(f, reviewV1, newRequest(f, admissionv1.Create, childPod(f, "web-1"), nil)),
		reviewBody(f, reviewV1, newRequest(f, admissionv1.Create, configMap("demo", "x", map[string]any{"a": "b"}), nil)),
		reviewBody(f, reviewV1, newRequest(f, admissionv1.Update, setPath(live(f, "namespace"), "true", "metadata", "labels", ExemptLabel), live(f, "namespace"))),
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
	} {
		f.Add(req)
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
