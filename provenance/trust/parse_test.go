package trust

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"gitgate.dev/gitgate/provenance/signature"
)

// Public keys made once with ssh-keygen for tables that need a valid key but
// do not care whose it is. They are public halves only.
const (
	aliceSSH = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINdW99qFlvv0lC7ZfcD8USgWsWwcbHuuzGZRpvbWe5Yv alice@example.com"
	bobSSH   = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDMNiAfXXwpvWMHrVd6D4vXdaZ+ll8ouRUmqYeH8Takm bob@example.com"
	carolSSH = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBO+KpF8Y8eZG1YzPiPIM8g6t3bCgMWRWd9Uy4e9+w2c6xA6NmWRsmxbUUr3x3Th6cW6XqHSzo/3zD71TUC+GbYo= carol@example.com"
	dsaSSH   = "ssh-dss AAAAB3NzaC1kc3MAAACBAPtQ+9A9b6VVK4xNA5PL6Z7cjV3OW7735uXe8mk1l/xMGadhElOAg2CoGMhNMyet0EyquCznkWUaRTtM5OBZ+RH6YE6PNJYjuaZk6iw9I1LPmDDxdzZx/zPX7ndrrhjP4p7jrXJGm79Jjh7l64Jdu+7TpC0RqodK8AYUB9jGT4DNAAAAFQCMj6CHFHkeiG3J2CXvqblJO1ALhwAAAIBLAZdE4akUani0RDPCAf3josGhJLU647i5XNExmX+dZTiO1DzqR3AhlcbeAoJobVAJEoXg6Yic4HVyWfMph0J7xohghBwdC41dI1ghGecgm1bWS4jk0Mqhq9FWc9XgbuYSf+uxE/76OdWlMnw1Ucv2QrnEs9VHketAz7lGdNaHgwAAAIEA6mmaKhMdK50VhAKhTFWzYncHsfZ5rx+JpZxFCWlMGx+4TBql2U2WzBR6x2Uh2WVj5/cjip7GRttLHkgJJ9NwwC4scjWs1wweePFRhBIDdfqMZxGFpK7AVQruNnqxBopz6RkqgcAJMmj13z46NgwqZGO3vpdH8aewCgVmqokp+0w= dsa@example.com"
	rsa1024  = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDDXUlKYtEqfpj9lZ2nDdJEQOKW2+Br39YpKd+zvDScwP4Niaa6yGzxgIN420ALHs+B8EthdjIKY6zNKOOEe2Lbf3Q1kCL3xs/yYs0voi846FeW8PGc18gVtdBP24h5TXf6llIbKejugBih19EPDNa+udEWsWqnMF/6iVPfsZXl3Q== weak@example.com"
)

// head is a valid policy prefix: lines 1-5, with signers alice and bob.
var head = fmt.Sprintf(`version: 1
signers:
  alice: {keys: [{ssh: %q}]}
  bob:
    keys: [{ssh: %q}]
`, aliceSSH, bobSSH)

const testFile = ".gitgate/trust.yaml"

func mustParse(t testing.TB, src string) *Policy {
	t.Helper()
	p, err := Parse(testFile, []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p
}

// parseErrorCases is shared with FuzzParse as seeds.
var parseErrorCases = []struct {
	name  string
	src   string
	line  int    // 0: the error names no line
	field string // "" : the error names no field
	msg   string // substring of the reason
}{
	// Document level.
	{"empty", "", 0, "", "policy is empty; version is required"},
	{"only comments", "# nothing here\n", 0, "", "policy is empty"},
	{"syntax", "version: [1\n", 1, "", "invalid YAML: did not find expected ',' or ']'"},
	{"bad utf8", "version: 1\nsigners: \xff\n", 0, "", "invalid YAML: invalid leading UTF-8 octet"},
	{"not a mapping", "- version: 1\n", 1, "", "the policy must be a mapping of version, signers, groups and rules, got a list"},
	{"scalar root", "hello\n", 1, "", "the policy must be a mapping of version, signers, groups and rules, got a string"},
	{"document marker only", "---\n", 2, "", "the policy must be a mapping of version, signers, groups and rules, got null"},
	{"tagged root", "!!set {version: 1}\n", 1, "", "must be a mapping, got a mapping tagged !!set"},
	{"second document", "version: 1\n---\nversion: 1\n", 2, "", "only one YAML document is allowed"},
	{"trailing document marker", "version: 1\n---\n", 2, "", "only one YAML document is allowed"},
	{"non-string key", "version: 1\n7: x\n", 2, "", "keys must be strings, got an integer"},

	// Version.
	{"version missing", "signers: {}\n", 1, "version", "missing; this gitgate reads version 1"},
	{"version unsupported", "version: 2\nfuture: {}\n", 1, "version", "unsupported version 2"},
	{"version zero", "version: 0\n", 1, "version", "unsupported version 0"},
	{"version string", "version: \"1\"\n", 1, "version", "must be an integer, got a string"},
	{"version explicit str tag", "version: !!str 1\n", 1, "version", "must be an integer, got a string"},
	{"version float", "version: 1.0\n", 1, "version", "must be an integer, got a number"},
	{"version null", "version:\n", 1, "version", "must be an integer, got null"},
	{"version huge", "version: 99999999999999999999\n", 1, "version", "must be an integer, got a number"},

	// Unknown fields and duplicates.
	{"unknown top field", "version: 1\nsigner: {}\n", 2, "signer", "unknown field (allowed: version, signers, groups, rules)"},
	{"unknown signer field", head + "  carol: {keys: [{ssh: x}], email: c@example.com}\n", 6, "signers.carol.email", "unknown field (allowed: keys)"},
	{"unknown key field", head + "  carol: {keys: [{rsa: x}]}\n", 6, "signers.carol.keys[0].rsa", "unknown field (allowed: ssh, openpgp, x509)"},
	{"unknown x509 field", head + "  carol:\n    keys:\n      - x509: {roots: x, identity: c, subject: y}\n", 8, "signers.carol.keys[0].x509.subject", "unknown field"},
	{"unknown rule field", head + "rules:\n  - paths: [a]\n    signers: [alice]\n    approval: 1\n", 9, "rules[0].approval", "unknown field (allowed: paths, signers, approvals)"},
	{"unknown field quoted", "version: 1\n\"a b\": 1\n", 2, `"a b"`, "unknown field"},
	{"duplicate top key", "version: 1\nversion: 1\n", 2, "version", "duplicate key (first at line 1)"},
	{"duplicate signer", head + "  alice: {keys: [{ssh: x}]}\n", 6, "signers.alice", "duplicate key (first at line 3)"},
	{"duplicate rule key", head + "rules:\n  - paths: [a]\n    signers: [alice]\n    paths: [b]\n", 9, "rules[0].paths", "duplicate key (first at line 7)"},
	{"duplicate group", head + "groups:\n  g: [alice]\n  g: [bob]\n", 8, "groups.g", "duplicate key (first at line 7)"},

	// Wrong types.
	{"signers list", "version: 1\nsigners: [alice]\n", 2, "signers", "must be a mapping, got a list"},
	{"signers null", "version: 1\nsigners:\n", 2, "signers", "must be a mapping, got null"},
	{"signer string", "version: 1\nsigners:\n  alice: ssh-ed25519\n", 3, "signers.alice", "must be a mapping, got a string"},
	{"keys mapping", "version: 1\nsigners:\n  alice: {keys: {ssh: x}}\n", 3, "signers.alice.keys", "must be a list, got a mapping"},
	{"key string", "version: 1\nsigners:\n  alice: {keys: [x]}\n", 3, "signers.alice.keys[0]", "must be a mapping, got a string"},
	{"ssh integer", "version: 1\nsigners:\n  alice: {keys: [{ssh: 5}]}\n", 3, "signers.alice.keys[0].ssh", "must be a string, got an integer"},
	{"ssh empty", "version: 1\nsigners:\n  alice: {keys: [{ssh: \"\"}]}\n", 3, "signers.alice.keys[0].ssh", "must not be empty"},
	{"openpgp list", "version: 1\nsigners:\n  alice: {keys: [{openpgp: [x]}]}\n", 3, "signers.alice.keys[0].openpgp", "must be a string, got a list"},
	{"x509 string", "version: 1\nsigners:\n  alice: {keys: [{x509: pem}]}\n", 3, "signers.alice.keys[0].x509", "must be a mapping, got a string"},
	{"custom tag", "version: 1\nsigners: !custom {}\n", 2, "signers", "must be a mapping, got a mapping tagged !custom"},
	{"binary tag", "version: 1\nsigners:\n  alice: {keys: [{ssh: !!binary aGk=}]}\n", 3, "signers.alice.keys[0].ssh", "must be a string, got a value tagged !!binary"},
	{"groups list", head + "groups: [a]\n", 6, "groups", "must be a mapping, got a list"},
	{"group string", head + "groups:\n  g: alice\n", 7, "groups.g", "must be a list, got a string"},
	{"group member int", head + "groups:\n  g: [alice, 3]\n", 7, "groups.g[1]", "must be a string, got an integer"},
	{"rules mapping", head + "rules: {a: b}\n", 6, "rules", "must be a list, got a mapping"},
	{"rules null", head + "rules:\n", 6, "rules", "must be a list, got null"},
	{"rule string", head + "rules:\n  - \"**\"\n", 7, "rules[0]", "must be a mapping, got a string"},
	{"paths string", head + "rules:\n  - {paths: \"**\", signers: [alice]}\n", 7, "rules[0].paths", "must be a list, got a string"},
	{"rule signers string", head + "rules:\n  - {paths: [\"**\"], signers: alice}\n", 7, "rules[0].signers", "must be a list, got a string"},
	{"approvals string", head + "rules:\n  - {paths: [a], signers: [alice], approvals: two}\n", 7, "rules[0].approvals", "must be an integer, got a string"},
	{"approvals float", head + "rules:\n  - {paths: [a], signers: [alice], approvals: 1.5}\n", 7, "rules[0].approvals", "must be an integer, got a number"},
	{"approvals overflow", head + "rules:\n  - {paths: [a], signers: [alice], approvals: 18446744073709551615}\n", 7, "rules[0].approvals", "out of range"},

	// Signer names.
	{"name with space", "version: 1\nsigners:\n  \"al ice\": {keys: [{ssh: x}]}\n", 3, `signers."al ice"`, "invalid name"},
	{"name with comma", "version: 1\nsigners:\n  \"a,b\": {keys: [{ssh: x}]}\n", 3, "signers.a,b", "invalid name"},
	{"name leading dash", "version: 1\nsigners:\n  -x: {keys: [{ssh: x}]}\n", 3, "signers.-x", "invalid name"},
	{"name too long", "version: 1\nsigners:\n  " + strings.Repeat("a", 129) + ": {keys: [{ssh: x}]}\n", 3, "signers." + strings.Repeat("a", 129), "invalid name"},
	{"group name invalid", head + "groups:\n  \"g/x\": [alice]\n", 7, "groups.g/x", "invalid name"},

	// Keys.
	{"signer without keys field", "version: 1\nsigners:\n  alice: {}\n", 3, "signers.alice.keys", "missing; a signer needs at least one key"},
	{"signer with empty keys", "version: 1\nsigners:\n  alice:\n    keys: []\n", 4, "signers.alice.keys", "empty; a signer needs at least one key"},
	{"key with nothing", "version: 1\nsigners:\n  alice: {keys: [{}]}\n", 3, "signers.alice.keys[0]", "a key needs exactly one of ssh, openpgp, x509 (found 0)"},
	{"key with two kinds", fmt.Sprintf("version: 1\nsigners:\n  alice:\n    keys:\n      - ssh: %q\n        openpgp: x\n", aliceSSH), 5, "signers.alice.keys[0]", "a key needs exactly one of ssh, openpgp, x509 (found 2)"},
	{"second key broken", fmt.Sprintf("version: 1\nsigners:\n  alice:\n    keys:\n      - ssh: %q\n      - ssh: nonsense\n", aliceSSH), 6, "signers.alice.keys[1].ssh", ""},
	{"ssh garbage", "version: 1\nsigners:\n  alice: {keys: [{ssh: not-a-key}]}\n", 3, "signers.alice.keys[0].ssh", ""},
	{"ssh dsa", fmt.Sprintf("version: 1\nsigners:\n  alice: {keys: [{ssh: %q}]}\n", dsaSSH), 3, "signers.alice.keys[0].ssh", ""},
	{"ssh key of two signers", fmt.Sprintf("version: 1\nsigners:\n  alice: {keys: [{ssh: %q}]}\n  mallory: {keys: [{ssh: %q}]}\n", aliceSSH, aliceSSH), 4, "signers.mallory.keys[0].ssh", ""},
	{"ssh with options", fmt.Sprintf("version: 1\nsigners:\n  alice: {keys: [{ssh: %q}]}\n", `command="/bin/true" `+aliceSSH), 3, "signers.alice.keys[0].ssh", ""},
	{"ssh rsa 1024", fmt.Sprintf("version: 1\nsigners:\n  alice: {keys: [{ssh: %q}]}\n", rsa1024), 3, "signers.alice.keys[0].ssh", ""},
	{"openpgp garbage", "version: 1\nsigners:\n  bob:\n    keys:\n      - openpgp: |\n          not a key\n", 5, "signers.bob.keys[0].openpgp", ""},
	{"x509 bad roots", "version: 1\nsigners:\n  carol: {keys: [{x509: {roots: nope, identity: carol@example.com}}]}\n", 3, "signers.carol.keys[0].x509", ""},
	{"x509 no roots", "version: 1\nsigners:\n  carol: {keys: [{x509: {identity: carol@example.com}}]}\n", 3, "signers.carol.keys[0].x509.roots", "missing"},
	{"x509 no identity", "version: 1\nsigners:\n  carol:\n    keys:\n      - x509:\n          roots: pem\n", 6, "signers.carol.keys[0].x509", "exactly one of identity, identityRegexp is required"},
	{"x509 both identities", "version: 1\nsigners:\n  carol:\n    keys:\n      - x509:\n          roots: pem\n          identity: a@example.com\n          identityRegexp: a\n", 6, "signers.carol.keys[0].x509", "exactly one of identity, identityRegexp is required"},
	{"x509 empty identity", "version: 1\nsigners:\n  carol: {keys: [{x509: {roots: pem, identity: \"\"}}]}\n", 3, "signers.carol.keys[0].x509.identity", "must not be empty"},
	{"x509 bad regexp", "version: 1\nsigners:\n  carol:\n    keys:\n      - x509:\n          roots: pem\n          identityRegexp: \"([a-z]+@example.com\"\n", 7, "signers.carol.keys[0].x509.identityRegexp", "invalid regular expression: error parsing regexp: missing closing )"},
	{"x509 perl regexp", "version: 1\nsigners:\n  carol: {keys: [{x509: {roots: pem, identityRegexp: \"(?<=a)b\"}}]}\n", 3, "signers.carol.keys[0].x509.identityRegexp", "invalid regular expression"},
	{"x509 issuer not url", "version: 1\nsigners:\n  carol: {keys: [{x509: {roots: pem, identity: c, issuer: accounts.google.com}}]}\n", 3, "signers.carol.keys[0].x509.issuer", "must be an absolute URL"},

	// Groups.
	{"group self cycle", head + "groups:\n  g: [g]\n", 7, "groups.g[0]", "group cycle: g -> g"},
	{"group cycle", head + "groups:\n  a: [alice, b]\n  b: [c]\n  c: [bob, a]\n", 9, "groups.c[1]", "group cycle: a -> b -> c -> a"},
	{"group cycle defined later", head + "groups:\n  top: [x]\n  x: [y]\n  y: [x]\n", 9, "groups.y[0]", "group cycle: x -> y -> x"},
	{"group unknown member", head + "groups:\n  g: [alice, zed]\n", 7, "groups.g[1]", `unknown signer or group "zed"`},
	{"group empty", head + "groups:\n  g: []\n", 7, "groups.g", "empty; a group needs at least one member"},
	{"group is signer", head + "groups:\n  alice: [bob]\n", 7, "groups.alice", `"alice" is both a signer and a group`},

	// Rules.
	{"rule no paths", head + "rules:\n  - signers: [alice]\n", 7, "rules[0].paths", "missing; a rule needs at least one path glob"},
	{"rule empty paths", head + "rules:\n  - {paths: [], signers: [alice]}\n", 7, "rules[0].paths", "empty; a rule needs at least one path glob"},
	{"rule no signers", head + "rules:\n  - paths: [a]\n", 7, "rules[0].signers", "missing; a rule needs at least one signer or group"},
	{"rule empty signers", head + "rules:\n  - {paths: [a], signers: []}\n", 7, "rules[0].signers", "empty; a rule needs at least one signer or group"},
	{"rule unknown signer", head + "rules:\n  - paths: [\"**\"]\n    signers: [alice, mallory]\n", 8, "rules[0].signers[1]", `unknown signer or group "mallory"`},
	{"second rule unknown group", head + "groups:\n  g: [alice]\nrules:\n  - {paths: [a], signers: [g]}\n  - {paths: [b], signers: [h]}\n", 10, "rules[1].signers[0]", `unknown signer or group "h"`},
	{"approvals zero", head + "rules:\n  - {paths: [a], signers: [alice], approvals: 0}\n", 7, "rules[0].approvals", "must be at least 1, got 0"},
	{"approvals negative", head + "rules:\n  - {paths: [a], signers: [alice], approvals: -2}\n", 7, "rules[0].approvals", "must be at least 1, got -2"},
	{"approvals unreachable", head + "groups:\n  both: [alice, bob]\nrules:\n  - {paths: [a], signers: [both, alice], approvals: 3}\n", 9, "rules[0].approvals", "3 approvals needed but the rule authorizes only 2 signer(s)"},
	{"glob absolute", head + "rules:\n  - {paths: [a, /etc/x], signers: [alice]}\n", 7, "rules[0].paths[1]", `invalid glob "/etc/x": glob must be relative`},
	{"glob double star in segment", head + "rules:\n  - {paths: [\"**.yaml\"], signers: [alice]}\n", 7, "rules[0].paths[0]", "** must be a whole path segment"},
	{"glob dotdot", head + "rules:\n  - {paths: [\"a/../b\"], signers: [alice]}\n", 7, "rules[0].paths[0]", "must not contain . or .. segments"},
	{"glob class", head + "rules:\n  - {paths: [\"a/[b\"], signers: [alice]}\n", 7, "rules[0].paths[0]", "unterminated or empty character class"},
	{"glob trailing slash", head + "rules:\n  - {paths: [\"docs/\"], signers: [alice]}\n", 7, "rules[0].paths[0]", "must not end with /"},
	{"glob empty", head + "rules:\n  - {paths: [\"\"], signers: [alice]}\n", 7, "rules[0].paths[0]", "must not be empty"},
	{"glob number", head + "rules:\n  - {paths: [42], signers: [alice]}\n", 7, "rules[0].paths[0]", "must be a string, got an integer"},

	// Anchors and aliases.
	{"anchor", fmt.Sprintf("version: 1\nsigners:\n  alice: &k {keys: [{ssh: %q}]}\n", aliceSSH), 3, "signers.alice", "YAML anchors are not allowed (&k)"},
	{"alias", head + "groups:\n  g: &m [alice]\n  h: *m\n", 7, "groups.g", "YAML anchors are not allowed (&m)"},
	{"anchor on key", "version: 1\n&k signers: {}\n", 2, "", "YAML anchors are not allowed (&k)"},
	{"merge key", head + "rules:\n  - paths: [a]\n    signers: [alice]\n    <<: {approvals: 2}\n", 9, "rules[0].<<", "YAML merge keys are not allowed"},
	{"alias bomb", "version: 1\na: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n", 2, "a", "YAML anchors are not allowed (&a)"},
}

func TestParseErrors(t *testing.T) {
	for _, tt := range parseErrorCases {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(testFile, []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse succeeded (%d rules), want an error", len(p.Rules()))
			}
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("error %v is a %T, want *Error", err, err)
			}
			if perr.File != testFile || perr.Line != tt.line || perr.Field != tt.field {
				t.Fatalf("error %q names %s:%d field %q, want %s:%d field %q",
					err, perr.File, perr.Line, perr.Field, testFile, tt.line, tt.field)
			}
			prefix := testFile
			if tt.line > 0 {
				prefix += fmt.Sprintf(":%d", tt.line)
			}
			prefix += ": "
			if tt.field != "" {
				prefix += tt.field + ": "
			}
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Fatalf("error %q does not start with %q", err, prefix)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %q does not say %q", err, tt.msg)
			}
			// A key the key ring refuses keeps the ring's error class.
			if tt.msg == "" && !errors.Is(err, signature.ErrMalformed) {
				t.Fatalf("error %q does not wrap signature.ErrMalformed", err)
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	// A valid policy padded with a comment past the cap: the size alone
	// must refuse it, before any YAML is read.
	src := head + "# " + strings.Repeat("x", MaxSize) + "\n"
	_, err := Parse(testFile, []byte(src))
	var perr *Error
	if !errors.As(err, &perr) || perr.Line != 0 || !strings.Contains(err.Error(), "larger than the 1048576-byte limit") {
		t.Fatalf("Parse of %d bytes = %v, want the size error", len(src), err)
	}
	if !strings.HasPrefix(err.Error(), testFile+": policy is ") {
		t.Fatalf("error %q does not name the file", err)
	}
	// Exactly at the cap is still read.
	atCap := head + "#" + strings.Repeat("x", MaxSize-len(head)-2) + "\n"
	if len(atCap) != MaxSize {
		t.Fatalf("test bug: %d bytes", len(atCap))
	}
	mustParse(t, atCap)
}

// seededSSHKey returns a real ed25519 public key line derived from i, for
// tests that need many distinct keys without running ssh-keygen each time.
func seededSSHKey(t testing.TB, i int) string {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	binary.BigEndian.PutUint64(seed, uint64(i))
	pub, err := ssh.NewPublicKey(ed25519.NewKeyFromSeed(seed).Public())
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
}

func TestParseGroupExpansionBudget(t *testing.T) {
	// Each group names one big group: a small file whose expansion is
	// groups x signers entries, which the budget must stop.
	var b strings.Builder
	b.WriteString("version: 1\nsigners:\n")
	const signers, groups = 100, maxExpansion/100 + 10
	var all []string
	for i := range signers {
		fmt.Fprintf(&b, "  s%d: {keys: [{ssh: %q}]}\n", i, seededSSHKey(t, i))
		all = append(all, fmt.Sprintf("s%d", i))
	}
	fmt.Fprintf(&b, "groups:\n  all: [%s]\n", strings.Join(all, ", "))
	for i := range groups {
		fmt.Fprintf(&b, "  g%d: [all]\n", i)
	}
	src := b.String()
	if len(src) > MaxSize {
		t.Fatalf("test bug: %d bytes is over the size cap", len(src))
	}
	_, err := Parse(testFile, []byte(src))
	if err == nil || !strings.Contains(err.Error(), "groups expand to more than") {
		t.Fatalf("Parse = %v, want the expansion budget error", err)
	}
}

func TestParseMinimal(t *testing.T) {
	// Empty rules are allowed: nothing in the repository can change.
	p := mustParse(t, "version: 1\n")
	if got := p.Signers(); len(got) != 0 {
		t.Fatalf("Signers() = %v, want none", got)
	}
	if p.Keys().Len() != 0 || len(p.Rules()) != 0 {
		t.Fatalf("keys %d rules %d, want 0 and 0", p.Keys().Len(), len(p.Rules()))
	}
	if r := p.RuleFor(Path); r != nil {
		t.Fatalf("RuleFor(%q) = rule %d, want nil", Path, r.Index)
	}
	p = mustParse(t, head+"rules: []\n")
	if r := p.RuleFor("a"); r != nil {
		t.Fatalf("RuleFor with empty rules = rule %d, want nil", r.Index)
	}
}

func TestParseGroupsAndDefaults(t *testing.T) {
	src := fmt.Sprintf(`version: 1
signers:
  zoe: {keys: [{ssh: %q}]}
  alice: {keys: [{ssh: %q}]}
  bob: {keys: [{ssh: %q}]}
groups:
  # "all" names groups defined after it and overlaps them on purpose.
  all: [ops, devs, bob]
  ops: [zoe, alice]
  devs: [team]
  team: [bob, alice]
rules:
  - paths: [".gitgate/**"]
    signers: [ops, bob]
    approvals: 2
  - paths: ["apps/**", "charts/*/values.yaml"]
    signers: [devs]
  - paths: ["**"]
    signers: [all, zoe, all]
`, carolSSH, aliceSSH, bobSSH)
	p := mustParse(t, src)
	if got, want := p.Signers(), []string{"alice", "bob", "zoe"}; !slices.Equal(got, want) {
		t.Fatalf("Signers() = %v, want %v", got, want)
	}
	if p.Keys().Len() != 3 {
		t.Fatalf("Keys().Len() = %d, want 3", p.Keys().Len())
	}
	want := []Rule{
		{Index: 0, Line: 13, Paths: []string{".gitgate/**"}, Signers: []string{"alice", "bob", "zoe"}, Approvals: 2},
		{Index: 1, Line: 16, Paths: []string{"apps/**", "charts/*/values.yaml"}, Signers: []string{"alice", "bob"}, Approvals: 1},
		{Index: 2, Line: 18, Paths: []string{"**"}, Signers: []string{"alice", "bob", "zoe"}, Approvals: 1},
	}
	rules := p.Rules()
	if len(rules) != len(want) {
		t.Fatalf("%d rules, want %d", len(rules), len(want))
	}
	for i, r := range rules {
		w := want[i]
		if r.Index != w.Index || r.Line != w.Line || r.Approvals != w.Approvals ||
			!slices.Equal(r.Paths, w.Paths) || !slices.Equal(r.Signers, w.Signers) {
			t.Errorf("rule %d = %+v, want %+v", i, *r, w)
		}
	}
	// Signers() hands out a copy.
	p.Signers()[0] = "mallory"
	if p.Signers()[0] != "alice" {
		t.Fatal("Signers() exposes the policy's slice")
	}
}

func TestRuleForFirstMatchWins(t *testing.T) {
	src := head + `rules:
  - paths: [".gitgate/**"]
    signers: [alice]
    approvals: 1
  - paths: ["clusters/prod/**", "clusters/*/secrets/**"]
    signers: [alice, bob]
    approvals: 2
  - paths: ["clusters/**"]
    signers: [bob]
  - paths: ["**/*.md"]
    signers: [alice, bob]
`
	p := mustParse(t, src)
	tests := []struct {
		path string
		rule int // -1: no rule
	}{
		{".gitgate/trust.yaml", 0},
		{".gitgate", 0}, // "**" matches zero segments
		{"clusters/prod/app.yaml", 1},
		{"clusters/prod/README.md", 1}, // rule 1 comes before the *.md rule
		{"clusters/dev/secrets/db.yaml", 1},
		{"clusters/dev/app.yaml", 2},
		{"clusters/dev/README.md", 2},
		{"README.md", 3},
		{"docs/guide/intro.md", 3},
		{"main.go", -1},
		{"gitgate/trust.yaml", -1},
		{"", -1},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := p.RuleFor(tt.path)
			switch {
			case tt.rule < 0 && r != nil:
				t.Fatalf("RuleFor(%q) = rule %d, want none", tt.path, r.Index)
			case tt.rule >= 0 && r == nil:
				t.Fatalf("RuleFor(%q) = nil, want rule %d", tt.path, tt.rule)
			case tt.rule >= 0 && r.Index != tt.rule:
				t.Fatalf("RuleFor(%q) = rule %d, want rule %d", tt.path, r.Index, tt.rule)
			}
		})
	}
	if r := p.RuleFor("clusters/dev/app.yaml"); !r.Allows("bob") || r.Allows("alice") || r.Allows("") {
		t.Fatalf("rule %d allows the wrong signers: %v", r.Index, r.Signers)
	}
	if p.RuleFor("main.go").Allows("alice") {
		t.Fatal("a nil rule (unmatched path) must allow no one")
	}
	allocs := testing.AllocsPerRun(100, func() {
		p.RuleFor("clusters/dev/README.md")
		p.RuleFor("main.go")
	})
	if allocs != 0 {
		t.Fatalf("RuleFor allocates %v times per run, want 0", allocs)
	}
}
