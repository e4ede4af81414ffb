package signature_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"gitgate.dev/gitgate/provenance/gittest"
	"gitgate.dev/gitgate/provenance/signature"
)

// signedCommit makes a real commit signed by s and returns it parsed.
func signedCommit(t *testing.T, r *gittest.Repo, s *gittest.Signer, msg string) *signature.Commit {
	t.Helper()
	r.WriteFile("file.txt", msg+"\n")
	sha := r.Commit(msg, s)
	c, err := signature.ParseCommit(r.CatCommit(sha))
	if err != nil {
		t.Fatalf("parse commit %s: %v", sha, err)
	}
	if c.Signature == nil {
		t.Fatalf("commit %s is unsigned", sha)
	}
	return c
}

// ringFor builds a key ring trusting s under its name.
func ringFor(t *testing.T, s *gittest.Signer, ca *gittest.CA, id signature.X509Identity) *signature.KeyRing {
	t.Helper()
	r := signature.NewKeyRing()
	var err error
	switch s.Format {
	case gittest.SSH:
		err = r.AddSSH(s.Name, s.PublicKey())
	case gittest.OpenPGP:
		err = r.AddOpenPGP(s.Name, s.ArmoredPublicKey())
	case gittest.X509:
		if id.Roots == "" {
			id.Roots = ca.RootPEM()
		}
		err = r.AddX509(s.Name, id)
	}
	if err != nil {
		t.Fatalf("add key of %s: %v", s.Name, err)
	}
	return r
}

func TestVerifyValidSignatures(t *testing.T) {
	t.Parallel()
	ca := gittest.NewX509CA(t)
	cases := []struct {
		name   string
		signer *gittest.Signer
		id     signature.X509Identity
		format signature.Format
		keyID  string // prefix of the expected KeyID
	}{
		{name: "ssh ed25519", signer: gittest.NewSSHSigner(t, "alice"), format: signature.SSH, keyID: "SHA256:"},
		{name: "ssh ecdsa p256", signer: gittest.NewSSHSignerKey(t, "alice", "ecdsa", 256), format: signature.SSH, keyID: "SHA256:"},
		{name: "ssh ecdsa p521", signer: gittest.NewSSHSignerKey(t, "alice", "ecdsa", 521), format: signature.SSH, keyID: "SHA256:"},
		{name: "ssh rsa 2048", signer: gittest.NewSSHSignerKey(t, "alice", "rsa", 2048), format: signature.SSH, keyID: "SHA256:"},
		{name: "openpgp ed25519", signer: gittest.NewGPGSigner(t, "bob", "bob@example.com"), format: signature.OpenPGP},
		{name: "openpgp rsa2048", signer: gittest.NewGPGSigner(t, "bob", "bob@example.com", gittest.GPGOptions{Algo: "rsa2048"}), format: signature.OpenPGP},
		{name: "openpgp nistp256 expiring later", signer: gittest.NewGPGSigner(t, "bob", "bob@example.com", gittest.GPGOptions{Algo: "nistp256", Expire: "1y"}), format: signature.OpenPGP},
		{
			name:   "x509 email and issuer",
			signer: ca.NewGPGSMSigner(t, "carol@example.com", gittest.X509Options{Issuer: "https://issuer.example.com"}),
			id:     signature.X509Identity{Identity: "carol@example.com", Issuer: "https://issuer.example.com"},
			format: signature.X509,
		},
		{
			name:   "x509 legacy issuer through an intermediate",
			signer: ca.NewIntermediate(t).NewGPGSMSigner(t, "dave@example.com", gittest.X509Options{LegacyIssuer: "https://accounts.example.com"}),
			id:     signature.X509Identity{Identity: "dave@example.com", Issuer: "https://accounts.example.com"},
			format: signature.X509,
		},
		{
			name: "x509 uri identity regexp",
			signer: ca.NewGPGSMSigner(t, "", gittest.X509Options{
				URI: "https://github.com/example/repo/.github/workflows/release.yml@refs/heads/main", Issuer: "https://token.example.com",
			}),
			id:     signature.X509Identity{IdentityRegexp: `https://github\.com/example/repo/.*`},
			format: signature.X509,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := gittest.NewRepo(t)
			c := signedCommit(t, r, tc.signer, tc.name)
			ring := ringFor(t, tc.signer, ca, tc.id)
			v, err := ring.Verify(c.Payload, c.Signature, time.Now())
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if v.Signer != tc.signer.Name || v.Format != tc.format || !strings.HasPrefix(v.KeyID, tc.keyID) || v.KeyID == "" {
				t.Fatalf("Verify = %+v, want signer %q format %q", v, tc.signer.Name, tc.format)
			}
			if tc.format == signature.OpenPGP && v.KeyID != tc.signer.Fingerprint {
				t.Errorf("KeyID = %s, want the fingerprint %s", v.KeyID, tc.signer.Fingerprint)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	ca := gittest.NewX509CA(t)
	ssh := gittest.NewSSHSigner(t, "alice")
	pgp := gittest.NewGPGSigner(t, "bob", "bob@example.com")
	x509 := ca.NewGPGSMSigner(t, "carol@example.com", gittest.X509Options{Issuer: "https://issuer.example.com"})
	carol := signature.X509Identity{Identity: "carol@example.com", Issuer: "https://issuer.example.com"}
	r := gittest.NewRepo(t)
	sshCommit := signedCommit(t, r, ssh, "ssh")
	pgpCommit := signedCommit(t, r, pgp, "openpgp")
	x509Commit := signedCommit(t, r, x509, "x509")
	now := time.Now()

	type tc struct {
		name    string
		ring    *signature.KeyRing
		payload []byte
		sig     []byte
		at      time.Time
		want    error
		reason  string
	}
	tampered := func(c *signature.Commit) []byte {
		return bytes.Replace(c.Payload, []byte("\n\n"), []byte("\n\nsneaky "), 1)
	}
	otherRing := signature.NewKeyRing()
	if err := otherRing.AddSSH("mallory", gittest.NewSSHSigner(t, "mallory").PublicKey()); err != nil {
		t.Fatal(err)
	}
	if err := otherRing.AddOpenPGP("mallory", gittest.NewGPGSigner(t, "mallory", "m@example.com").ArmoredPublicKey()); err != nil {
		t.Fatal(err)
	}
	cases := []tc{
		{name: "unsigned", ring: ringFor(t, ssh, nil, carol), payload: sshCommit.Payload, want: signature.ErrUnsigned},
		{name: "ssh key not in ring", ring: otherRing, payload: sshCommit.Payload, sig: sshCommit.Signature, want: signature.ErrUntrusted, reason: "not in the trust policy"},
		{name: "openpgp key not in ring", ring: otherRing, payload: pgpCommit.Payload, sig: pgpCommit.Signature, want: signature.ErrUntrusted, reason: "not in the trust policy"},
		{name: "x509 identity not in ring", ring: otherRing, payload: x509Commit.Payload, sig: x509Commit.Signature, want: signature.ErrUntrusted, reason: "carol@example.com"},
		{name: "ssh tampered payload", ring: ringFor(t, ssh, nil, carol), payload: tampered(sshCommit), sig: sshCommit.Signature, want: signature.ErrInvalid},
		{name: "openpgp tampered payload", ring: ringFor(t, pgp, nil, carol), payload: tampered(pgpCommit), sig: pgpCommit.Signature, want: signature.ErrInvalid},
		{name: "x509 tampered payload", ring: ringFor(t, x509, ca, carol), payload: tampered(x509Commit), sig: x509Commit.Signature, want: signature.ErrInvalid, reason: "message digest"},
		{name: "ssh namespace file", ring: ringFor(t, ssh, nil, carol), payload: sshCommit.Payload, sig: ssh.SignSSHNamespace(sshCommit.Payload, "file"), want: signature.ErrInvalid, reason: `namespace "file"`},
		{name: "x509 wrong identity", ring: ringFor(t, x509, ca, signature.X509Identity{Identity: "eve@example.com"}), payload: x509Commit.Payload, sig: x509Commit.Signature, want: signature.ErrUntrusted},
		{name: "x509 identity regexp is anchored", ring: ringFor(t, x509, ca, signature.X509Identity{IdentityRegexp: `carol@example\.co`}), payload: x509Commit.Payload, sig: x509Commit.Signature, want: signature.ErrUntrusted},
		{name: "x509 wrong issuer", ring: ringFor(t, x509, ca, signature.X509Identity{Identity: "carol@example.com", Issuer: "https://evil.example.com"}), payload: x509Commit.Payload, sig: x509Commit.Signature, want: signature.ErrUntrusted, reason: "issuer"},
		{name: "x509 unknown root", ring: ringFor(t, x509, ca, signature.X509Identity{Identity: "carol@example.com", Roots: gittest.NewX509CA(t).RootPEM()}), payload: x509Commit.Payload, sig: x509Commit.Signature, want: signature.ErrUntrusted, reason: "unknown authority"},
		{name: "x509 verified after expiry", ring: ringFor(t, x509, ca, carol), payload: x509Commit.Payload, sig: x509Commit.Signature, at: now.Add(48 * time.Hour), want: signature.ErrInvalid, reason: "valid from"},
		{name: "x509 verified before validity", ring: ringFor(t, x509, ca, carol), payload: x509Commit.Payload, sig: x509Commit.Signature, at: now.Add(-48 * time.Hour), want: signature.ErrInvalid},
		{name: "two blocks", ring: ringFor(t, ssh, nil, carol), payload: sshCommit.Payload, sig: append(append([]byte(nil), sshCommit.Signature...), sshCommit.Signature...), want: signature.ErrMalformed, reason: "more than one armored block"},
		{name: "unknown armor", ring: ringFor(t, ssh, nil, carol), payload: sshCommit.Payload, sig: []byte("-----BEGIN PGP MESSAGE-----\n\nAAAA\n-----END PGP MESSAGE-----\n"), want: signature.ErrMalformed},
		{name: "garbage", ring: ringFor(t, ssh, nil, carol), payload: sshCommit.Payload, sig: []byte("hello"), want: signature.ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			at := c.at
			if at.IsZero() {
				at = now
			}
			v, err := c.ring.Verify(c.payload, c.sig, at)
			if !errors.Is(err, c.want) {
				t.Fatalf("Verify = %+v, %v; want %v", v, err, c.want)
			}
			if !strings.Contains(err.Error(), c.reason) {
				t.Fatalf("error %q does not say %q", err, c.reason)
			}
			if v != (signature.Verified{}) {
				t.Fatalf("failed Verify returned %+v", v)
			}
		})
	}
}

// TestCommitWithAnotherCommitsSignature splices the signature of one real
// commit into another commit object, as an attacker replaying a signature
// would, and stores it with git.
func TestCommitWithAnotherCommitsSignature(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"ssh", "openpgp"} {
		t.Run(format, func(t *testing.T) {
			var s *gittest.Signer
			if format == "ssh" {
				s = gittest.NewSSHSigner(t, "alice")
			} else {
				s = gittest.NewGPGSigner(t, "bob", "bob@example.com")
			}
			ring := ringFor(t, s, nil, signature.X509Identity{})
			r := gittest.NewRepo(t)
			signed := r.CatCommit(r.Commit("signed", s))
			r.WriteFile("evil.txt", "evil\n")
			unsigned := r.CatCommit(r.Commit("evil", nil))

			// Take the gpgsig header with its continuation lines verbatim.
			start := bytes.Index(signed, []byte("\ngpgsig ")) + 1
			end := start + bytes.Index(signed[start:], []byte("-----\n\n")) + len("-----\n")
			header := signed[start:end]
			at := bytes.Index(unsigned, []byte("\n\n")) + 1
			forged := append(append(append([]byte(nil), unsigned[:at]...), header...), unsigned[at:]...)
			sha := r.HashObject(forged)

			c, err := signature.ParseCommit(r.CatCommit(sha))
			if err != nil {
				t.Fatalf("ParseCommit: %v", err)
			}
			if !bytes.Equal(c.Payload, unsigned) {
				t.Fatalf("payload of the forged commit is not the unsigned object")
			}
			if _, err := ring.Verify(c.Payload, c.Signature, time.Now()); !errors.Is(err, signature.ErrInvalid) {
				t.Fatalf("Verify = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestSSHWeakKeys(t *testing.T) {
	t.Parallel()
	weak := gittest.NewSSHSignerKey(t, "alice", "rsa", 1024)
	ring := signature.NewKeyRing()
	err := ring.AddSSH("alice", weak.PublicKey())
	if !errors.Is(err, signature.ErrMalformed) || !strings.Contains(err.Error(), "1024 bits") {
		t.Fatalf("AddSSH(rsa 1024) = %v, want an error about 1024 bits", err)
	}
	if ring.Len() != 0 {
		t.Fatalf("Len = %d after a refused key", ring.Len())
	}
	// A signature by the weak key is invalid, not merely untrusted.
	r := gittest.NewRepo(t)
	c := signedCommit(t, r, weak, "weak")
	if _, err := ring.Verify(c.Payload, c.Signature, time.Now()); !errors.Is(err, signature.ErrInvalid) {
		t.Fatalf("Verify(rsa 1024 signature) = %v, want ErrInvalid", err)
	}
}

func TestOpenPGPExpiredAndRevoked(t *testing.T) {
	t.Parallel()
	created := time.Now().Add(-72 * time.Hour)
	cases := []struct {
		name   string
		change func(s *gittest.Signer)
		reason string
	}{
		{name: "expired before signing", change: func(s *gittest.Signer) { s.ExpireAt(created.Add(24 * time.Hour)) }, reason: "expired"},
		{name: "revoked", change: func(s *gittest.Signer) { s.Revoke() }, reason: "revoked"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := gittest.NewGPGSigner(t, "bob", "bob@example.com", gittest.GPGOptions{Created: created})
			r := gittest.NewRepo(t)
			c := signedCommit(t, r, s, "before the change")
			if _, err := ringFor(t, s, nil, signature.X509Identity{}).Verify(c.Payload, c.Signature, time.Now()); err != nil {
				t.Fatalf("Verify before the change: %v", err)
			}
			tc.change(s)
			_, err := ringFor(t, s, nil, signature.X509Identity{}).Verify(c.Payload, c.Signature, time.Now())
			if !errors.Is(err, signature.ErrInvalid) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("Verify after the change = %v, want ErrInvalid saying %q", err, tc.reason)
			}
		})
	}
}

func TestX509ExpiredCertificate(t *testing.T) {
	t.Parallel()
	ca := gittest.NewX509CA(t)
	s := ca.NewGPGSMSigner(t, "old@example.com", gittest.X509Options{
		NotBefore: time.Now().Add(-72 * time.Hour), NotAfter: time.Now().Add(-48 * time.Hour),
	})
	r := gittest.NewRepo(t)
	c := signedCommit(t, r, s, "expired")
	ring := ringFor(t, s, ca, signature.X509Identity{Identity: "old@example.com"})
	_, err := ring.Verify(c.Payload, c.Signature, time.Now())
	if !errors.Is(err, signature.ErrInvalid) || !strings.Contains(err.Error(), "valid from") {
		t.Fatalf("Verify = %v, want ErrInvalid for an expired certificate", err)
	}
	// Within its validity the same signature passes, which shows the
	// failure above is the expiry and nothing else.
	if _, err := ring.Verify(c.Payload, c.Signature, time.Now().Add(-60*time.Hour)); err != nil {
		t.Fatalf("Verify inside the validity: %v", err)
	}
}

func TestKeyRingAdd(t *testing.T) {
	t.Parallel()
	alice := gittest.NewSSHSigner(t, "alice")
	bob := gittest.NewGPGSigner(t, "bob", "bob@example.com")
	ca := gittest.NewX509CA(t)
	cases := []struct {
		name string
		add  func(r *signature.KeyRing) error
		want error // nil: success
		n    int
	}{
		{name: "ssh", add: func(r *signature.KeyRing) error { return r.AddSSH("alice", alice.PublicKey()) }, n: 1},
		{name: "ssh twice for the same signer", add: func(r *signature.KeyRing) error {
			if err := r.AddSSH("alice", alice.PublicKey()); err != nil {
				return err
			}
			return r.AddSSH("alice", alice.PublicKey())
		}, n: 1},
		{name: "ssh key of two signers", add: func(r *signature.KeyRing) error {
			if err := r.AddSSH("alice", alice.PublicKey()); err != nil {
				return err
			}
			return r.AddSSH("mallory", alice.PublicKey())
		}, want: signature.ErrMalformed, n: 1},
		{name: "ssh options", add: func(r *signature.KeyRing) error { return r.AddSSH("alice", `no-pty `+alice.PublicKey()) }, want: signature.ErrMalformed},
		{name: "ssh garbage", add: func(r *signature.KeyRing) error { return r.AddSSH("alice", "ssh-ed25519 AAAA") }, want: signature.ErrMalformed},
		{name: "ssh dsa type", add: func(r *signature.KeyRing) error { return r.AddSSH("alice", dsaKeyLine()) }, want: signature.ErrMalformed},
		{name: "empty signer", add: func(r *signature.KeyRing) error { return r.AddSSH("", alice.PublicKey()) }, want: signature.ErrMalformed},
		{name: "openpgp", add: func(r *signature.KeyRing) error { return r.AddOpenPGP("bob", bob.ArmoredPublicKey()) }, n: 1},
		{name: "openpgp key of two signers", add: func(r *signature.KeyRing) error {
			if err := r.AddOpenPGP("bob", bob.ArmoredPublicKey()); err != nil {
				return err
			}
			return r.AddOpenPGP("mallory", bob.ArmoredPublicKey())
		}, want: signature.ErrMalformed, n: 1},
		{name: "openpgp garbage", add: func(r *signature.KeyRing) error {
			return r.AddOpenPGP("bob", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n")
		}, want: signature.ErrMalformed},
		{name: "x509", add: func(r *signature.KeyRing) error {
			return r.AddX509("carol", signature.X509Identity{Roots: ca.RootPEM(), Identity: "carol@example.com"})
		}, n: 1},
		{name: "x509 identity of two signers", add: func(r *signature.KeyRing) error {
			if err := r.AddX509("carol", signature.X509Identity{Roots: ca.RootPEM(), Identity: "carol@example.com"}); err != nil {
				return err
			}
			return r.AddX509("mallory", signature.X509Identity{Roots: ca.RootPEM(), Identity: "carol@example.com"})
		}, want: signature.ErrMalformed, n: 1},
		{name: "x509 both identity and regexp", add: func(r *signature.KeyRing) error {
			return r.AddX509("carol", signature.X509Identity{Roots: ca.RootPEM(), Identity: "a", IdentityRegexp: "b"})
		}, want: signature.ErrMalformed},
		{name: "x509 bad regexp", add: func(r *signature.KeyRing) error {
			return r.AddX509("carol", signature.X509Identity{Roots: ca.RootPEM(), IdentityRegexp: "("})
		}, want: signature.ErrMalformed},
		{name: "x509 no roots", add: func(r *signature.KeyRing) error {
			return r.AddX509("carol", signature.X509Identity{Identity: "carol@example.com"})
		}, want: signature.ErrMalformed},
		{name: "x509 bad roots", add: func(r *signature.KeyRing) error {
			return r.AddX509("carol", signature.X509Identity{Roots: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", Identity: "carol@example.com"})
		}, want: signature.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := signature.NewKeyRing()
			err := tc.add(r)
			if tc.want == nil && err != nil {
				t.Fatalf("add: %v", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("add = %v, want %v", err, tc.want)
			}
			if r.Len() != tc.n {
				t.Fatalf("Len = %d, want %d", r.Len(), tc.n)
			}
		})
	}
}

func TestX509SeveralSignersMatch(t *testing.T) {
	t.Parallel()
	ca := gittest.NewX509CA(t)
	s := ca.NewGPGSMSigner(t, "carol@example.com", gittest.X509Options{})
	r := gittest.NewRepo(t)
	c := signedCommit(t, r, s, "ambiguous")
	ring := signature.NewKeyRing()
	if err := ring.AddX509("carol", signature.X509Identity{Roots: ca.RootPEM(), Identity: "carol@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := ring.AddX509("team", signature.X509Identity{Roots: ca.RootPEM(), IdentityRegexp: `.*@example\.com`}); err != nil {
		t.Fatal(err)
	}
	_, err := ring.Verify(c.Payload, c.Signature, time.Now())
	if !errors.Is(err, signature.ErrUntrusted) || !strings.Contains(err.Error(), "carol, team") {
		t.Fatalf("Verify = %v, want ErrUntrusted naming both signers", err)
	}
}

// dsaKeyLine returns an authorized_keys line of a DSA key, a type that is
// never allowed; the numbers are not a usable key, only a parseable one.
func dsaKeyLine() string {
	wire := ssh.Marshal(struct {
		Name       string
		P, Q, G, Y *big.Int
	}{"ssh-dss", big.NewInt(23), big.NewInt(11), big.NewInt(4), big.NewInt(3)})
	return "ssh-dss " + base64.StdEncoding.EncodeToString(wire) + " dsa"
}

func TestOpenPGPStructure(t *testing.T) {
	t.Parallel()
	ring := fixtureRing(t)
	c := fixtureCommit(t, testdataOpenPGPCommit)
	body := unwrapSignature(t, c.Signature)
	cases := []struct {
		name   string
		sig    []byte
		want   error
		reason string
	}{
		{name: "two signature packets", sig: wrapSignature(t, wrapOpenPGP, append(append([]byte(nil), body...), body...)), want: signature.ErrMalformed, reason: "more than one packet"},
		{name: "no packet", sig: wrapSignature(t, wrapOpenPGP, nil), want: signature.ErrMalformed},
		{name: "public key block", sig: []byte(strings.ReplaceAll(string(fixture(t, testdataOpenPGPKey)), "PUBLIC KEY BLOCK", "SIGNATURE")), want: signature.ErrMalformed, reason: "where a signature was expected"},
		{name: "bad base64", sig: bytes.Replace(c.Signature, []byte("\n\n"), []byte("\n\n!!"), 1), want: signature.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ring.Verify(c.Payload, tc.sig, time.Now())
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("Verify = %v, want %v saying %q", err, tc.want, tc.reason)
			}
		})
	}
}
