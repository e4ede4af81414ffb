package provenance_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"gitgate.dev/gitgate/provenance"
	"gitgate.dev/gitgate/provenance/gittest"
	vt "gitgate.dev/gitgate/provenance/internal/verifytest"
)

// signedRepo makes a repository with a trust policy root and one signed
// commit, and returns it with the trust root and the signer.
func signedRepo(t *testing.T) (*gittest.Repo, string, *gittest.Signer) {
	t.Helper()
	r := gittest.NewRepo(t)
	alice := gittest.NewSSHSigner(t, "alice")
	r.WriteFile(".gitgate/trust.yaml", vt.NewPolicy().Signer("alice", alice).Rules(vt.Rule{Paths: []string{"**"}, Signers: []string{"alice"}}))
	root := r.Commit("root", nil)
	r.WriteFile("app.yaml", "v: 1\n")
	r.Commit("v1", alice)
	return r, root, alice
}

func TestFetchFileIncrementalAndRewind(t *testing.T) {
	src, root, alice := signedRepo(t)
	cache := t.TempDir()
	ledger := &provenance.MemoryLedger{}
	v := provenance.NewVerifier(provenance.Options{})
	url := "file://" + src.Dir
	fetchVerify := func() *provenance.Snapshot {
		t.Helper()
		repo, err := provenance.Fetch(t.Context(), provenance.FetchOptions{URL: url, Branch: "main", CacheDir: cache, Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		defer repo.Close()
		snap, err := v.Verify(t.Context(), repo, provenance.Request{Source: url, Branch: "main", TrustRoot: root, Ledger: ledger})
		if err != nil {
			t.Fatal(err)
		}
		return snap
	}
	first := fetchVerify()
	wantVerified(t, first)
	v1 := src.Head()
	if first.Head != v1 {
		t.Fatalf("fetched head %s, want %s", first.Head, v1)
	}
	entries, _ := os.ReadDir(cache)
	if len(entries) != 2 { // the clone and its lock file
		t.Errorf("cache holds %d entries, want one clone and its lock", len(entries))
	}

	src.WriteFile("app.yaml", "v: 2\n")
	v2 := src.Commit("v2", alice)
	second := fetchVerify()
	wantVerified(t, second)
	if second.Head != v2 || len(second.Commits) != 1 {
		t.Errorf("after a new commit: head %s, %d commits checked; want %s and 1", second.Head, len(second.Commits), v2)
	}

	// Force-push an older signed commit: the fetch follows it (forced
	// refspec) and the ledger refuses it.
	src.Run("reset", "-q", "--hard", v1)
	wantFailure(t, fetchVerify(), v1, "was rewound")
}

func TestFetchRefusedURLs(t *testing.T) {
	for _, url := range []string{"http://example.com/r.git", "git://example.com/r.git", "ext::sh -c id", "file:///tmp/../etc", "/local/path", "--upload-pack=id"} {
		t.Run(url, func(t *testing.T) {
			_, err := provenance.Fetch(t.Context(), provenance.FetchOptions{URL: url, Branch: "main", CacheDir: t.TempDir()})
			if !errors.Is(err, provenance.ErrBadURL) {
				t.Errorf("Fetch(%q) = %v, want ErrBadURL", url, err)
			}
		})
	}
	_, err := provenance.Fetch(t.Context(), provenance.FetchOptions{URL: "https://example.com/r.git", Branch: "-x", CacheDir: t.TempDir()})
	if !errors.Is(err, provenance.ErrUnknownBranch) {
		t.Errorf("bad branch: %v", err)
	}
}

// gitHTTPServer serves the repositories under root over HTTPS with git's own
// smart HTTP backend, behind basic auth user:pass.
func gitHTTPServer(t *testing.T, root, user, pass string) *httptest.Server {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Skipf("git --exec-path: %v", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		t.Skipf("git-http-backend: %v", err)
	}
	h := &cgi.Handler{
		Path: backend,
		Env: []string{
			"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_CONFIG_GLOBAL=/dev/null", "HOME=" + t.TempDir(),
		},
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFetchHTTPS(t *testing.T) {
	src, root, _ := signedRepo(t)
	srv := gitHTTPServer(t, filepath.Dir(src.Dir), "git", "s3cret")
	url := srv.URL + "/" + filepath.Base(src.Dir)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})

	tests := []struct {
		name string
		opts provenance.FetchOptions
		ok   bool
		want string
	}{
		{"token", provenance.FetchOptions{HTTPS: &provenance.HTTPSAuth{Username: "git", Password: "s3cret"}, CABundle: caPEM}, true, ""},
		{"wrong password", provenance.FetchOptions{HTTPS: &provenance.HTTPSAuth{Username: "git", Password: "nope"}, CABundle: caPEM}, false, "authentication"},
		{"unknown certificate authority", provenance.FetchOptions{HTTPS: &provenance.HTTPSAuth{Username: "git", Password: "s3cret"}}, false, "certificate"},
		{"ssh key for https", provenance.FetchOptions{SSH: &provenance.SSHAuth{PrivateKey: []byte("x")}}, false, "ssh credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.URL, opts.Branch, opts.CacheDir, opts.Timeout = url, "main", t.TempDir(), 30*time.Second
			repo, err := provenance.Fetch(t.Context(), opts)
			if !tt.ok {
				if err == nil || !provenance.IsInputError(err) || !strings.Contains(strings.ToLower(err.Error()), tt.want) {
					t.Fatalf("Fetch = %v, want an input error mentioning %q", err, tt.want)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer repo.Close()
			snap, err := provenance.NewVerifier(provenance.Options{}).Verify(t.Context(), repo, provenance.Request{Branch: "main", TrustRoot: root})
			if err != nil {
				t.Fatal(err)
			}
			wantVerified(t, snap)
		})
	}
}

func TestFetchTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	start := time.Now()
	_, err := provenance.Fetch(t.Context(), provenance.FetchOptions{
		URL: srv.URL + "/repo.git", Branch: "main", CacheDir: t.TempDir(), CABundle: caPEM, Timeout: 300 * time.Millisecond,
	})
	if !errors.Is(err, provenance.ErrRepository) {
		t.Fatalf("Fetch from a hung server = %v, want ErrRepository", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Fetch took %v despite a 300ms timeout", d)
	}
}

func TestFetchSSHAuth(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	key := pem.EncodeToMemory(block)
	hostPub, _, _ := ed25519.GenerateKey(rand.Reader)
	sshHost, err := ssh.NewPublicKey(hostPub)
	if err != nil {
		t.Fatal(err)
	}
	knownHosts := []byte("[127.0.0.1]:1 " + string(ssh.MarshalAuthorizedKey(sshHost)))
	tests := []struct {
		name string
		auth *provenance.SSHAuth
		want string
	}{
		{"no known hosts", &provenance.SSHAuth{PrivateKey: key}, "known_hosts"},
		{"corrupt known hosts", &provenance.SSHAuth{PrivateKey: key, KnownHosts: []byte("127.0.0.1 ssh-ed25519 !!!\n")}, "known_hosts"},
		{"bad private key", &provenance.SSHAuth{PrivateKey: []byte("nope"), KnownHosts: knownHosts}, "private key"},
		// Everything well-formed: the connection itself is refused (port 1).
		{"unreachable", &provenance.SSHAuth{PrivateKey: key, KnownHosts: knownHosts}, "fetch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := provenance.Fetch(t.Context(), provenance.FetchOptions{
				URL: "ssh://git@127.0.0.1:1/repo.git", Branch: "main", CacheDir: t.TempDir(), SSH: tt.auth, Timeout: 5 * time.Second,
			})
			if !errors.Is(err, provenance.ErrRepository) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Fetch = %v, want ErrRepository mentioning %q", err, tt.want)
			}
		})
	}
}

func TestFetchSizeCap(t *testing.T) {
	src, _, alice := signedRepo(t)
	cache := t.TempDir()
	url := "file://" + src.Dir
	fetch := func(max int64) error {
		t.Helper()
		repo, err := provenance.Fetch(t.Context(), provenance.FetchOptions{URL: url, Branch: "main", CacheDir: cache, Timeout: time.Minute, MaxBytes: max})
		if err == nil {
			repo.Close()
		}
		return err
	}
	if err := fetch(1 << 20); err != nil {
		t.Fatalf("small repository under a 1 MiB cap: %v", err)
	}
	// Random bytes do not compress, so the pack carries all 4 MiB.
	blob := make([]byte, 4<<20)
	if _, err := rand.Read(blob); err != nil {
		t.Fatal(err)
	}
	src.WriteFile("big.bin", string(blob))
	src.Commit("big", alice)
	err := fetch(1 << 20)
	if !errors.Is(err, provenance.ErrFetchTooLarge) || !provenance.IsInputError(err) {
		t.Fatalf("fetch of a 4 MiB commit under a 1 MiB cap: %v, want an input error wrapping ErrFetchTooLarge", err)
	}
	if !strings.Contains(err.Error(), "1048576 bytes") {
		t.Errorf("error %q does not name the cap", err)
	}
	entries, _ := os.ReadDir(cache)
	for _, e := range entries {
		if e.IsDir() {
			t.Errorf("cache still holds %s after the capped fetch", e.Name())
		}
	}
	if err := fetch(-1); err != nil {
		t.Fatalf("uncapped fetch: %v", err)
	}
	if err := fetch(0); err != nil { // the 1 GiB default
		t.Fatalf("fetch under the default cap: %v", err)
	}
}
