package benchrepo_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gitgate.dev/gitgate/provenance"
	"gitgate.dev/gitgate/provenance/internal/benchrepo"
)

// TestGeneratedHistoryVerifies proves the generated objects are what git
// writes: gitgate verifies them, and git itself reads the history and finds
// every signature good with the key files the generator writes.
func TestGeneratedHistoryVerifies(t *testing.T) {
	for _, format := range []benchrepo.Format{benchrepo.SSH, benchrepo.OpenPGP} {
		t.Run(string(format), func(t *testing.T) {
			r, err := benchrepo.Generate(t.Context(), benchrepo.Options{Dir: filepath.Join(t.TempDir(), "repo.git"), Commits: 12, Format: format})
			if err != nil {
				t.Fatal(err)
			}
			repo, err := provenance.Open(r.Dir)
			if err != nil {
				t.Fatal(err)
			}
			defer repo.Close()
			snap, err := provenance.NewVerifier(provenance.Options{}).Verify(t.Context(), repo,
				provenance.Request{Branch: "main", TrustRoot: r.TrustRoot})
			if err != nil {
				t.Fatal(err)
			}
			if !snap.Verified || len(snap.Commits) != 12 || snap.Head != r.Head {
				t.Fatalf("verified %v, %d commits, head %s: %+v", snap.Verified, len(snap.Commits), snap.Head, snap.Failures())
			}
			sha, err := r.Append()
			if err != nil {
				t.Fatal(err)
			}
			gitChecks(t, r, 13)
			repo2, err := provenance.Open(r.Dir)
			if err != nil {
				t.Fatal(err)
			}
			defer repo2.Close()
			snap, err = provenance.NewVerifier(provenance.Options{}).Verify(t.Context(), repo2,
				provenance.Request{Branch: "main", TrustRoot: r.TrustRoot})
			if err != nil || !snap.Verified || snap.Head != sha {
				t.Fatalf("after Append: %v %+v", err, snap)
			}
		})
	}
}

// gitChecks runs git log --show-signature the way test/bench/verify.sh does
// and counts good signatures.
func gitChecks(t *testing.T, r *benchrepo.Repo, want int) {
	t.Helper()
	home := t.TempDir()
	env := append(os.Environ(), "HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GNUPGHOME="+filepath.Join(home, "gnupg"))
	args := []string{"-C", r.Dir}
	good := `Good "git" signature`
	switch r.Format {
	case benchrepo.SSH:
		if _, err := exec.LookPath("ssh-keygen"); err != nil {
			t.Skip("ssh-keygen not installed")
		}
		allowed := filepath.Join(home, "allowed_signers")
		if err := os.WriteFile(allowed, []byte(r.AllowedSigners), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-c", "gpg.ssh.allowedSignersFile="+allowed)
	case benchrepo.OpenPGP:
		if _, err := exec.LookPath("gpg"); err != nil {
			t.Skip("gpg not installed")
		}
		if err := os.Mkdir(filepath.Join(home, "gnupg"), 0o700); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			kill := exec.Command("gpgconf", "--kill", "all")
			kill.Env = env
			_ = kill.Run()
		})
		for _, step := range []struct{ arg, input string }{{"--import", r.PublicKeys}, {"--import-ownertrust", r.OwnerTrust}} {
			cmd := exec.CommandContext(t.Context(), "gpg", "--batch", "--quiet", step.arg)
			cmd.Env, cmd.Stdin = env, strings.NewReader(step.input)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("gpg %s: %v\n%s", step.arg, err, out)
			}
		}
		good = "Good signature from"
	}
	cmd := exec.CommandContext(t.Context(), "git", append(args, "log", "--show-signature", "main")...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git log: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), good); n != want {
		t.Errorf("git found %d good signatures, want %d:\n%s", n, want, out)
	}
}
