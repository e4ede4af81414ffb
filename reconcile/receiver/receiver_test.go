package receiver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type reqCase struct {
	name    string
	method  string // POST when empty
	path    string
	headers http.Header
	body    []byte
	// chunked sends the body without a Content-Length.
	chunked bool
	code    int
	result  string
	// triggered is the source Trigger must be called with, once; "" for
	// none.
	triggered string
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func runCases(t *testing.T, h http.Handler, tr *triggers, cases []reqCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			var body io.Reader = bytes.NewReader(tc.body)
			if tc.chunked {
				body = io.MultiReader(body) // hides the length
			}
			req := httptest.NewRequestWithContext(t.Context(), method, "http://gitgate.example.com"+tc.path, body)
			if tc.chunked {
				req.ContentLength = -1
			}
			for k, vs := range tc.headers {
				req.Header[k] = vs
			}
			before := testutil.ToFloat64(h.(*handler).requests.WithLabelValues(tc.result))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.code {
				t.Errorf("status %d, want %d; body %q", rec.Code, tc.code, rec.Body.String())
			}
			got := tr.take()
			var want []string
			if tc.triggered != "" {
				want = []string{tc.triggered}
			}
			if !slices.Equal(got, want) {
				t.Errorf("triggered %q, want %q", got, want)
			}
			if after := testutil.ToFloat64(h.(*handler).requests.WithLabelValues(tc.result)); after != before+1 {
				t.Errorf("gitgate_receiver_requests_total{result=%q} went from %v to %v, want +1", tc.result, before, after)
			}
			if tc.code == http.StatusMethodNotAllowed && rec.Header().Get("Allow") != http.MethodPost {
				t.Errorf("Allow header %q on a 405", rec.Header().Get("Allow"))
			}
			if strings.Contains(rec.Body.String(), "secret") {
				t.Errorf("response body mentions the secret: %q", rec.Body.String())
			}
		})
	}
}

func TestGitHub(t *testing.T) {
	h, tr, _ := newTestHandler(t)
	good := sign(secretOf("web"), pushBody)
	cases := []reqCase{
		{name: "valid push", path: "/hook/web", headers: hdr(GitHubSignatureHeader, good, GitHubEventHeader, "push"), body: pushBody, code: http.StatusAccepted, result: resultAccepted, triggered: "web"},
		{name: "valid push with upper-case hex digits", path: "/hook/web", headers: hdr(GitHubSignatureHeader, signaturePrefix+strings.ToUpper(strings.TrimPrefix(good, signaturePrefix))), body: pushBody, code: http.StatusAccepted, result: resultAccepted, triggered: "web"},
		{name: "valid push without a length", path: "/hook/web", headers: hdr(GitHubSignatureHeader, good), body: pushBody, chunked: true, code: http.StatusAccepted, result: resultAccepted, triggered: "web"},
		{name: "empty body, signed", path: "/hook/web", headers: hdr(GitHubSignatureHeader, sign(secretOf("web"), nil)), code: http.StatusAccepted, result: resultAccepted, triggered: "web"},
		{name: "ping", path: "/hook/web", headers: hdr(GitHubSignatureHeader, sign(secretOf("web"), []byte(`{"zen":"Keep it logically awesome."}`)), GitHubEventHeader, "ping"), body: []byte(`{"zen":"Keep it logically awesome."}`), code: http.StatusOK, result: resultPing},
		{name: "ping with a bad signature", path: "/hook/web", headers: hdr(GitHubSignatureHeader, sign([]byte("guess"), pushBody), GitHubEventHeader, "ping"), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "wrong secret", path: "/hook/web", headers: hdr(GitHubSignatureHeader, sign([]byte("github-secret-of-web2"), pushBody)), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "tampered body", path: "/hook/web", headers: hdr(GitHubSignatureHeader, good), body: bytes.Replace(pushBody, []byte("main"), []byte("evil"), 1), code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "body with a byte appended", path: "/hook/web", headers: hdr(GitHubSignatureHeader, good), body: append(slices.Clone(pushBody), ' '), code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "missing signature", path: "/hook/web", headers: hdr(GitHubEventHeader, "push"), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "empty signature", path: "/hook/web", headers: hdr(GitHubSignatureHeader, ""), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "signature sent twice", path: "/hook/web", headers: hdr(GitHubSignatureHeader, good, GitHubSignatureHeader, good), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "bad signature and a good one", path: "/hook/web", headers: hdr(GitHubSignatureHeader, sign([]byte("x"), pushBody), GitHubSignatureHeader, good), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "signature without prefix", path: "/hook/web", headers: hdr(GitHubSignatureHeader, strings.TrimPrefix(good, signaturePrefix)), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "sha1 prefix", path: "/hook/web", headers: hdr(GitHubSignatureHeader, "sha1="+strings.TrimPrefix(good, signaturePrefix)), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "upper-case prefix", path: "/hook/web", headers: hdr(GitHubSignatureHeader, "SHA256="+strings.TrimPrefix(good, signaturePrefix)), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "truncated signature", path: "/hook/web", headers: hdr(GitHubSignatureHeader, good[:len(good)-2]), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "signature with extra digits", path: "/hook/web", headers: hdr(GitHubSignatureHeader, good+"00"), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "signature with a non-hex digit", path: "/hook/web", headers: hdr(GitHubSignatureHeader, good[:len(good)-1]+"g"), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "signature with spaces", path: "/hook/web", headers: hdr(GitHubSignatureHeader, " "+good), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "generic header instead of GitHub's", path: "/hook/web", headers: hdr(SignatureHeader, good), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "GitLab token of the secret itself", path: "/hook/web", headers: hdr(GitLabTokenHeader, string(secretOf("web"))), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "the secret as signature", path: "/hook/web", headers: hdr(GitHubSignatureHeader, signaturePrefix+string(secretOf("web"))), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
	}
	runCases(t, h, tr, cases)
}

func TestGitLab(t *testing.T) {
	h, tr, _ := newTestHandler(t)
	token := string(secretOf("lab"))
	cases := []reqCase{
		{name: "valid token", path: "/hook/lab", headers: hdr(GitLabTokenHeader, token, "X-Gitlab-Event", "Push Hook"), body: pushBody, code: http.StatusAccepted, result: resultAccepted, triggered: "lab"},
		{name: "valid token, any body", path: "/hook/lab", headers: hdr(GitLabTokenHeader, token), body: []byte("\x00not json"), code: http.StatusAccepted, result: resultAccepted, triggered: "lab"},
		{name: "wrong token", path: "/hook/lab", headers: hdr(GitLabTokenHeader, "gitlab-token-of-lab2"), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "prefix of the token", path: "/hook/lab", headers: hdr(GitLabTokenHeader, token[:len(token)-1]), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "token with a trailing space", path: "/hook/lab", headers: hdr(GitLabTokenHeader, token+" "), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "token in another case", path: "/hook/lab", headers: hdr(GitLabTokenHeader, strings.ToUpper(token)), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "missing token", path: "/hook/lab", body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "empty token", path: "/hook/lab", headers: hdr(GitLabTokenHeader, ""), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "token sent twice", path: "/hook/lab", headers: hdr(GitLabTokenHeader, token, GitLabTokenHeader, token), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "HMAC instead of the token", path: "/hook/lab", headers: hdr(GitHubSignatureHeader, sign(secretOf("lab"), pushBody), SignatureHeader, sign(secretOf("lab"), pushBody)), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
	}
	runCases(t, h, tr, cases)
}

func TestGeneric(t *testing.T) {
	h, tr, _ := newTestHandler(t)
	good := sign(secretOf("gen"), pushBody)
	cases := []reqCase{
		{name: "valid signature", path: "/hook/gen", headers: hdr(SignatureHeader, good), body: pushBody, code: http.StatusAccepted, result: resultAccepted, triggered: "gen"},
		{name: "ping is not special", path: "/hook/gen", headers: hdr(SignatureHeader, good, GitHubEventHeader, "ping"), body: pushBody, code: http.StatusAccepted, result: resultAccepted, triggered: "gen"},
		{name: "wrong secret", path: "/hook/gen", headers: hdr(SignatureHeader, sign(secretOf("web"), pushBody)), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "tampered body", path: "/hook/gen", headers: hdr(SignatureHeader, good), body: pushBody[1:], code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "missing signature", path: "/hook/gen", body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "GitHub header instead", path: "/hook/gen", headers: hdr(GitHubSignatureHeader, good), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "the secret as token", path: "/hook/gen", headers: hdr(GitLabTokenHeader, string(secretOf("gen"))), body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
	}
	runCases(t, h, tr, cases)
}

// TestReplayAcrossSources sends requests that are valid for one source to
// another: the HMAC does not cover the path, so only the sources' distinct
// secrets refuse them.
func TestReplayAcrossSources(t *testing.T) {
	h, tr, _ := newTestHandler(t)
	forOther := hdr(GitHubSignatureHeader, sign(secretOf("other"), pushBody), GitHubEventHeader, "push")
	forGen := hdr(SignatureHeader, sign(secretOf("gen"), pushBody))
	forLab := hdr(GitLabTokenHeader, string(secretOf("lab")))
	cases := []reqCase{
		{name: "valid for other, sent to other", path: "/hook/other", headers: forOther, body: pushBody, code: http.StatusAccepted, result: resultAccepted, triggered: "other"},
		{name: "valid for other, replayed to web", path: "/hook/web", headers: forOther, body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "valid for gen, replayed to web", path: "/hook/web", headers: forGen, body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "valid for lab, replayed to gen", path: "/hook/gen", headers: forLab, body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "valid for gen, replayed to lab", path: "/hook/lab", headers: forGen, body: pushBody, code: http.StatusUnauthorized, result: resultUnauthorized},
		{name: "valid for other, replayed again to other", path: "/hook/other", headers: forOther, body: pushBody, code: http.StatusAccepted, result: resultAccepted, triggered: "other"},
	}
	runCases(t, h, tr, cases)
}

func TestRouting(t *testing.T) {
	h, tr, _ := newTestHandler(t)
	good := hdr(GitHubSignatureHeader, sign(secretOf("web"), pushBody))
	cases := []reqCase{
		{name: "GET", method: http.MethodGet, path: "/hook/web", code: http.StatusMethodNotAllowed, result: resultMethodNotAllowed},
		{name: "PUT, signed", method: http.MethodPut, path: "/hook/web", headers: good, body: pushBody, code: http.StatusMethodNotAllowed, result: resultMethodNotAllowed},
		{name: "HEAD", method: http.MethodHead, path: "/hook/web", code: http.StatusMethodNotAllowed, result: resultMethodNotAllowed},
		{name: "DELETE of an unknown path", method: http.MethodDelete, path: "/", code: http.StatusMethodNotAllowed, result: resultMethodNotAllowed},
		{name: "unknown source", path: "/hook/nope", headers: good, body: pushBody, code: http.StatusNotFound, result: resultNotFound},
		{name: "source without receiver", path: "/hook/norecv", headers: good, body: pushBody, code: http.StatusNotFound, result: resultNotFound},
		{name: "root", path: "/", headers: good, body: pushBody, code: http.StatusNotFound, result: resultNotFound},
		{name: "no name", path: "/hook/", headers: good, body: pushBody, code: http.StatusNotFound, result: resultNotFound},
		{name: "no slash", path: "/hook", headers: good, body: pushBody, code: http.StatusNotFound, result: resultNotFound},
		{name: "other prefix", path: "/hooks/web", headers: good, body: pushBody, code: http.StatusNotFound, result: resultNotFound},
		{name: "trailing slash", path: "/hook/web/", headers: good, body: pushBody, code: http.StatusNotFound, result: resultNotFound},
		{name: "sub-path", path: "/hook/web/x", headers: good, body: pushBody, code: http.StatusNotFound, result: resultNotFound},
		{name: "escaped slash", path: "/hook/web%2Fx", headers: good, body: pushBody, code: http.StatusNotFound, result: resultNotFound},
		{name: "upper case", path: "/hook/Web", headers: good, body: pushBody, code: http.StatusNotFound, result: resultNotFound},
		{name: "dot segment", path: "/hook/..", headers: good, body: pushBody, code: http.StatusNotFound, result: resultNotFound},
		{name: "leading dash", path: "/hook/-web", headers: good, body: pushBody, code: http.StatusNotFound, result: resultNotFound},
		{name: "64 characters", path: "/hook/" + strings.Repeat("a", 64), headers: good, body: pushBody, code: http.StatusNotFound, result: resultNotFound},
		{name: "63 characters, unknown", path: "/hook/" + strings.Repeat("a", 63), headers: good, body: pushBody, code: http.StatusNotFound, result: resultNotFound},
		{name: "query is ignored", path: "/hook/web?x=1", headers: good, body: pushBody, code: http.StatusAccepted, result: resultAccepted, triggered: "web"},
	}
	runCases(t, h, tr, cases)
}

func TestBodyCap(t *testing.T) {
	h, tr, _ := newTestHandler(t)
	atCap := bytes.Repeat([]byte("a"), int(DefaultMaxBodyBytes))
	overCap := append(slices.Clone(atCap), 'a')
	small, smallTr, _ := newTestHandler(t, func(o *Options) { o.MaxBodyBytes = 16 })
	cases := []reqCase{
		{name: "at the cap", path: "/hook/web", headers: hdr(GitHubSignatureHeader, sign(secretOf("web"), atCap)), body: atCap, code: http.StatusAccepted, result: resultAccepted, triggered: "web"},
		{name: "over the cap, signed", path: "/hook/web", headers: hdr(GitHubSignatureHeader, sign(secretOf("web"), overCap)), body: overCap, code: http.StatusRequestEntityTooLarge, result: resultTooLarge},
		{name: "over the cap, without a length", path: "/hook/web", headers: hdr(GitHubSignatureHeader, sign(secretOf("web"), overCap)), body: overCap, chunked: true, code: http.StatusRequestEntityTooLarge, result: resultTooLarge},
		{name: "over the cap, GitLab with a valid token", path: "/hook/lab", headers: hdr(GitLabTokenHeader, string(secretOf("lab"))), body: overCap, chunked: true, code: http.StatusRequestEntityTooLarge, result: resultTooLarge},
		{name: "over the cap, unknown source", path: "/hook/nope", body: overCap, code: http.StatusRequestEntityTooLarge, result: resultTooLarge},
	}
	runCases(t, h, tr, cases)
	body := []byte("0123456789abcdefX")
	runCases(t, small, smallTr, []reqCase{
		{name: "configured cap", path: "/hook/gen", headers: hdr(SignatureHeader, sign(secretOf("gen"), body)), body: body, code: http.StatusRequestEntityTooLarge, result: resultTooLarge},
		{name: "under the configured cap", path: "/hook/gen", headers: hdr(SignatureHeader, sign(secretOf("gen"), body[:16])), body: body[:16], chunked: true, code: http.StatusAccepted, result: resultAccepted, triggered: "gen"},
	})
}

func TestMisconfiguredSources(t *testing.T) {
	h, tr, _ := newTestHandler(t)
	cases := []reqCase{
		// An empty secret would let anyone sign: refused, never accepted.
		{name: "empty secret, signed with the empty key", path: "/hook/empty", headers: hdr(GitHubSignatureHeader, sign(nil, pushBody)), body: pushBody, code: http.StatusInternalServerError, result: resultError},
		{name: "unknown kind", path: "/hook/weird", headers: hdr(GitHubSignatureHeader, sign([]byte("x"), pushBody), GitLabTokenHeader, "x"), body: pushBody, code: http.StatusInternalServerError, result: resultError},
		{name: "lookup fails", path: "/hook/broken", headers: hdr(GitHubSignatureHeader, sign([]byte("x"), pushBody)), body: pushBody, code: http.StatusInternalServerError, result: resultError},
	}
	runCases(t, h, tr, cases)
}

// failingReader fails after the first bytes, as a connection that drops.
type failingReader struct{ sent bool }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.sent {
		return 0, errors.New("connection reset by peer")
	}
	f.sent = true
	return copy(p, "{\"ref\":"), nil
}

func TestBodyReadError(t *testing.T) {
	h, tr, _ := newTestHandler(t)
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/hook/web", &failingReader{})
	req.ContentLength = -1
	req.Header.Set(GitHubSignatureHeader, sign(secretOf("web"), pushBody))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", rec.Code)
	}
	if got := tr.take(); got != nil {
		t.Fatalf("triggered %q", got)
	}
}

// TestSenderGoneDuringLookup: a lookup that fails because the sender hung
// up is the sender's doing, answered 400 rather than counted as an error.
func TestSenderGoneDuringLookup(t *testing.T) {
	h, tr, _ := newTestHandler(t, func(o *Options) {
		o.Lookup = func(ctx context.Context, _ string) (Config, error) {
			<-ctx.Done()
			return Config{}, fmt.Errorf("get gitsource web: %w", ctx.Err())
		}
	})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/hook/web", bytes.NewReader(pushBody))
	req.Header.Set(GitHubSignatureHeader, sign(secretOf("web"), pushBody))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || testutil.ToFloat64(h.(*handler).requests.WithLabelValues(resultError)) != 0 {
		t.Fatalf("status %d, errors counted %v", rec.Code, testutil.ToFloat64(h.(*handler).requests.WithLabelValues(resultError)))
	}
	if got := tr.take(); got != nil {
		t.Fatalf("triggered %q", got)
	}
}

func TestTriggerPanicIsRecovered(t *testing.T) {
	var logged []string
	log := funcr.New(func(prefix, args string) { logged = append(logged, args) }, funcr.Options{})
	h, _, _ := newTestHandler(t, func(o *Options) {
		o.Trigger = func(string) { panic("queue closed") }
		o.Logger = log
	})
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/hook/web", bytes.NewReader(pushBody))
	req.Header.Set(GitHubSignatureHeader, sign(secretOf("web"), pushBody))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	if !slices.ContainsFunc(logged, func(s string) bool { return strings.Contains(s, "queue closed") }) {
		t.Errorf("panic not logged: %q", logged)
	}
}

// TestLogsNoSecrets checks that neither the secret nor the signature ends
// up in the log, whatever the result.
func TestLogsNoSecrets(t *testing.T) {
	var logged strings.Builder
	log := funcr.New(func(prefix, args string) { logged.WriteString(prefix + args + "\n") }, funcr.Options{Verbosity: 9})
	h, _, _ := newTestHandler(t, func(o *Options) { o.Logger = log })
	good := sign(secretOf("web"), pushBody)
	for _, sig := range []string{good, sign([]byte("x"), pushBody)} {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/hook/web", bytes.NewReader(pushBody))
		req.Header.Set(GitHubSignatureHeader, sig)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/hook/lab", bytes.NewReader(pushBody))
	req.Header.Set(GitLabTokenHeader, "gitlab-token-of-lab-guess")
	h.ServeHTTP(httptest.NewRecorder(), req)
	out := logged.String()
	for _, s := range []string{string(secretOf("web")), string(secretOf("lab")), "gitlab-token-of-lab-guess", strings.TrimPrefix(good, signaturePrefix), "refs/heads/main"} {
		if strings.Contains(out, s) {
			t.Errorf("log holds %q:\n%s", s, out)
		}
	}
	if !strings.Contains(out, "push refused") || !strings.Contains(out, "fetch triggered") {
		t.Errorf("log lacks the request outcomes:\n%s", out)
	}
}

func TestNewHandlerOptions(t *testing.T) {
	if _, err := NewHandler(Options{Trigger: func(string) {}}); err == nil {
		t.Error("no error without Lookup")
	}
	if _, err := NewHandler(Options{Lookup: staticLookup}); err == nil {
		t.Error("no error without Trigger")
	}
	// Two handlers on one registry share the metric.
	_, _, reg := newTestHandler(t)
	h2, err := NewHandler(Options{Lookup: staticLookup, Trigger: func(string) {}, Registerer: reg})
	if err != nil {
		t.Fatalf("second handler on one registry: %v", err)
	}
	n, err := testutil.GatherAndCount(reg, "gitgate_receiver_requests_total")
	if err != nil || n != len(results) {
		t.Errorf("%d series (%v), want one per result (%d) from the start", n, err, len(results))
	}
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/hook/web", nil)
	h2.ServeHTTP(httptest.NewRecorder(), req)
	if got := testutil.ToFloat64(h2.(*handler).requests.WithLabelValues(resultMethodNotAllowed)); got != 1 {
		t.Errorf("shared counter %v, want 1", got)
	}
}
