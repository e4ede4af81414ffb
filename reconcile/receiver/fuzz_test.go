package receiver

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// validFor is the fuzz oracle, written apart from the handler: whether a
// request with these headers and body carries a valid credential for
// source name.
func validFor(name, sig, token, event string, body []byte) bool {
	cfg, ok := testSources[name]
	if !ok || len(cfg.Secret) == 0 {
		return false
	}
	switch cfg.Kind {
	case GitHub, Generic:
		m := hmac.New(sha256.New, cfg.Secret)
		m.Write(body)
		want := "sha256=" + hex.EncodeToString(m.Sum(nil))
		if cfg.Kind == GitHub && event == "ping" {
			return false // a ping never triggers
		}
		return len(sig) == len(want) && strings.HasPrefix(sig, "sha256=") && strings.EqualFold(sig, want)
	case GitLab:
		return token == string(cfg.Secret)
	}
	return false
}

// FuzzHandler sends requests with fuzzed method, path, signature, token,
// event and body. The handler must never panic, must answer with one of
// its status codes, and must trigger only a source for which the request
// carries a valid credential, and then exactly that source, once.
func FuzzHandler(f *testing.F) {
	seed := func(method, path, sig, token, event string, body []byte) {
		f.Add(method, path, sig, token, event, body)
	}
	seed("POST", "/hook/web", sign(secretOf("web"), pushBody), "", "push", pushBody)
	seed("POST", "/hook/web", sign(secretOf("web"), pushBody), "", "ping", pushBody)
	seed("POST", "/hook/web", sign(secretOf("other"), pushBody), "", "push", pushBody)
	seed("POST", "/hook/gen", sign(secretOf("gen"), pushBody), "", "", pushBody)
	seed("POST", "/hook/gen", sign(secretOf("gen"), nil), "", "", nil)
	seed("POST", "/hook/lab", "", string(secretOf("lab")), "Push Hook", pushBody)
	seed("POST", "/hook/lab", "", "gitlab-token", "", pushBody)
	seed("POST", "/hook/empty", sign(nil, pushBody), "", "push", pushBody)
	seed("POST", "/hook/weird", "", "x", "", nil)
	seed("POST", "/hook/norecv", "", "", "", nil)
	seed("POST", "/hook/broken", "sha256=", "", "", nil)
	seed("GET", "/hook/web", sign(secretOf("web"), nil), "", "", nil)
	seed("POST", "/hook/web/../lab", "", string(secretOf("lab")), "", nil)
	seed("POST", "/hook/"+strings.Repeat("a", 70), "sha256="+strings.Repeat("0", 64), "", "", []byte{0xff, 0x00})
	seed("POST", "/hook/web", "sha256="+strings.Repeat("G", 64), "", "", []byte("{}"))
	seed("POST", "/hook/web", "sha256=\x00", "\r\n", "ping\x00", bytes.Repeat([]byte("x"), 100))

	h, tr, _ := newTestHandler(f, func(o *Options) { o.MaxBodyBytes = 4096 })
	codes := []int{http.StatusOK, http.StatusAccepted, http.StatusBadRequest, http.StatusUnauthorized, http.StatusNotFound,
		http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge, http.StatusInternalServerError}
	f.Fuzz(func(t *testing.T, method, path, sig, token, event string, body []byte) {
		req, err := http.NewRequestWithContext(t.Context(), "POST", "http://gitgate.example.com/", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		// Set fields directly: the fuzzer may make values no client
		// would send, and the handler must still cope.
		req.Method = method
		req.URL.Path = path
		req.Header = http.Header{}
		req.Header.Set(GitHubSignatureHeader, sig)
		req.Header.Set(SignatureHeader, sig)
		req.Header.Set(GitLabTokenHeader, token)
		req.Header.Set(GitHubEventHeader, event)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !slices.Contains(codes, rec.Code) {
			t.Fatalf("status %d", rec.Code)
		}
		got := tr.take()
		if rec.Code != http.StatusAccepted {
			if len(got) != 0 {
				t.Fatalf("status %d but triggered %q", rec.Code, got)
			}
			return
		}
		name := strings.TrimPrefix(path, PathPrefix)
		if method != http.MethodPost || len(got) != 1 || got[0] != name || !validFor(name, sig, token, event, body) {
			t.Fatalf("%s %q accepted and triggered %q without a valid credential (sig %q, token %q, event %q)", method, path, got, sig, token, event)
		}
	})
}
