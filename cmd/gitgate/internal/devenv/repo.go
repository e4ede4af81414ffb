package devenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"gitgate.dev/gitgate/provenance/trust"
)

// Demo repository layout and identities.
const (
	// signerName is the demo key's signer in the trust policy.
	signerName = "demo"
	// demoEmail is the committer and the SSH key's comment.
	demoEmail = "demo@gitgate.dev"
	// manifestsDir is the folder the GitSource renders.
	manifestsDir = "demo"
	// keyFile is the private key's file name in the keys folder.
	keyFile = "demo_ed25519"
)

// DemoRepo is the demo's Git repository: a normal working copy on branch
// main whose local configuration signs commits with the demo's SSH key.
type DemoRepo struct {
	// Dir is the working copy.
	Dir string
	// Key is the private SSH key the trust policy authorizes.
	Key string
	// PublicKey is the key's authorized_keys line.
	PublicKey string
	// TrustRoot is the first commit, whose trust policy is taken on faith.
	TrustRoot string

	env []string
}

// newDemoRepo makes an ed25519 key in keyDir with ssh-keygen, a repository
// in dir with the real git, and two signed commits: the trust policy (the
// trust root) and the demo manifests. gitConfig is an empty file used as
// the global git configuration of gitgate's own git runs, so the user's
// configuration cannot change what the demo does.
func newDemoRepo(ctx context.Context, dir, keyDir, gitConfig string) (*DemoRepo, error) {
	for _, d := range []string{dir, keyDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("demo folder: %w", err)
		}
	}
	if err := os.WriteFile(gitConfig, nil, 0o600); err != nil {
		return nil, fmt.Errorf("empty git configuration: %w", err)
	}
	r := &DemoRepo{Dir: dir, Key: filepath.Join(keyDir, keyFile), env: isolatedGitEnv(os.Environ(), gitConfig)}
	if err := r.makeKey(ctx); err != nil {
		return nil, err
	}
	allowed := filepath.Join(keyDir, "allowed_signers")
	// allowed_signers lets `git log --show-signature` in the repository
	// name the key; gitgate itself reads the trust policy only.
	if err := os.WriteFile(allowed, []byte(demoEmail+" "+r.PublicKey+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("allowed signers: %w", err)
	}
	if _, err := r.git(ctx, "init", "--quiet", "--initial-branch=main"); err != nil {
		return nil, err
	}
	// Local configuration only: `git commit` in the working copy signs with
	// the demo key for the user too, whatever their global configuration.
	for _, kv := range [][2]string{
		{"user.name", "gitgate demo"},
		{"user.email", demoEmail},
		{"gpg.format", "ssh"},
		{"user.signingkey", r.Key},
		{"commit.gpgsign", "true"},
		{"gpg.ssh.allowedSignersFile", allowed},
	} {
		if _, err := r.git(ctx, "config", "--local", kv[0], kv[1]); err != nil {
			return nil, err
		}
	}
	policy := trustPolicy(r.PublicKey)
	if _, err := trust.Parse(trust.Path, []byte(policy)); err != nil {
		return nil, fmt.Errorf("demo trust policy: %w", err)
	}
	if err := r.writeFiles(map[string]string{trust.Path: policy, "README.md": readme}); err != nil {
		return nil, err
	}
	var err error
	if r.TrustRoot, err = r.Commit(ctx, "Trust policy: the demo key may change the demo", true); err != nil {
		return nil, err
	}
	if err := r.WriteState(initialState); err != nil {
		return nil, err
	}
	if _, err := r.Commit(ctx, "Deploy web: Namespace, Deployment, Service and ConfigMap", true); err != nil {
		return nil, err
	}
	return r, nil
}

// isolatedGitEnv is environ without GIT_* variables (a GIT_DIR or
// GIT_INDEX_FILE of the caller would redirect every command) and with the
// system and global configuration replaced by an empty file.
func isolatedGitEnv(environ []string, gitConfig string) []string {
	env := make([]string, 0, len(environ)+4)
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "GIT_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"GIT_CONFIG_GLOBAL="+gitConfig,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"LC_ALL=C",
	)
}

// makeKey makes a passphrase-less ed25519 key pair.
func (r *DemoRepo) makeKey(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", demoEmail, "-f", r.Key)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ssh-keygen: %w: %s", err, bytes.TrimSpace(out))
	}
	pub, err := os.ReadFile(r.Key + ".pub")
	if err != nil {
		return fmt.Errorf("read public key: %w", err)
	}
	r.PublicKey = strings.TrimSpace(string(pub))
	return nil
}

// git runs git in the working copy and returns its trimmed stdout.
func (r *DemoRepo) git(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = r.Dir
	cmd.Env = r.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.Error
		if errors.As(err, &ee) {
			return "", fmt.Errorf("git is needed for the demo repository: %w", err)
		}
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

func (r *DemoRepo) writeFiles(files map[string]string) error {
	for rel, content := range files {
		path := filepath.Join(r.Dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("demo repository: %w", err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			return fmt.Errorf("demo repository: %w", err)
		}
	}
	return nil
}

// WriteState writes the manifests of s into the working copy.
func (r *DemoRepo) WriteState(s State) error {
	return r.writeFiles(manifests(s))
}

// Commit stages every change and commits it, signed with the demo key or
// explicitly unsigned, and returns the new head.
func (r *DemoRepo) Commit(ctx context.Context, msg string, signed bool) (string, error) {
	if _, err := r.git(ctx, "add", "--all"); err != nil {
		return "", err
	}
	sign := "--gpg-sign"
	if !signed {
		sign = "--no-gpg-sign"
	}
	if _, err := r.git(ctx, "commit", "--quiet", sign, "--message", msg); err != nil {
		return "", err
	}
	return r.Head(ctx)
}

// Head returns the commit main points at.
func (r *DemoRepo) Head(ctx context.Context) (string, error) {
	return r.git(ctx, "rev-parse", "--verify", "refs/heads/main^{commit}")
}

// ResetHard moves main and the working copy to commit, as a user undoing a
// bad commit would.
func (r *DemoRepo) ResetHard(ctx context.Context, commit string) error {
	_, err := r.git(ctx, "reset", "--quiet", "--hard", commit)
	return err
}

// trustPolicy authorizes the demo key for the trust policy itself, the
// manifests and the README; any other path cannot change.
func trustPolicy(publicKey string) string {
	return fmt.Sprintf(`# gitgate trust policy (see gitgate's README, "Trust policy").
# The policy that judges a commit is the one in its first parent; this
# first commit is the trust root, named by the GitSource, and taken on faith.
version: 1
signers:
  %[1]s:
    keys:
      - ssh: %[2]q
rules:
  # Changing who may sign is itself a signed change.
  - paths: [".gitgate/**"]
    signers: [%[1]s]
  - paths: ["%[3]s/**", "README.md"]
    signers: [%[1]s]
`, signerName, publicKey, manifestsDir)
}

const readme = `# gitgate demo repository

gitgate applies the manifests in demo/ to the cluster, but only from commits
signed by a key that .gitgate/trust.yaml authorizes. Commits made here are
signed with the demo key (see .git/config); an unsigned one
(git commit --no-gpg-sign) is refused and the cluster keeps its last good state.
`
