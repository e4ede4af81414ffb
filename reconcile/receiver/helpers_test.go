package receiver

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// Test sources: each has its own secret, as the package doc asks.
var testSources = map[string]Config{
	"web":   {Kind: GitHub, Secret: []byte("github-secret-of-web")},
	"other": {Kind: GitHub, Secret: []byte("github-secret-of-other")},
	"lab":   {Kind: GitLab, Secret: []byte("gitlab-token-of-lab")},
	"gen":   {Kind: Generic, Secret: []byte("generic-secret-of-gen")},
	// Misconfigured: answered 500.
	"empty": {Kind: GitHub},
	"weird": {Kind: "bitbucket", Secret: []byte("x")},
}

// staticLookup serves testSources; "norecv" has no receiver and "broken"
// cannot be looked up.
func staticLookup(_ context.Context, name string) (Config, error) {
	switch name {
	case "norecv":
		return Config{}, fmt.Errorf("%w: gitsource norecv has no receiver", ErrNotFound)
	case "broken":
		return Config{}, fmt.Errorf("get gitsource broken: %w", context.DeadlineExceeded)
	}
	cfg, ok := testSources[name]
	if !ok {
		return Config{}, fmt.Errorf("%w: gitsource %s does not exist", ErrNotFound, name)
	}
	return cfg, nil
}

// triggers records Trigger calls.
type triggers struct {
	mu    sync.Mutex
	names []string
}

func (t *triggers) trigger(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.names = append(t.names, name)
}

func (t *triggers) take() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := t.names
	t.names = nil
	return out
}

// newTestHandler is a handler over testSources with its own registry.
func newTestHandler(tb testing.TB, mods ...func(*Options)) (http.Handler, *triggers, *prometheus.Registry) {
	tb.Helper()
	tr := &triggers{}
	reg := prometheus.NewRegistry()
	opts := Options{Lookup: staticLookup, Trigger: tr.trigger, Registerer: reg}
	for _, m := range mods {
		m(&opts)
	}
	h, err := NewHandler(opts)
	if err != nil {
		tb.Fatal(err)
	}
	return h, tr, reg
}

// sign returns "sha256=<hex HMAC-SHA256 of body keyed with secret>", as
// GitHub writes X-Hub-Signature-256.
func sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return signaturePrefix + hex.EncodeToString(m.Sum(nil))
}

func secretOf(name string) []byte { return testSources[name].Secret }

// pushBody is a GitHub push payload as it arrives; the receiver never reads
// its content.
var pushBody = []byte(`{"ref":"refs/heads/main","before":"4f7c1e0b9a8d6c5e4f3a2b1c0d9e8f7a6b5c4d3e","after":"0bcde72a1f6e5d4c3b2a19087f6e5d4c3b2a1908","repository":{"full_name":"platform/demo"}}`)
