package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type verifyFixture struct {
	repo     *fixtureRepo
	root     string
	c1, c2   string
	feature  string
	unsigned string
}

// newVerifyFixture: main = root (policy) → alice → bob, both SSH signers;
// branch feature with a commit by alice that main never merges; branch
// broken with an unsigned commit.
func newVerifyFixture(t *testing.T) *verifyFixture {
	t.Helper()
	r := newFixtureRepo(t)
	alice := r.sshSigner("alice")
	bob := r.sshSigner("bob")
	f := &verifyFixture{repo: r}
	r.WriteFile(".gitgate/trust.yaml", "version: 1\nsigners:\n"+
		"  alice:\n    keys:\n      - ssh: \""+alice.pub+"\"\n"+
		"  bob:\n    keys:\n      - ssh: \""+bob.pub+"\"\n"+
		"rules:\n  - paths: [\"**\"]\n    signers: [alice, bob]\n")
	f.root = r.Commit("root", nil)
	r.WriteFile("app.yaml", "v: 1\n")
	f.c1 = r.Commit("alice", &alice)
	r.WriteFile("app.yaml", "v: 2\n")
	f.c2 = r.Commit("bob", &bob)
	r.CheckoutNew("feature")
	r.WriteFile("feature.yaml", "f: 1\n")
	f.feature = r.Commit("feature", &alice)
	r.Checkout("main")
	r.CheckoutNew("broken")
	r.WriteFile("app.yaml", "v: 3\n")
	f.unsigned = r.Commit("unsigned", nil)
	r.Checkout("main")
	return f
}

func TestVerifyCommand(t *testing.T) {
	f := newVerifyFixture(t)
	dir := f.repo.Dir
	state := filepath.Join(t.TempDir(), "state.json")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		{"verified", []string{"--repo", dir, "--trust-root", f.root}, ExitOK,
			[]string{"verified: true", "head: " + f.c2, "commits checked: 2 (0 failed)", "signers: alice (ssh), bob (ssh)"}, ""},
		{"head mode", []string{"--repo", dir, "--trust-root", f.root, "--mode", "head", "--branch", "main"}, ExitOK,
			[]string{"verified: true", "commits checked: 1 (0 failed)"}, ""},
		{"unsigned commit", []string{"--repo", dir, "--trust-root", f.root, "--branch", "broken"}, ExitFailed,
			[]string{f.unsigned[:12] + " commit is not signed", "verified: false", "commits checked: 3 (1 failed)"}, ""},
		{"merged commit", []string{"--repo", dir, "--trust-root", f.root, "--commit", f.c1}, ExitOK, []string{"verified: true"}, ""},
		{"commit only on a feature branch", []string{"--repo", dir, "--trust-root", f.root, "--commit", f.feature}, ExitFailed,
			[]string{f.feature[:12] + " not merged into main", "verified: false"}, ""},
		{"trust root not an ancestor", []string{"--repo", dir, "--trust-root", f.feature}, ExitFailed,
			[]string{"is not an ancestor of head"}, ""},
		{"remote file URL", []string{"--repo", "file://" + dir, "--trust-root", f.root, "--cache-dir", t.TempDir()}, ExitOK,
			[]string{"verified: true"}, ""},

		{"malformed trust root", []string{"--repo", dir, "--trust-root", "abc"}, ExitUsage, nil, "not a full 40-digit commit SHA"},
		{"unknown trust root", []string{"--repo", dir, "--trust-root", strings.Repeat("0", 39) + "1"}, ExitUsage, nil, "is not a commit in"},
		{"malformed commit", []string{"--repo", dir, "--trust-root", f.root, "--commit", "HEAD"}, ExitUsage, nil, "--commit"},
		{"unknown commit", []string{"--repo", dir, "--trust-root", f.root, "--commit", strings.Repeat("ab", 20)}, ExitUsage, nil, "not in"},
		{"unknown flag", []string{"--repo", dir, "--trust-root", f.root, "--nope"}, ExitUsage, nil, "unknown flag"},
		{"missing repo", []string{"--trust-root", f.root}, ExitUsage, nil, `"repo" not set`},
		{"bad output", []string{"--repo", dir, "--trust-root", f.root, "-o", "yaml"}, ExitUsage, nil, "want text or json"},
		{"bad mode", []string{"--repo", dir, "--trust-root", f.root, "--mode", "most"}, ExitUsage, nil, "want full or head"},
		{"unreadable repository", []string{"--repo", filepath.Join(t.TempDir(), "none"), "--trust-root", f.root}, ExitUsage, nil, "repository unavailable"},
		{"unknown branch", []string{"--repo", dir, "--trust-root", f.root, "--branch", "nope"}, ExitUsage, nil, "branch \"nope\" not found"},
		{"plain http refused", []string{"--repo", "http://example.com/r.git", "--trust-root", f.root}, ExitUsage, nil, "no transport security"},
		{"extra argument", []string{"--repo", dir, "--trust-root", f.root, "extra"}, ExitUsage, nil, "unknown command"},
		{"corrupt state", []string{"--repo", dir, "--trust-root", f.root, "--state", writeFile(t, "{")}, ExitUsage, nil, "ledger unavailable"},
		{"state written", []string{"--repo", dir, "--trust-root", f.root, "--state", state}, ExitOK, []string{"verified: true"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", append([]string{"verify"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout does not contain %q:\n%s", want, stdout)
				}
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.stderr)
			}
		})
	}
	data, err := os.ReadFile(state)
	if err != nil || !strings.Contains(string(data), f.c2) {
		t.Errorf("state file = %q, %v; want it to hold the head %s", data, err, f.c2)
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVerifyCommandRewind(t *testing.T) {
	f := newVerifyFixture(t)
	state := filepath.Join(t.TempDir(), "state.json")
	args := []string{"verify", "--repo", f.repo.Dir, "--trust-root", f.root, "--state", state}
	if code, out, errOut := run(t, "", args...); code != ExitOK {
		t.Fatalf("first run: exit %d\n%s%s", code, out, errOut)
	}
	// Force-push main back to alice's older, validly signed commit.
	f.repo.SetRef("refs/heads/main", f.c1)
	code, out, _ := run(t, "", args...)
	if code != ExitFailed || !strings.Contains(out, f.c1[:12]+" branch main was rewound") {
		t.Fatalf("rewound branch: exit %d\n%s", code, out)
	}
	// Without the state, the older commit verifies: the ledger is what
	// refuses the rollback.
	if code, out, _ := run(t, "", args[:len(args)-2]...); code != ExitOK {
		t.Fatalf("without state: exit %d\n%s", code, out)
	}
	// Moving forward again is accepted.
	f.repo.SetRef("refs/heads/main", f.c2)
	if code, out, _ := run(t, "", args...); code != ExitOK {
		t.Fatalf("forward again: exit %d\n%s", code, out)
	}
}

func TestVerifyCommandJSON(t *testing.T) {
	f := newVerifyFixture(t)
	for _, tt := range []struct {
		name     string
		args     []string
		code     int
		verified bool
		shas     []string
	}{
		{"verified", []string{"--branch", "main"}, ExitOK, true, []string{f.c2, f.c1}},
		{"failed", []string{"--branch", "broken"}, ExitFailed, false, []string{f.unsigned, f.c2, f.c1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"verify", "--repo", f.repo.Dir, "--trust-root", f.root, "-o", "json"}, tt.args...)
			code, stdout, stderr := run(t, "", args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, stderr)
			}
			// The exact shape: no other keys at any level.
			var raw map[string]json.RawMessage
			if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, stdout)
			}
			wantKeys(t, raw, "commits", "head", "verified")
			var out struct {
				Head     string `json:"head"`
				Verified bool   `json:"verified"`
				Commits  []map[string]json.RawMessage
			}
			if err := json.Unmarshal([]byte(stdout), &out); err != nil {
				t.Fatal(err)
			}
			if out.Head != tt.shas[0] || out.Verified != tt.verified {
				t.Errorf("head %s verified %v, want %s %v", out.Head, out.Verified, tt.shas[0], tt.verified)
			}
			var shas []string
			for _, c := range out.Commits {
				wantKeys(t, c, "reason", "sha", "signers", "verified")
				var sha string
				_ = json.Unmarshal(c["sha"], &sha)
				shas = append(shas, sha)
				var signers []map[string]json.RawMessage
				if err := json.Unmarshal(c["signers"], &signers); err != nil || signers == nil {
					t.Errorf("signers of %s = %s, want an array", sha, c["signers"])
				}
				for _, s := range signers {
					wantKeys(t, s, "format", "name")
				}
			}
			if !slices.Equal(shas, tt.shas) {
				t.Errorf("commits %q, want %q", shas, tt.shas)
			}
		})
	}
}

func wantKeys[V any](t *testing.T, m map[string]V, keys ...string) {
	t.Helper()
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	if !slices.Equal(got, keys) {
		t.Errorf("keys %q, want %q", got, keys)
	}
}
