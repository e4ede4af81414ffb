package devenv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"gitgate.dev/gitgate/provenance"
	"gitgate.dev/gitgate/provenance/render"
	"gitgate.dev/gitgate/provenance/trust"
)

func requireTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"git", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
}

// newTestRepo builds the demo repository in a temporary folder.
func newTestRepo(t *testing.T) *DemoRepo {
	t.Helper()
	requireTools(t)
	dir := t.TempDir()
	r, err := newDemoRepo(t.Context(), filepath.Join(dir, "repo"), filepath.Join(dir, "keys"), filepath.Join(dir, "gitconfig"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// verify runs gitgate's own verifier on the repository's main.
func verify(t *testing.T, r *DemoRepo) *provenance.Snapshot {
	t.Helper()
	repo, err := provenance.Open(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := provenance.NewVerifier(provenance.Options{}).Verify(t.Context(), repo, provenance.Request{
		Source: "demo", Branch: "main", TrustRoot: r.TrustRoot, Mode: provenance.ModeFull,
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func TestDemoRepoVerifiesAndRenders(t *testing.T) {
	r := newTestRepo(t)
	ctx := t.Context()

	snap := verify(t, r)
	if !snap.Verified {
		t.Fatalf("demo head not verified: %+v", snap.Failures())
	}
	var signers []string
	for _, s := range snap.HeadSigners() {
		signers = append(signers, s.Name)
	}
	if !slices.Equal(signers, []string{signerName}) {
		t.Errorf("head signers = %v, want [%s]", signers, signerName)
	}
	head, err := r.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if head == r.TrustRoot || snap.Head != head {
		t.Errorf("head %s, snapshot head %s, trust root %s: want a commit after the trust root", head, snap.Head, r.TrustRoot)
	}

	objs, err := render.Render(ctx, snap, []string{manifestsDir}, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []schema.GroupVersionKind
	names := map[string]string{}
	for _, o := range objs {
		got = append(got, o.Object.GroupVersionKind())
		names[o.Object.GetKind()] = o.Object.GetNamespace() + "/" + o.Object.GetName()
	}
	for _, k := range demoKinds {
		if !slices.Contains(got, k) {
			t.Errorf("rendered kinds %v lack %v", got, k)
		}
	}
	if len(got) != len(demoKinds) {
		t.Errorf("rendered %d objects %v, want one per demo kind %v", len(got), got, demoKinds)
	}
	want := map[string]string{"Namespace": "/demo", "Deployment": "demo/web", "Service": "demo/web", "ConfigMap": "demo/web-config"}
	for kind, name := range want {
		if names[kind] != name {
			t.Errorf("%s is %q, want %q", kind, names[kind], name)
		}
	}
}

func TestDemoRepoCommits(t *testing.T) {
	r := newTestRepo(t)
	ctx := t.Context()
	good, err := r.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}

	if err := r.WriteState(State{Replicas: 3, Greeting: "signed"}); err != nil {
		t.Fatal(err)
	}
	signed, err := r.Commit(ctx, "signed change", true)
	if err != nil {
		t.Fatal(err)
	}
	if snap := verify(t, r); !snap.Verified || snap.Head != signed {
		t.Fatalf("signed commit %s: verified=%v head=%s failures=%+v", signed, snap.Verified, snap.Head, snap.Failures())
	}

	if err := r.WriteState(State{Replicas: 9, Greeting: "unsigned"}); err != nil {
		t.Fatal(err)
	}
	unsigned, err := r.Commit(ctx, "unsigned change", false)
	if err != nil {
		t.Fatal(err)
	}
	if snap := verify(t, r); snap.Verified {
		t.Fatalf("unsigned commit %s verified", unsigned)
	}

	if err := r.ResetHard(ctx, signed); err != nil {
		t.Fatal(err)
	}
	head, err := r.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if head != signed || head == good {
		t.Fatalf("after reset head = %s, want %s", head, signed)
	}
	if out, err := r.git(ctx, "status", "--porcelain"); err != nil || out != "" {
		t.Fatalf("work tree not clean after reset: %q %v", out, err)
	}
	data, err := os.ReadFile(filepath.Join(r.Dir, manifestsDir, "deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "replicas: 3") {
		t.Errorf("work tree not at the signed commit:\n%s", data)
	}
}

// A user's plain `git commit` in the working copy, under their own
// (here: empty) global configuration, is signed with the demo key through
// the repository's local configuration, and `git verify-commit` accepts it
// through the allowed signers file the configuration names.
func TestDemoRepoSignsUserCommits(t *testing.T) {
	r := newTestRepo(t)
	ctx := t.Context()
	home := t.TempDir()
	userGlobal := filepath.Join(home, "gitconfig")
	// The user's own configuration says OpenPGP; the repository's wins.
	if err := os.WriteFile(userGlobal, []byte("[gpg]\n\tformat = openpgp\n[user]\n\tname = Someone\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	userGit := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = r.Dir
		cmd.Env = append(isolatedGitEnv(os.Environ(), userGlobal), "HOME="+home)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if err := os.WriteFile(filepath.Join(r.Dir, manifestsDir, "configmap.yaml"), []byte(strings.Replace(
		manifests(initialState)[manifestsDir+"/configmap.yaml"], initialState.Greeting, "from the user", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	userGit("commit", "-q", "-am", "user change")
	userGit("verify-commit", "HEAD")
	if snap := verify(t, r); !snap.Verified {
		t.Fatalf("the user's commit is not verified: %+v", snap.Failures())
	}
	// -S with SIGNING_KEY named explicitly works the same.
	if err := os.WriteFile(filepath.Join(r.Dir, "README.md"), []byte("changed\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	userGit("-c", "user.signingkey="+r.Key, "commit", "-q", "-S", "-am", "explicit key")
	if snap := verify(t, r); !snap.Verified {
		t.Fatalf("the -S commit is not verified: %+v", snap.Failures())
	}
}

// Paths outside the trust policy's rules cannot change, even when signed.
func TestDemoTrustPolicy(t *testing.T) {
	r := newTestRepo(t)
	data, err := os.ReadFile(filepath.Join(r.Dir, filepath.FromSlash(trust.Path)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := trust.Parse(trust.Path, data)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want bool
	}{
		{trust.Path, true},
		{manifestsDir + "/deployment.yaml", true},
		{manifestsDir + "/new/extra.yaml", true},
		{"README.md", true},
		{"other/file.yaml", false},
	} {
		t.Run(tc.path, func(t *testing.T) {
			if got := p.RuleFor(tc.path).Allows(signerName); got != tc.want {
				t.Errorf("demo may change %s: %v, want %v", tc.path, got, tc.want)
			}
		})
	}
	if !slices.Equal(p.Signers(), []string{signerName}) {
		t.Errorf("signers %v", p.Signers())
	}
}

func TestIsolatedGitEnv(t *testing.T) {
	env := isolatedGitEnv([]string{"PATH=/bin", "GIT_DIR=/elsewhere", "GIT_INDEX_FILE=x", "HOME=/h"}, "/empty")
	for _, kv := range env {
		if kv == "GIT_DIR=/elsewhere" || kv == "GIT_INDEX_FILE=x" {
			t.Errorf("inherited %s", kv)
		}
	}
	for _, want := range []string{"PATH=/bin", "HOME=/h", "GIT_CONFIG_GLOBAL=/empty", "GIT_CONFIG_NOSYSTEM=1"} {
		if !slices.Contains(env, want) {
			t.Errorf("env lacks %s: %v", want, env)
		}
	}
}

func TestNewDemoRepoFails(t *testing.T) {
	requireTools(t)
	dir := t.TempDir()
	// A file where the key folder should be.
	blocker := filepath.Join(dir, "keys")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newDemoRepo(t.Context(), filepath.Join(dir, "repo"), blocker, filepath.Join(dir, "gitconfig")); err == nil {
		t.Fatal("no error with an unusable key folder")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := newDemoRepo(ctx, filepath.Join(dir, "repo2"), filepath.Join(dir, "keys2"), filepath.Join(dir, "gitconfig2")); err == nil {
		t.Fatal("no error with a cancelled context")
	}
}
