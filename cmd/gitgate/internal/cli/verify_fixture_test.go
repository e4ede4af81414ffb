package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fixtureRepo is a real Git repository with SSH-signed commits for the
// verify command's tests. (The richer builders in provenance/internal are
// not importable from this package; the provenance tests cover every
// signature format, these cover the command.) git and ssh-keygen run with a
// private HOME and no system or global git configuration.
type fixtureRepo struct {
	Dir string
	t   *testing.T
	env []string
}

type sshKey struct {
	name, path, pub string
}

func newFixtureRepo(t *testing.T) *fixtureRepo {
	t.Helper()
	for _, tool := range []string{"git", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	home := t.TempDir()
	global := filepath.Join(home, "gitconfig")
	if err := os.WriteFile(global, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "GIT_") || name == "HOME" || name == "SSH_AUTH_SOCK" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home, "GIT_CONFIG_GLOBAL="+global, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@gitgate.invalid",
		"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@gitgate.invalid")
	r := &fixtureRepo{Dir: t.TempDir(), t: t, env: env}
	r.Run("init", "-q", "-b", "main")
	return r
}

func (r *fixtureRepo) Run(args ...string) string {
	r.t.Helper()
	cmd := exec.CommandContext(r.t.Context(), "git", args...)
	cmd.Dir, cmd.Env = r.Dir, r.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return strings.TrimSpace(out.String())
}

func (r *fixtureRepo) sshSigner(name string) sshKey {
	r.t.Helper()
	path := filepath.Join(r.t.TempDir(), "id_"+name)
	cmd := exec.CommandContext(r.t.Context(), "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path)
	cmd.Env = r.env
	if out, err := cmd.CombinedOutput(); err != nil {
		r.t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(path + ".pub")
	if err != nil {
		r.t.Fatal(err)
	}
	return sshKey{name: name, path: path, pub: strings.TrimSpace(string(pub))}
}

func (r *fixtureRepo) WriteFile(path, content string) {
	r.t.Helper()
	full := filepath.Join(r.Dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(full), 0o750); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o600); err != nil {
		r.t.Fatal(err)
	}
}

// Commit commits every change, signed with key unless it is nil.
func (r *fixtureRepo) Commit(msg string, key *sshKey) string {
	r.t.Helper()
	r.Run("add", "-A")
	if key == nil {
		r.Run("commit", "-q", "--no-gpg-sign", "-m", msg)
	} else {
		r.Run("-c", "gpg.format=ssh", "-c", "user.signingkey="+key.path, "commit", "-q", "-S", "-m", msg)
	}
	return r.Run("rev-parse", "HEAD")
}

func (r *fixtureRepo) CheckoutNew(b string) { r.t.Helper(); r.Run("checkout", "-q", "-b", b) }
func (r *fixtureRepo) Checkout(b string)    { r.t.Helper(); r.Run("checkout", "-q", b) }
func (r *fixtureRepo) SetRef(ref, sha string) {
	r.t.Helper()
	r.Run("update-ref", ref, sha)
}
