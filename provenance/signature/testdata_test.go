package signature_test

import (
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gitgate.dev/gitgate/provenance/gittest"
	"gitgate.dev/gitgate/provenance/signature"
)

var update = flag.Bool("update", false, "regenerate testdata/ with git, ssh-keygen, gpg and gpgsm")

// Checked-in fixtures made by TestGenerateTestdata: real commit objects
// signed in each format with the keys next to them. They seed the fuzz
// tests and feed the benchmarks and the example, which must not depend on
// the signing tools.
const (
	testdataSSHCommit     = "testdata/ssh.commit"
	testdataSSHKey        = "testdata/ssh.pub"
	testdataOpenPGPCommit = "testdata/openpgp.commit"
	testdataOpenPGPKey    = "testdata/openpgp.asc"
	testdataX509Commit    = "testdata/x509.commit"
	testdataX509Root      = "testdata/x509-root.pem"
	testdataUnsigned      = "testdata/unsigned.commit"
	testdataX509Identity  = "carol@example.com"
	testdataX509Issuer    = "https://issuer.example.com"
)

// TestGenerateTestdata rewrites testdata/ when run with -update.
func TestGenerateTestdata(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate testdata/")
	}
	ssh := gittest.NewSSHSigner(t, "alice")
	pgp := gittest.NewGPGSigner(t, "bob", "bob@example.com")
	ca := gittest.NewX509CA(t)
	x509 := ca.NewGPGSMSigner(t, testdataX509Identity, gittest.X509Options{
		Issuer:   testdataX509Issuer,
		NotAfter: time.Now().AddDate(9, 0, 0), // inside the root's ten years
	})
	r := gittest.NewRepo(t)
	r.WriteFile("README.md", "fixture\n")
	files := map[string][]byte{
		testdataUnsigned: r.CatCommit(r.Commit("unsigned fixture", nil)),
		testdataSSHKey:   []byte(ssh.PublicKey() + "\n"),
	}
	r.WriteFile("clusters/prod/app.yaml", "replicas: 3\n")
	files[testdataSSHCommit] = r.CatCommit(r.Commit("ssh fixture", ssh))
	r.WriteFile("clusters/prod/app.yaml", "replicas: 4\n")
	files[testdataOpenPGPCommit] = r.CatCommit(r.Commit("openpgp fixture", pgp))
	files[testdataOpenPGPKey] = []byte(pgp.ArmoredPublicKey())
	r.WriteFile("clusters/prod/app.yaml", "replicas: 5\n")
	files[testdataX509Commit] = r.CatCommit(r.Commit("x509 fixture", x509))
	files[testdataX509Root] = []byte(ca.RootPEM())
	for name, data := range files {
		if err := os.MkdirAll(filepath.Dir(name), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// fixture reads a checked-in file.
func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatalf("read fixture (regenerate with go test -run TestGenerateTestdata -update): %v", err)
	}
	return b
}

// fixtureRing trusts the three fixture keys as alice (ssh), bob (openpgp)
// and carol (x509).
func fixtureRing(tb testing.TB) *signature.KeyRing {
	tb.Helper()
	r := signature.NewKeyRing()
	if err := r.AddSSH("alice", string(fixture(tb, testdataSSHKey))); err != nil {
		tb.Fatal(err)
	}
	if err := r.AddOpenPGP("bob", string(fixture(tb, testdataOpenPGPKey))); err != nil {
		tb.Fatal(err)
	}
	if err := r.AddX509("carol", signature.X509Identity{
		Roots: string(fixture(tb, testdataX509Root)), Identity: testdataX509Identity, Issuer: testdataX509Issuer,
	}); err != nil {
		tb.Fatal(err)
	}
	return r
}

// fixtureCommit parses a checked-in commit.
func fixtureCommit(tb testing.TB, name string) *signature.Commit {
	tb.Helper()
	c, err := signature.ParseCommit(fixture(tb, name))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestFixturesVerify(t *testing.T) {
	t.Parallel()
	ring := fixtureRing(t)
	for _, tc := range []struct {
		file   string
		signer string
		format signature.Format
	}{
		{testdataSSHCommit, "alice", signature.SSH},
		{testdataOpenPGPCommit, "bob", signature.OpenPGP},
		{testdataX509Commit, "carol", signature.X509},
	} {
		t.Run(tc.file, func(t *testing.T) {
			c := fixtureCommit(t, tc.file)
			v, err := ring.Verify(c.Payload, c.Signature, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if v.Signer != tc.signer || v.Format != tc.format {
				t.Fatalf("Verify = %+v, want %s/%s", v, tc.signer, tc.format)
			}
		})
	}
}

// TestVerifyConcurrent runs Verify on one ring from many goroutines; with
// -race it proves the ring is read-only after construction.
func TestVerifyConcurrent(t *testing.T) {
	t.Parallel()
	ring := fixtureRing(t)
	var commits []*signature.Commit
	for _, name := range []string{testdataSSHCommit, testdataOpenPGPCommit, testdataX509Commit} {
		commits = append(commits, fixtureCommit(t, name))
	}
	errs := make(chan error, 8*len(commits))
	var wg sync.WaitGroup
	for range 8 {
		for _, c := range commits {
			wg.Go(func() {
				_, err := ring.Verify(c.Payload, c.Signature, time.Now())
				errs <- err
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}
