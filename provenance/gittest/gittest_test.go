package gittest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// verifyCommit runs git's own check of a commit's signature with the
// signer's trust set up the way git expects for its format.
func verifyCommit(t *testing.T, r *Repo, s *Signer, sha string) (string, error) {
	t.Helper()
	args := s.configArgs()
	if s.Format == SSH {
		allowed := filepath.Join(t.TempDir(), "allowed_signers")
		writeFile(t, allowed, s.Email+" "+s.PublicKey()+"\n")
		args = append(args, "-c", "gpg.ssh.allowedSignersFile="+allowed)
	}
	args = append(args, "verify-commit", "--raw", sha)
	return r.git(s.env(), nil, args...)
}

func TestSignedCommitsVerifyWithGit(t *testing.T) {
	ca := NewX509CA(t)
	signers := map[string]*Signer{
		"ssh-ed25519":       NewSSHSigner(t, "alice"),
		"ssh-ecdsa":         NewSSHSignerKey(t, "erin", "ecdsa", 384),
		"openpgp":           NewGPGSigner(t, "Bob", "bob@example.com"),
		"x509":              ca.NewGPGSMSigner(t, "carol@example.com", X509Options{Issuer: "https://issuer.example.com"}),
		"x509-intermediate": ca.NewIntermediate(t).NewGPGSMSigner(t, "dave@example.com", X509Options{}),
		"x509-expired":      ca.NewGPGSMSigner(t, "old@example.com", X509Options{NotBefore: time.Now().Add(-72 * time.Hour), NotAfter: time.Now().Add(-48 * time.Hour)}),
	}
	for name, s := range signers {
		t.Run(name, func(t *testing.T) {
			r := NewRepo(t)
			r.WriteFile("files/"+name+".txt", name+"\n")
			sha := r.Commit("add "+name, s)
			raw := string(r.CatCommit(sha))
			if !strings.Contains(raw, "\ngpgsig ") {
				t.Fatalf("commit %s carries no gpgsig header:\n%s", sha, raw)
			}
			if !strings.Contains(raw, "author "+s.Name+" <"+s.Email+">") {
				t.Errorf("author is not the signer:\n%s", raw)
			}
			if name == "x509-expired" {
				return // git would rightly refuse it; that it signed at all is the point
			}
			if out, err := verifyCommit(t, r, s, sha); err != nil {
				t.Fatalf("git verify-commit: %v\n%s", err, out)
			}
		})
	}
}

func TestMergeAndForgedObject(t *testing.T) {
	s := NewSSHSigner(t, "alice")
	r := NewRepo(t)
	r.Date = time.Unix(1700000000, 0)
	r.WriteFile("a.txt", "a\n")
	base := r.Commit("base", nil)
	r.CheckoutNew("feature")
	r.WriteFile("b.txt", "b\n")
	side := r.Commit("side", s)
	r.Checkout("main")
	merge := r.Merge("feature", "merge feature", s)
	parents := strings.Fields(r.Run("rev-list", "--parents", "-n", "1", merge))
	if len(parents) != 3 || parents[1] != base || parents[2] != side {
		t.Fatalf("merge parents = %v, want [%s %s %s]", parents, merge, base, side)
	}
	if r.RevParse("main") != merge {
		t.Fatalf("main is not the merge")
	}
	raw := r.CatCommit(base)
	if !strings.Contains(string(raw), "committer Gitgate Test <test@gitgate.invalid> 1700000000 +0000") {
		t.Fatalf("fixed date not used:\n%s", raw)
	}
	forged := strings.Replace(string(raw), "base", "forged", 1)
	sha := r.HashObject([]byte(forged))
	if got := string(r.CatCommit(sha)); got != forged {
		t.Fatalf("HashObject stored %q, want %q", got, forged)
	}
	r.SetRef("refs/heads/forged", sha)
	if r.RevParse("forged") != sha {
		t.Fatal("SetRef did not move the branch")
	}
	r.Remove("a.txt")
	r.Commit("remove a", nil)
	if _, err := os.Stat(filepath.Join(r.Dir, "a.txt")); !os.IsNotExist(err) {
		t.Fatalf("a.txt still exists: %v", err)
	}
}

func TestGPGExpireAndRevoke(t *testing.T) {
	created := time.Now().Add(-48 * time.Hour)
	s := NewGPGSigner(t, "Eve", "eve@example.com", GPGOptions{Created: created})
	validity := func() string {
		out := string(s.tool(nil, "gpg", "--batch", "--with-colons", "--list-keys", s.Fingerprint))
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Split(line, ":"); f[0] == "pub" {
				return f[1]
			}
		}
		t.Fatalf("no pub line:\n%s", out)
		return ""
	}
	sig := s.Sign([]byte("payload\n"))
	if !strings.HasPrefix(string(sig), "-----BEGIN PGP SIGNATURE-----") {
		t.Fatalf("not an armored signature: %q", sig)
	}
	s.ExpireAt(created.Add(24 * time.Hour))
	if v := validity(); v != "e" {
		t.Fatalf("validity after ExpireAt = %q, want e", v)
	}
	s.Revoke()
	if v := validity(); v != "r" {
		t.Fatalf("validity after Revoke = %q, want r", v)
	}
	if !strings.Contains(s.ArmoredPublicKey(), "-----BEGIN PGP PUBLIC KEY BLOCK-----") {
		t.Fatal("no armored public key")
	}
}

func TestSSHNamespace(t *testing.T) {
	s := NewSSHSignerKey(t, "alice", "rsa", 1024)
	if !strings.HasPrefix(s.PublicKey(), "ssh-rsa ") {
		t.Fatalf("public key %q", s.PublicKey())
	}
	sig := string(s.SignSSHNamespace([]byte("x"), "file"))
	if !strings.HasPrefix(sig, "-----BEGIN SSH SIGNATURE-----") {
		t.Fatalf("not an SSH signature: %q", sig)
	}
}
