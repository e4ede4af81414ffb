package receiver

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gitgate.dev/gitgate/api/v1alpha1"
)

// TestEndToEnd runs the receiver behind a real HTTP server, with the
// receiver config read by SecretLookup from a GitSource and its Secret: a
// bad signature is refused with 401 and triggers nothing, a good one
// triggers the source within a second.
func TestEndToEnd(t *testing.T) {
	secret := []byte("9f0c2e7d41b8a6355e")
	c := newFakeClient(t,
		gitSource("web", &v1alpha1.ReceiverSpec{Type: "github", SecretRef: v1alpha1.LocalObjectReference{Name: "web-hook"}}),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: "web-hook"}, Data: map[string][]byte{TokenKey: secret}},
	)
	fired := make(chan string, 4)
	h, err := NewHandler(Options{
		Lookup:  SecretLookup(c, testNamespace),
		Trigger: func(name string) { fired <- name },
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	post := func(sig string) int {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/hook/web", bytes.NewReader(pushBody))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(GitHubEventHeader, "push")
		req.Header.Set(GitHubSignatureHeader, sig)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}

	if code := post(sign([]byte("not the secret"), pushBody)); code != http.StatusUnauthorized {
		t.Fatalf("bad signature: status %d, want 401", code)
	}
	// Trigger runs before the response is written, so nothing can still
	// be on its way.
	select {
	case name := <-fired:
		t.Fatalf("a bad signature triggered %q", name)
	default:
	}

	start := time.Now()
	if code := post(sign(secret, pushBody)); code != http.StatusAccepted {
		t.Fatalf("good signature: status %d, want 202", code)
	}
	select {
	case name := <-fired:
		if name != "web" {
			t.Fatalf("triggered %q, want web", name)
		}
		t.Logf("triggered %v after the request was sent", time.Since(start))
	case <-time.After(time.Second):
		t.Fatal("a good push did not trigger within a second")
	}
}
