package webhook

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"gitgate.dev/gitgate/policy"
)

// reviewBody encodes req as the API server sends it.
func reviewBody(t testing.TB, apiVersion string, req admission.Request) []byte {
	t.Helper()
	body, err := json.Marshal(map[string]any{"apiVersion": apiVersion, "kind": "AdmissionReview", "request": req.AdmissionRequest})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// post sends body to path and decodes the AdmissionReview answer.
func post(t testing.TB, h http.Handler, path, contentType string, body io.Reader) (*httptest.ResponseRecorder, admissionv1.AdmissionReview) {
	t.Helper()
	hr := httptest.NewRequestWithContext(t.Context(), http.MethodPost, path, body)
	if contentType != "" {
		hr.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, hr)
	var out admissionv1.AdmissionReview
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("answer is not an AdmissionReview: %v\n%s", err, rec.Body)
		}
	}
	return rec, out
}

func TestServeReview(t *testing.T) {
	f := newFixture(t)
	h := f.s.Handler()
	t.Run("allowed, v1", func(t *testing.T) {
		req := newRequest(t, admissionv1.Create, live(t, "web"), nil)
		rec, out := post(t, h, ValidatePath, "application/json", bytes.NewReader(reviewBody(t, "admission.k8s.io/v1", req)))
		if rec.Code != http.StatusOK || out.Response == nil || !out.Response.Allowed {
			t.Fatalf("status %d, answer %s", rec.Code, rec.Body)
		}
		if out.APIVersion != "admission.k8s.io/v1" || out.Kind != "AdmissionReview" || out.Response.UID != req.UID {
			t.Errorf("answer %s %s uid %q, want v1 AdmissionReview for %q", out.APIVersion, out.Kind, out.Response.UID, req.UID)
		}
		if rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("content type %q", rec.Header().Get("Content-Type"))
		}
	})
	t.Run("denied, v1beta1", func(t *testing.T) {
		req := scaleRequest(t, 7, 2)
		rec, out := post(t, h, ValidatePath, "application/json; charset=utf-8", bytes.NewReader(reviewBody(t, "admission.k8s.io/v1beta1", req)))
		if rec.Code != http.StatusOK || out.Response == nil || out.Response.Allowed {
			t.Fatalf("status %d, answer %s", rec.Code, rec.Body)
		}
		r := out.Response.Result
		if out.APIVersion != "admission.k8s.io/v1beta1" || r.Code != http.StatusForbidden || r.Reason != "Forbidden" {
			t.Errorf("answer %s, result %+v", out.APIVersion, r)
		}
		if !strings.Contains(r.Message, "spec.replicas: Git has 2, the object has 7") {
			t.Errorf("message %q", r.Message)
		}
		if r.Details == nil || len(r.Details.Causes) != 1 || r.Details.Causes[0].Field != "spec.replicas" {
			t.Errorf("details %+v, want the differing field as a cause", r.Details)
		}
	})
	t.Run("mutate", func(t *testing.T) {
		req := newRequest(t, admissionv1.Create, live(t, "web"), nil)
		rec, out := post(t, h, MutatePath, "application/json", bytes.NewReader(reviewBody(t, "admission.k8s.io/v1", req)))
		if rec.Code != http.StatusOK || out.Response == nil || !out.Response.Allowed || out.Response.PatchType == nil || len(out.Response.Patch) == 0 {
			t.Fatalf("status %d, answer %s", rec.Code, rec.Body)
		}
		if !strings.Contains(string(out.Response.Patch), `"/metadata/annotations/gitgate.dev~1commit"`) {
			t.Errorf("patch %s", out.Response.Patch)
		}
	})
}

func TestServeMalformed(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxRequestBytes = 64 << 10 })
	h := f.s.Handler()
	valid := reviewBody(t, "admission.k8s.io/v1", newRequest(t, admissionv1.Create, live(t, "web"), nil))
	uid := "0e4b2c6a-7f1d-4e3a-9b8c-1d2e3f4a5b6c"
	tests := []struct {
		name        string
		contentType string
		body        io.Reader
		code        int32
		uid         string // echoed when the body names one
	}{
		{"empty body", "application/json", strings.NewReader(""), 400, ""},
		{"not JSON", "application/json", strings.NewReader("hello"), 400, ""},
		{"truncated", "application/json", bytes.NewReader(valid[:len(valid)/2]), 400, ""},
		{"a JSON array", "application/json", strings.NewReader("[1,2]"), 400, ""},
		{"wrong kind", "application/json", strings.NewReader(`{"apiVersion":"admission.k8s.io/v1","kind":"Pod","request":{"uid":"x"}}`), 400, ""},
		{"wrong version", "application/json", strings.NewReader(`{"apiVersion":"admission.k8s.io/v2","kind":"AdmissionReview","request":{"uid":"x"}}`), 400, ""},
		{"no request", "application/json", strings.NewReader(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`), 400, ""},
		{"no uid", "application/json", strings.NewReader(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"operation":"CREATE","object":{}}}`), 400, ""},
		{"wrongly typed field", "application/json", strings.NewReader(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"` + uid + `","operation":5}}`), 400, uid},
		{"unknown operation", "application/json", strings.NewReader(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"` + uid + `","operation":"PATCH","object":{}}}`), 400, uid},
		{"object not an object", "application/json", strings.NewReader(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"` + uid + `","operation":"CREATE","object":5}}`), 400, uid},
		{"create without object", "application/json", strings.NewReader(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"` + uid + `","operation":"CREATE"}}`), 400, uid},
		{"case-folded field names are not the real ones", "application/json", strings.NewReader(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","Request":{"uid":"` + uid + `"}}`), 400, ""},
		{"oversized", "application/json", bytes.NewReader(append(valid[:len(valid)-1], []byte(`,"pad":"`+strings.Repeat("x", 70<<10)+`"}`)...)), 413, ""},
		{"oversized without a length", "application/json", io.MultiReader(strings.NewReader(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"`), strings.NewReader(strings.Repeat("x", 70<<10))), 413, ""},
		{"wrong content type", "text/plain", bytes.NewReader(valid), 415, ""},
		{"no content type", "", bytes.NewReader(valid), 415, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, out := post(t, h, ValidatePath, tc.contentType, tc.body)
			if rec.Code != http.StatusOK || out.Response == nil {
				t.Fatalf("status %d, body %s", rec.Code, rec.Body)
			}
			r := out.Response
			if r.Allowed || r.Result == nil || r.Result.Code != tc.code {
				t.Fatalf("allowed=%v result=%+v, want code %d", r.Allowed, r.Result, tc.code)
			}
			if string(r.UID) != tc.uid {
				t.Errorf("uid %q, want %q", r.UID, tc.uid)
			}
		})
	}
	if got := counterValue(t, f.s.metrics.requests.WithLabelValues(otherLabel, otherLabel, decisionErrored, string(ReasonBadRequest))); got < 10 {
		t.Errorf("bad requests counted %v times", got)
	}
	if got := counterValue(t, f.s.metrics.panics); got != 0 {
		t.Errorf("panics = %v", got)
	}
}

func TestServeMalformedMutate(t *testing.T) {
	f := newFixture(t)
	rec, out := post(t, f.s.Handler(), MutatePath, "application/json", strings.NewReader(`{"apiVersion":"admission.k8s.io/v1"`))
	if rec.Code != http.StatusOK || out.Response == nil || out.Response.Allowed || out.Response.Result.Code != 400 {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body)
	}
}

func TestServeMethodsAndProbes(t *testing.T) {
	ready := false
	f := newFixture(t, func(o *Options) { o.Ready = func() bool { return ready } })
	h := f.s.Handler()
	get := func(path string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil))
		return rec.Code
	}
	if c := get(ValidatePath); c != http.StatusMethodNotAllowed {
		t.Errorf("GET %s = %d", ValidatePath, c)
	}
	if c := get(HealthzPath); c != http.StatusOK {
		t.Errorf("GET %s = %d", HealthzPath, c)
	}
	if c := get(ReadyzPath); c != http.StatusServiceUnavailable {
		t.Errorf("GET %s before ready = %d", ReadyzPath, c)
	}
	ready = true
	if c := get(ReadyzPath); c != http.StatusOK {
		t.Errorf("GET %s when ready = %d", ReadyzPath, c)
	}
}

// panicking is a policy engine with a bug.
type panicking struct{}

func (panicking) EvaluateValue(context.Context, ast.Value) (policy.Result, error) {
	panic("index out of range in a policy engine")
}

func TestServePanic(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Policy = panicking{} })
	req := newRequest(t, admissionv1.Create, live(t, "web"), nil)
	rec, out := post(t, f.s.Handler(), ValidatePath, "application/json", bytes.NewReader(reviewBody(t, "admission.k8s.io/v1", req)))
	if rec.Code != http.StatusOK || out.Response == nil {
		t.Fatalf("status %d, body %s", rec.Code, rec.Body)
	}
	r := out.Response
	if r.Allowed || r.Result.Code != http.StatusInternalServerError || r.UID != req.UID {
		t.Fatalf("answer %+v, want a 500 for uid %s", r, req.UID)
	}
	if strings.Contains(r.Result.Message, "index out of range") {
		t.Errorf("the panic value leaked into the answer: %q", r.Result.Message)
	}
	if got := counterValue(t, f.s.metrics.panics); got != 1 {
		t.Errorf("gitgate_admission_panics_total = %v, want 1", got)
	}
	if got := counterValue(t, f.s.metrics.requests.WithLabelValues("CREATE", "Deployment.apps", decisionErrored, string(ReasonInternal))); got != 1 {
		t.Errorf("errored requests = %v, want 1", got)
	}
	if !strings.Contains(f.audit.String(), `"decision":"errored","reason":"InternalError","message":"internal error (a recovered panic)"`) {
		t.Errorf("audit log lacks the failed request:\n%s", f.audit)
	}
	// Called directly, Validate recovers too.
	if resp := f.s.Validate(t.Context(), req); resp.Allowed || resp.Result.Code != http.StatusInternalServerError {
		t.Errorf("Validate after a panic: %+v", resp.Result)
	}
	if got := counterValue(t, f.s.metrics.panics); got != 2 {
		t.Errorf("gitgate_admission_panics_total = %v, want 2", got)
	}
}

func TestRequestTimeout(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		query string
		want  time.Duration
	}{
		{"", 2700 * time.Millisecond},
		{"?timeout=1s", 900 * time.Millisecond},
		{"?timeout=10s", 2700 * time.Millisecond},
		{"?timeout=bogus", 2700 * time.Millisecond},
		{"?timeout=-1s", 2700 * time.Millisecond},
	} {
		hr := httptest.NewRequestWithContext(t.Context(), http.MethodPost, ValidatePath+tc.query, nil)
		if got := f.s.requestTimeout(hr); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.query, got, tc.want)
		}
	}
}

// selfSigned returns a serving certificate for 127.0.0.1 and a pool that
// trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "gitgate-webhook"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

// tlsServer is a Server serving HTTPS on loopback through serve (Serve or
// ServeHandler), and a client that trusts it and would take HTTP/2.
type tlsServer struct {
	addr     string
	accepted *atomic.Int32 // connections accepted
	client   *http.Client
	stop     func() // ends serve's context and checks that it returns
}

func startTLS(t *testing.T, serve func(context.Context, net.Listener, *tls.Config) error) tlsServer {
	t.Helper()
	cert, pool := selfSigned(t)
	var lc net.ListenConfig
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	counted := &countingListener{Listener: ln}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, counted, &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert, nil }})
	}()
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, ForceAttemptHTTP2: true}
	t.Cleanup(transport.CloseIdleConnections)
	return tlsServer{
		addr: ln.Addr().String(), accepted: &counted.accepted,
		client: &http.Client{Transport: transport, Timeout: 10 * time.Second},
		stop: func() {
			t.Helper()
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Serve after cancel: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("Serve did not return after its context ended")
			}
		},
	}
}

type countingListener struct {
	net.Listener
	accepted atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// review posts req to the validating webhook and returns the answer, the
// protocol and the TLS state of the response.
func (ts tlsServer) review(t *testing.T, req admission.Request) (*admissionv1.AdmissionResponse, string, *tls.ConnectionState) {
	t.Helper()
	hr, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "https://"+ts.addr+ValidatePath+"?timeout=3s", bytes.NewReader(reviewBody(t, "admission.k8s.io/v1", req)))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "application/json")
	resp, err := ts.client.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out admissionv1.AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Response, resp.Proto, resp.TLS
}

func TestServeTLS(t *testing.T) {
	f := newFixture(t)
	ts := startTLS(t, f.s.Serve)
	out, proto, state := ts.review(t, scaleRequest(t, 3, 2))
	if out == nil || out.Allowed || !strings.Contains(out.Result.Message, "spec.replicas: Git has 2, the object has 3") {
		t.Fatalf("answer %+v", out)
	}
	if proto != "HTTP/1.1" {
		t.Errorf("protocol %s, want HTTP/1.1 unless EnableHTTP2", proto)
	}
	if state == nil || state.Version < tls.VersionTLS12 {
		t.Errorf("TLS state %+v", state)
	}
	ts.stop()
}

// TestServeHandlerKeepsConnections: ServeHandler answers with the handler
// it is given, over HTTP/1.1 as Serve does, and successive reviews share
// one TLS connection, as the API server sends them: a handshake per call
// would add round trips and a key exchange to every write.
func TestServeHandlerKeepsConnections(t *testing.T) {
	f := newFixture(t)
	var wrapped atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wrapped.Add(1)
		f.s.Handler().ServeHTTP(w, r)
	})
	ts := startTLS(t, func(ctx context.Context, ln net.Listener, cfg *tls.Config) error {
		return f.s.ServeHandler(ctx, ln, cfg, h)
	})
	const calls = 3
	for range calls {
		out, proto, _ := ts.review(t, scaleRequest(t, 2, 2))
		if out == nil || !out.Allowed {
			t.Fatalf("answer %+v", out)
		}
		if proto != "HTTP/1.1" {
			t.Errorf("protocol %s, want HTTP/1.1 unless EnableHTTP2", proto)
		}
	}
	if n := wrapped.Load(); n != calls {
		t.Errorf("the given handler answered %d of %d reviews", n, calls)
	}
	if n := ts.accepted.Load(); n != 1 {
		t.Errorf("%d connections for %d reviews in a row, want 1", n, calls)
	}
	ts.stop()
}

func TestServeRequiresCertificate(t *testing.T) {
	f := newFixture(t)
	var lc net.ListenConfig
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.Serve(t.Context(), ln, &tls.Config{}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("Serve without a certificate: %v", err)
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("listener still open: %v", err)
	}
}

func TestNewServerRequiresDesired(t *testing.T) {
	if _, err := NewServer(Options{}); err == nil {
		t.Fatal("NewServer without Desired succeeded")
	}
}

// TestShutdownClosesConnectionsWithoutRequest: a client may leave a
// connection open that never sends a request (an HTTP transport keeps a
// dial that lost the race to an idle connection). http.Server.Shutdown
// waits for such a connection until it is five seconds old, longer than
// the drain; Serve closes it and shuts down in time.
func TestShutdownClosesConnectionsWithoutRequest(t *testing.T) {
	f := newFixture(t)
	f.s.opts.ShutdownTimeout = 3 * time.Second
	ts := startTLS(t, f.s.Serve)
	if out, _, _ := ts.review(t, scaleRequest(t, 2, 2)); out == nil || !out.Allowed {
		t.Fatalf("answer %+v", out)
	}
	d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}} //nolint:gosec // a test of the server, not of its certificate
	c, err := d.DialContext(t.Context(), "tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ts.stop() // fails if Serve returns the Shutdown's deadline error
}
