// Package gittest builds real Git repositories with real signed commits for
// tests. It drives the installed `git`, `ssh-keygen`, `gpg` and `gpgsm`
// binaries, so the objects and signatures it produces are exactly what users
// produce; nothing is simulated.
//
// Every command runs isolated from the host: HOME points at a temporary
// folder, GIT_CONFIG_GLOBAL at an empty file, GIT_CONFIG_NOSYSTEM=1, every
// inherited GIT_* variable is dropped, and each GPG or GPGSM signer has its own
// short-lived GNUPGHOME whose agent is killed at cleanup. When a needed tool is
// missing the test is skipped with the reason.
//
// The API:
//
//	r := gittest.NewRepo(t)             // git init -b main in a temporary folder
//	r.WriteFile("a.yaml", "x: 1\n")     // write (and later `git add -A`)
//	r.Remove("a.yaml")
//	sha := r.Commit("msg", signer)      // signer nil: unsigned
//	r.Branch("feature"); r.Checkout("feature")  // or r.CheckoutNew("feature")
//	m := r.Merge("feature", "msg", signer)      // a --no-ff merge commit
//	raw := r.CatCommit(sha)             // the raw commit object
//	forged := r.HashObject(raw)         // write any bytes as a commit object
//	r.Run("tag", "v1")                  // anything else; fails the test on error
//
//	s := gittest.NewSSHSigner(t, "alice")                 // ed25519
//	s = gittest.NewSSHSignerKey(t, "alice", "rsa", 1024)  // ecdsa/rsa with bits
//	s.PublicKey()                                         // authorized_keys line
//
//	g := gittest.NewGPGSigner(t, "Bob", "bob@example.com")   // ed25519, no passphrase
//	g = gittest.NewGPGSigner(t, "Bob", "bob@example.com", gittest.GPGOptions{Algo: "rsa2048", Created: past})
//	g.ArmoredPublicKey(); g.ExpireAt(t, when); g.Revoke(t)
//
//	ca := gittest.NewX509CA(t)                       // a root CA made with crypto/x509
//	x := ca.NewGPGSMSigner(t, "carol@example.com", gittest.X509Options{Issuer: "https://issuer.example.com"})
//	ca.RootPEM()
//
// A Signer also signs arbitrary bytes (Sign, SignSSHNamespace) so tests can
// build forged or unusual signatures with the same tools.
//
// Repos and Signers run their tools with the context of the test that made
// them and clean up with it, so they belong to that test (and its
// subtests); do not share them between top-level tests.
package gittest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Format names a Git signature format, with the values of gpg.format.
type Format string

// The formats Git knows.
const (
	OpenPGP Format = "openpgp"
	SSH     Format = "ssh"
	X509    Format = "x509"
)

// Repo is a Git work tree in a temporary folder.
type Repo struct {
	// Dir is the work tree.
	Dir string
	// Date, when non-zero, is used as author and committer date of the next
	// commit and then advanced by one second, which makes unsigned commits
	// reproducible. Zero means git's default (the current time).
	Date time.Time

	t   testing.TB
	env []string
}

// NewRepo runs `git init -b main` in a new temporary folder.
func NewRepo(t testing.TB) *Repo {
	t.Helper()
	requireTool(t, "git")
	r := &Repo{Dir: t.TempDir(), t: t, env: baseEnv(t)}
	r.Run("init", "-q", "-b", "main")
	return r
}

// baseEnv is the environment for every tool: the host's minus anything that
// could change what git or gpg do, plus a private HOME and empty git config.
func baseEnv(t testing.TB) []string {
	t.Helper()
	home := t.TempDir()
	global := filepath.Join(home, "gitconfig")
	if err := os.WriteFile(global, nil, 0o600); err != nil {
		t.Fatalf("gittest: write global git config: %v", err)
	}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "GIT_"), name == "GNUPGHOME", name == "HOME",
			name == "XDG_CONFIG_HOME", name == "EMAIL", name == "SSH_AUTH_SOCK",
			name == "GPG_AGENT_INFO", name == "LANG", name == "LANGUAGE", strings.HasPrefix(name, "LC_"):
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"GIT_CONFIG_GLOBAL="+global,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Gitgate Test",
		"GIT_AUTHOR_EMAIL=test@gitgate.invalid",
		"GIT_COMMITTER_NAME=Gitgate Test",
		"GIT_COMMITTER_EMAIL=test@gitgate.invalid",
		"LC_ALL=C",
		"TZ=UTC",
	)
}

// Run runs git with args in the work tree and returns its trimmed standard
// output; a failure fails the test.
func (r *Repo) Run(args ...string) string {
	r.t.Helper()
	out, err := r.RunErr(args...)
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

// RunErr is Run that returns the error instead of failing the test.
func (r *Repo) RunErr(args ...string) (string, error) {
	r.t.Helper()
	return r.git(nil, nil, args...)
}

func (r *Repo) git(extraEnv []string, stdin []byte, args ...string) (string, error) {
	cmd := exec.CommandContext(r.t.Context(), "git", args...)
	cmd.Dir = r.Dir
	cmd.Env = append(append([]string(nil), r.env...), extraEnv...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("gittest: git %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(stdout.String()), nil
}

// WriteFile writes content to path (relative to the work tree, forward
// slashes), creating folders as needed.
func (r *Repo) WriteFile(path, content string) {
	r.t.Helper()
	full := filepath.Join(r.Dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(full), 0o750); err != nil {
		r.t.Fatalf("gittest: %v", err)
	}
	if err := os.WriteFile(full, []byte(content), 0o600); err != nil {
		r.t.Fatalf("gittest: %v", err)
	}
}

// Remove deletes path (a file or a folder) from the work tree.
func (r *Repo) Remove(path string) {
	r.t.Helper()
	if err := os.RemoveAll(filepath.Join(r.Dir, filepath.FromSlash(path))); err != nil {
		r.t.Fatalf("gittest: %v", err)
	}
}

// Commit stages every change (`git add -A`) and commits it, signed by signer
// unless signer is nil. Empty commits are allowed. The author and committer
// are the signer's name and email when there is a signer. It returns the new
// commit's SHA.
func (r *Repo) Commit(msg string, signer *Signer) string {
	r.t.Helper()
	r.Run("add", "-A")
	args := append(signer.configArgs(), "commit", "-q", "--allow-empty", "-m", msg)
	if signer != nil {
		args = append(args, "-S")
	} else {
		args = append(args, "--no-gpg-sign")
	}
	if _, err := r.git(r.commitEnv(signer), nil, args...); err != nil {
		r.t.Fatal(err)
	}
	return r.Head()
}

// Merge merges branch into the current branch with a merge commit (--no-ff),
// signed by signer unless nil, and returns its SHA.
func (r *Repo) Merge(branch, msg string, signer *Signer) string {
	r.t.Helper()
	args := append(signer.configArgs(), "merge", "-q", "--no-ff", "--no-edit", "-m", msg)
	if signer != nil {
		args = append(args, "-S")
	} else {
		args = append(args, "--no-gpg-sign")
	}
	args = append(args, branch)
	if _, err := r.git(r.commitEnv(signer), nil, args...); err != nil {
		r.t.Fatal(err)
	}
	return r.Head()
}

func (r *Repo) commitEnv(signer *Signer) []string {
	var env []string
	if signer != nil {
		env = append(env, signer.env()...)
		env = append(env,
			"GIT_AUTHOR_NAME="+signer.Name, "GIT_AUTHOR_EMAIL="+signer.Email,
			"GIT_COMMITTER_NAME="+signer.Name, "GIT_COMMITTER_EMAIL="+signer.Email)
	}
	if !r.Date.IsZero() {
		d := fmt.Sprintf("%d +0000", r.Date.Unix())
		env = append(env, "GIT_AUTHOR_DATE="+d, "GIT_COMMITTER_DATE="+d)
		r.Date = r.Date.Add(time.Second)
	}
	return env
}

// Branch creates branch name at HEAD without switching to it.
func (r *Repo) Branch(name string) {
	r.t.Helper()
	r.Run("branch", name)
}

// Checkout switches to an existing branch or commit.
func (r *Repo) Checkout(ref string) {
	r.t.Helper()
	r.Run("checkout", "-q", ref)
}

// CheckoutNew creates branch name at HEAD and switches to it.
func (r *Repo) CheckoutNew(name string) {
	r.t.Helper()
	r.Run("checkout", "-q", "-b", name)
}

// Head returns the SHA of HEAD.
func (r *Repo) Head() string {
	r.t.Helper()
	return r.Run("rev-parse", "HEAD")
}

// RevParse resolves a revision to a SHA.
func (r *Repo) RevParse(rev string) string {
	r.t.Helper()
	return r.Run("rev-parse", "--verify", rev+"^{commit}")
}

// CatCommit returns the raw commit object sha names, byte for byte.
func (r *Repo) CatCommit(sha string) []byte {
	r.t.Helper()
	cmd := exec.CommandContext(r.t.Context(), "git", "cat-file", "commit", sha)
	cmd.Dir = r.Dir
	cmd.Env = r.env
	out, err := cmd.Output()
	if err != nil {
		r.t.Fatalf("gittest: git cat-file commit %s: %v", sha, err)
	}
	return out
}

// HashObject writes raw as a commit object without any validation (git
// hash-object --literally), so tests can store forged or malformed commits,
// and returns its SHA.
func (r *Repo) HashObject(raw []byte) string {
	r.t.Helper()
	out, err := r.git(nil, raw, "hash-object", "-t", "commit", "-w", "--literally", "--stdin")
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

// SetRef points ref (e.g. refs/heads/main) at sha.
func (r *Repo) SetRef(ref, sha string) {
	r.t.Helper()
	r.Run("update-ref", ref, sha)
}

// requireTool skips the test when a binary is not installed.
func requireTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("gittest: %s is not installed: %v", name, err)
	}
}
