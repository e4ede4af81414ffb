package gittest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Signer is a signing identity that git can use: an SSH key, a GPG key in its
// own GNUPGHOME, or an X.509 certificate in its own gpgsm home.
type Signer struct {
	// Name and Email become the author and committer of the commits it signs.
	Name  string
	Email string
	// Format is the gpg.format git signs with.
	Format Format
	// SigningKey is the value of user.signingkey: the private key file for
	// SSH, the key fingerprint for OpenPGP and X.509.
	SigningKey string
	// KeyPath is the SSH private key file (empty for other formats).
	KeyPath string
	// Home is the GNUPGHOME of an OpenPGP or X.509 signer (empty for SSH).
	Home string
	// Fingerprint is the OpenPGP key fingerprint (upper-case hex) or the
	// X.509 certificate's SHA-1 fingerprint as gpgsm prints it.
	Fingerprint string

	publicKey string
	t         testing.TB
	baseEnv   []string
}

// GitConfig returns the `-c` arguments that make git sign with this signer.
func (s *Signer) GitConfig() []string { return s.configArgs() }

// Env returns the environment variables (GNUPGHOME) that the signing program
// needs; empty for SSH.
func (s *Signer) Env() []string { return s.env() }

func (s *Signer) configArgs() []string {
	if s == nil {
		return nil
	}
	args := []string{"-c", "gpg.format=" + string(s.Format), "-c", "user.signingkey=" + s.SigningKey}
	if s.Format == X509 {
		args = append(args, "-c", "gpg.x509.program=gpgsm")
	}
	return args
}

func (s *Signer) env() []string {
	if s == nil || s.Home == "" {
		return nil
	}
	return []string{"GNUPGHOME=" + s.Home}
}

// PublicKey returns the SSH public key as an authorized_keys line.
func (s *Signer) PublicKey() string { return s.publicKey }

// ArmoredPublicKey exports the OpenPGP public key (with its current
// self-signatures, expiry and revocations) as an armored block.
func (s *Signer) ArmoredPublicKey() string {
	s.t.Helper()
	if s.Format != OpenPGP {
		s.t.Fatalf("gittest: ArmoredPublicKey on a %s signer", s.Format)
	}
	return string(s.tool(nil, "gpg", "--armor", "--export", s.Fingerprint))
}

// Sign signs payload the way git does for this signer's format and returns
// the armored signature.
func (s *Signer) Sign(payload []byte) []byte {
	s.t.Helper()
	switch s.Format {
	case SSH:
		return s.SignSSHNamespace(payload, "git")
	case OpenPGP:
		return s.tool(payload, "gpg", "--detach-sign", "--armor", "--local-user", s.Fingerprint)
	case X509:
		return s.tool(payload, "gpgsm", "--detach-sign", "--armor", "--local-user", s.Fingerprint)
	}
	s.t.Fatalf("gittest: unknown format %q", s.Format)
	return nil
}

// SignSSHNamespace signs payload with `ssh-keygen -Y sign -n namespace`.
func (s *Signer) SignSSHNamespace(payload []byte, namespace string) []byte {
	s.t.Helper()
	if s.Format != SSH {
		s.t.Fatalf("gittest: SignSSHNamespace on a %s signer", s.Format)
	}
	return s.tool(payload, "ssh-keygen", "-q", "-Y", "sign", "-n", namespace, "-f", s.KeyPath)
}

// tool runs a signing tool in the signer's environment with stdin and
// returns its standard output; a failure fails the test.
func (s *Signer) tool(stdin []byte, name string, args ...string) []byte {
	s.t.Helper()
	out, err := runTool(s.t.Context(), s.baseEnv, s.env(), stdin, name, args...)
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

func runTool(ctx context.Context, base, extra []string, stdin []byte, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(append([]string(nil), base...), extra...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("gittest: %s %s: %w\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// NewSSHSigner makes an ed25519 SSH key with ssh-keygen.
func NewSSHSigner(t testing.TB, name string) *Signer {
	t.Helper()
	return NewSSHSignerKey(t, name, "ed25519", 0)
}

// NewSSHSignerKey makes an SSH key of keyType (ed25519, ecdsa, rsa) with
// bits (0 for the type's default; 256/384/521 for ecdsa; any size for rsa, so
// tests can make keys that policies must refuse).
func NewSSHSignerKey(t testing.TB, name, keyType string, bits int) *Signer {
	t.Helper()
	requireTool(t, "ssh-keygen")
	dir := t.TempDir()
	key := filepath.Join(dir, "id_"+keyType)
	args := []string{"-q", "-t", keyType, "-N", "", "-C", name + "@example.com", "-f", key}
	if bits > 0 {
		args = append(args, "-b", fmt.Sprint(bits))
	}
	env := baseEnv(t)
	if _, err := runTool(t.Context(), env, nil, nil, "ssh-keygen", args...); err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatalf("gittest: %v", err)
	}
	return &Signer{
		Name: name, Email: name + "@example.com", Format: SSH,
		SigningKey: key, KeyPath: key,
		publicKey: strings.TrimSpace(string(pub)), t: t, baseEnv: env,
	}
}

// GPGOptions tunes NewGPGSigner.
type GPGOptions struct {
	// Algo is the key algorithm as gpg --quick-gen-key names it: "ed25519"
	// (default), "rsa2048", "rsa3072", "nistp256", ...
	Algo string
	// Created, when non-zero, is the key's creation time (made with gpg's
	// --faked-system-time), so tests can later expire it in the past.
	Created time.Time
	// Expire is the expiry argument of --quick-gen-key ("never" by default,
	// or e.g. "1y", "2d", "seconds=3600").
	Expire string
}

// NewGPGSigner makes an OpenPGP signing key without passphrase in a fresh
// GNUPGHOME. opts is optional (at most one).
func NewGPGSigner(t testing.TB, name, email string, opts ...GPGOptions) *Signer {
	t.Helper()
	requireTool(t, "gpg")
	requireTool(t, "gpgconf")
	var o GPGOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Algo == "" {
		o.Algo = "ed25519"
	}
	if o.Expire == "" {
		o.Expire = "never"
	}
	s := &Signer{Name: name, Email: email, Format: OpenPGP, t: t, baseEnv: baseEnv(t)}
	s.Home = gnupgHome(t)
	args := append(gpgBatch(o.Created),
		"--passphrase", "", "--quick-gen-key", fmt.Sprintf("%s <%s>", name, email), o.Algo, "sign", o.Expire)
	s.tool(nil, "gpg", args...)
	s.Fingerprint = s.gpgFingerprint()
	s.SigningKey = s.Fingerprint
	return s
}

// gpgBatch is the common non-interactive prefix of gpg commands, with a
// faked clock when at is non-zero.
func gpgBatch(at time.Time) []string {
	args := []string{"--batch", "--pinentry-mode", "loopback", "--no-tty"}
	if !at.IsZero() {
		args = append(args, "--faked-system-time", fmt.Sprintf("%d!", at.Unix()))
	}
	return args
}

func (s *Signer) gpgFingerprint() string {
	s.t.Helper()
	out := s.tool(nil, "gpg", "--batch", "--with-colons", "--list-secret-keys")
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Split(line, ":"); len(f) > 9 && f[0] == "fpr" {
			return f[9]
		}
	}
	s.t.Fatalf("gittest: no fingerprint in gpg output:\n%s", out)
	return ""
}

// ExpireAt changes the key's expiry so that it expires at when, which may be
// in the past (the new self-signature is made with a faked clock one minute
// after the key's creation, so when must be later than that). Sign first,
// then expire, to get a signature made after the key expired.
func (s *Signer) ExpireAt(when time.Time) {
	s.t.Helper()
	created := s.gpgCreated()
	now := created.Add(time.Minute)
	secs := int64(when.Sub(now) / time.Second)
	if secs <= 0 {
		s.t.Fatalf("gittest: ExpireAt %v is not after the key's creation %v plus a minute", when, created)
	}
	args := append(gpgBatch(now), "--passphrase", "", "--quick-set-expire", s.Fingerprint, fmt.Sprintf("seconds=%d", secs))
	s.tool(nil, "gpg", args...)
}

func (s *Signer) gpgCreated() time.Time {
	s.t.Helper()
	out := s.tool(nil, "gpg", "--batch", "--with-colons", "--list-keys", s.Fingerprint)
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Split(line, ":"); len(f) > 5 && f[0] == "pub" {
			var sec int64
			if _, err := fmt.Sscan(f[5], &sec); err == nil {
				return time.Unix(sec, 0)
			}
		}
	}
	s.t.Fatalf("gittest: no creation time in gpg output:\n%s", out)
	return time.Time{}
}

// Revoke revokes the key by importing the revocation certificate gpg stored
// when it made the key.
func (s *Signer) Revoke() {
	s.t.Helper()
	rev, err := os.ReadFile(filepath.Join(s.Home, "openpgp-revocs.d", s.Fingerprint+".rev"))
	if err != nil {
		s.t.Fatalf("gittest: read revocation certificate: %v", err)
	}
	// gpg prefixes the armor line with ':' so the file cannot be imported by
	// accident.
	text := strings.Replace(string(rev), ":-----BEGIN PGP PUBLIC KEY BLOCK-----", "-----BEGIN PGP PUBLIC KEY BLOCK-----", 1)
	s.tool([]byte(text), "gpg", "--batch", "--import")
}

// gnupgHome makes a GNUPGHOME short enough for the agent's socket path
// (sockaddr_un holds about 107 bytes, and t.TempDir() paths grow with the
// test name), and kills the agent and removes the folder at cleanup.
func gnupgHome(t testing.TB) string {
	t.Helper()
	// MkdirTemp makes the folder 0700, as gpg insists.
	dir, err := os.MkdirTemp("", "gg")
	if err != nil {
		t.Fatalf("gittest: %v", err)
	}
	// Empty passphrases are passed through loopback pinentry.
	if err := os.WriteFile(filepath.Join(dir, "gpg-agent.conf"), []byte("allow-loopback-pinentry\n"), 0o600); err != nil {
		t.Fatalf("gittest: %v", err)
	}
	t.Cleanup(func() {
		// The test's context is already done at cleanup.
		cmd := exec.CommandContext(context.Background(), "gpgconf", "--kill", "all")
		cmd.Env = append(os.Environ(), "GNUPGHOME="+dir)
		_ = cmd.Run()
		_ = os.RemoveAll(dir)
	})
	return dir
}
