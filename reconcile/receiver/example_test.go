package receiver_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"gitgate.dev/gitgate/reconcile/receiver"
)

// Example mounts the receiver for one GitHub source and sends it a signed
// push, then the same push with a wrong signature. In gitgate serve,
// Lookup is receiver.SecretLookup(mgr.GetAPIReader(), namespace) and
// Trigger is the reconciler's Trigger.
func Example() {
	secret := []byte("a shared secret, also entered in GitHub")
	h, err := receiver.NewHandler(receiver.Options{
		Lookup: func(_ context.Context, name string) (receiver.Config, error) {
			if name != "platform" {
				return receiver.Config{}, receiver.ErrNotFound
			}
			return receiver.Config{Kind: receiver.GitHub, Secret: secret}, nil
		},
		Trigger: func(name string) { fmt.Println("fetch", name) },
	})
	if err != nil {
		panic(err)
	}
	body := `{"ref":"refs/heads/main"}`
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(body))
	for _, sig := range []string{
		"sha256=" + hex.EncodeToString(mac.Sum(nil)),
		"sha256=" + strings.Repeat("0", 64),
	} {
		req := httptest.NewRequest(http.MethodPost, "/hook/platform", strings.NewReader(body))
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("X-Hub-Signature-256", sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// fetch platform
	// 202
	// 401
}
