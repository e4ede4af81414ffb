package trust

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gitgate.dev/gitgate/provenance/gittest"
)

// indent prefixes every line of s so that it nests under a YAML block
// scalar ("|") at that depth.
func indent(s string, spaces int) string {
	pad := strings.Repeat(" ", spaces)
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pad + l
	}
	return strings.Join(lines, "\n")
}

// TestParseDesignExample parses the policy sketched in DESIGN.md §2 with
// real keys: an ed25519 key from ssh-keygen, an OpenPGP key from gpg and a
// root certificate made with crypto/x509. It then checks that the key ring
// knows each key under its signer's name by verifying real signatures.
func TestParseDesignExample(t *testing.T) {
	alice := gittest.NewSSHSigner(t, "alice")
	bob := gittest.NewGPGSigner(t, "Bob", "bob@example.com")
	ca := gittest.NewX509CA(t)
	src := fmt.Sprintf(`version: 1
signers:
  alice: {keys: [{ssh: %q}]}
  bob:
    keys:
      - openpgp: |
%s
  carol:
    keys:
      - x509:
          roots: |
%s
          identity: carol@example.com
          issuer: https://issuer.example.com
groups:
  maintainers: [alice, bob, carol]
rules:                      # first match wins, per changed path
  - paths: [".gitgate/**"]
    signers: [alice, bob]
    approvals: 2
  - paths: ["clusters/prod/**"]
    signers: [maintainers]
    approvals: 2
  - paths: ["**"]
    signers: [maintainers]
`, alice.PublicKey(), indent(bob.ArmoredPublicKey(), 10), indent(ca.RootPEM(), 12))

	p := mustParse(t, src)
	if got, want := p.Signers(), []string{"alice", "bob", "carol"}; !slices.Equal(got, want) {
		t.Fatalf("Signers() = %v, want %v", got, want)
	}
	if n := p.Keys().Len(); n != 3 {
		t.Fatalf("Keys().Len() = %d, want 3", n)
	}
	for _, tt := range []struct {
		path      string
		rule      int
		approvals int
		signers   []string
	}{
		{Path, 0, 2, []string{"alice", "bob"}},
		{"clusters/prod/apps/web.yaml", 1, 2, []string{"alice", "bob", "carol"}},
		{"clusters/dev/web.yaml", 2, 1, []string{"alice", "bob", "carol"}},
		{"README.md", 2, 1, []string{"alice", "bob", "carol"}},
	} {
		r := p.RuleFor(tt.path)
		if r == nil || r.Index != tt.rule || r.Approvals != tt.approvals || !slices.Equal(r.Signers, tt.signers) {
			t.Errorf("RuleFor(%q) = %+v, want rule %d with approvals %d and signers %v", tt.path, r, tt.rule, tt.approvals, tt.signers)
		}
	}

	payload := []byte("tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor a <a@example.com> 1 +0000\ncommitter a <a@example.com> 1 +0000\n\nm\n")
	for _, s := range []struct {
		signer *gittest.Signer
		name   string
	}{{alice, "alice"}, {bob, "bob"}} {
		v, err := p.Keys().Verify(payload, s.signer.Sign(payload), time.Now())
		if err != nil {
			t.Fatalf("verify a signature by %s: %v", s.name, err)
		}
		if v.Signer != s.name {
			t.Fatalf("signature by %s verified as signer %q", s.name, v.Signer)
		}
	}
}

// TestParseRealKeyErrors feeds keys that parse as keys but that the policy
// must refuse, made at test time by the real tools.
func TestParseRealKeyErrors(t *testing.T) {
	weak := gittest.NewSSHSignerKey(t, "weak", "rsa", 1024)
	src := fmt.Sprintf("version: 1\nsigners:\n  weak:\n    keys:\n      - ssh: %q\n", weak.PublicKey())
	_, err := Parse(testFile, []byte(src))
	if err == nil || !strings.HasPrefix(err.Error(), testFile+":5: signers.weak.keys[0].ssh: ") {
		t.Fatalf("Parse with an RSA-1024 key = %v, want an error at line 5 naming the field", err)
	}

	// An SSH key line given as an OpenPGP key, and the reverse.
	ok := gittest.NewSSHSigner(t, "ok")
	for _, src := range []string{
		fmt.Sprintf("version: 1\nsigners:\n  x: {keys: [{openpgp: %q}]}\n", ok.PublicKey()),
		"version: 1\nsigners:\n  x: {keys: [{ssh: \"-----BEGIN PGP PUBLIC KEY BLOCK-----\"}]}\n",
	} {
		if _, err := Parse(testFile, []byte(src)); err == nil || !strings.HasPrefix(err.Error(), testFile+":3: signers.x.keys[0].") {
			t.Errorf("Parse(%q) = %v, want a key error at line 3", src, err)
		}
	}
}

func TestParseX509IdentityRegexp(t *testing.T) {
	ca := gittest.NewX509CA(t)
	src := fmt.Sprintf(`version: 1
signers:
  ci:
    keys:
      - x509:
          roots: |
%s
          identityRegexp: 'https://github\.com/example/[a-z-]+/\.github/workflows/release\.yaml@refs/heads/main'
          issuer: https://token.actions.githubusercontent.com
rules:
  - {paths: ["clusters/**/images.yaml"], signers: [ci]}
`, indent(ca.RootPEM(), 12))
	p := mustParse(t, src)
	if p.Keys().Len() != 1 || !p.RuleFor("clusters/prod/images.yaml").Allows("ci") {
		t.Fatalf("keys %d, rule %+v: want one x509 identity allowed by the rule", p.Keys().Len(), p.RuleFor("clusters/prod/images.yaml"))
	}
}
