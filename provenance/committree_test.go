package provenance_test

import (
	"errors"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gitgate.dev/gitgate/provenance"
	"gitgate.dev/gitgate/provenance/gittest"
	vt "gitgate.dev/gitgate/provenance/internal/verifytest"
	"gitgate.dev/gitgate/provenance/render"
)

var _ render.Tree = (*provenance.CommitTree)(nil)

// treeRepo is a signed repository with two commits of manifests: old and
// head (which changes one file, adds one and removes one), with a symlink,
// an executable and a nested folder.
type treeRepo struct {
	*gittest.Repo
	root, old, head string
}

func newTreeRepo(t testing.TB) *treeRepo {
	t.Helper()
	r := gittest.NewRepo(t)
	alice := gittest.NewSSHSigner(t, "alice")
	r.WriteFile(".gitgate/trust.yaml", vt.NewPolicy().Signer("alice", alice).Rules(vt.Rule{Paths: []string{"**"}, Signers: []string{"alice"}}))
	root := r.Commit("root", nil)
	r.WriteFile("apps/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: default\ndata:\n  v: \"1\"\n")
	r.WriteFile("apps/nested/b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  namespace: default\n")
	r.WriteFile("gone.yaml", "x: 1\n")
	r.WriteFile("run.sh", "#!/bin/sh\n")
	if err := os.Chmod(filepath.Join(r.Dir, "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(r.Dir, "apps", "link.yaml")); err != nil {
		t.Fatal(err)
	}
	old := r.Commit("old", alice)
	r.WriteFile("apps/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: default\ndata:\n  v: \"2\"\n")
	r.WriteFile("apps/c.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: default\n")
	r.Remove("gone.yaml")
	head := r.Commit("head", alice)
	return &treeRepo{Repo: r, root: root, old: old, head: head}
}

func walkAll(t *testing.T, tree render.Tree, prefix string) []string {
	t.Helper()
	var out []string
	if err := tree.Walk(prefix, func(f provenance.File) error {
		out = append(out, f.Path+":"+string(f.Kind))
		return nil
	}); err != nil {
		t.Fatalf("walk %q: %v", prefix, err)
	}
	return out
}

// TestCommitTreeMatchesSnapshot: for the verified head, a CommitTree lists
// and reads exactly what the Snapshot does.
func TestCommitTreeMatchesSnapshot(t *testing.T) {
	r := newTreeRepo(t)
	repo, err := provenance.Open(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	snap, err := provenance.NewVerifier(provenance.Options{}).Verify(t.Context(), repo, provenance.Request{Source: "s", Branch: "main", TrustRoot: r.root})
	if err != nil || !snap.Verified {
		t.Fatalf("verify: %v %+v", err, snap.Failures())
	}
	tree, err := repo.Tree(r.head)
	if err != nil {
		t.Fatal(err)
	}
	if tree.Commit() != r.head {
		t.Errorf("Commit() = %s, want %s", tree.Commit(), r.head)
	}
	for _, prefix := range []string{"", "apps", "apps/nested"} {
		got, want := walkAll(t, tree, prefix), walkAll(t, snap, prefix)
		if !slices.Equal(got, want) || len(got) == 0 {
			t.Errorf("walk %q: %v, snapshot %v", prefix, got, want)
		}
	}
	var files []string
	_ = snap.Walk("", func(f provenance.File) error { files = append(files, f.Path); return nil })
	for _, p := range files {
		got, gerr := tree.ReadFile(p, 0)
		want, werr := snap.ReadFile(p, 0)
		if string(got) != string(want) || (gerr == nil) != (werr == nil) {
			t.Errorf("%s: read %q (%v), snapshot %q (%v)", p, got, gerr, want, werr)
		}
	}
	// The objects render makes are the same.
	fromTree, err := render.Render(t.Context(), tree, []string{"apps/a.yaml", "apps/c.yaml", "apps/nested"}, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fromSnap, err := render.Render(t.Context(), snap, []string{"apps/a.yaml", "apps/c.yaml", "apps/nested"}, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fromTree) != 3 || len(fromTree) != len(fromSnap) {
		t.Fatalf("rendered %d objects, snapshot %d; want 3", len(fromTree), len(fromSnap))
	}
	for i := range fromTree {
		if fromTree[i].Key() != fromSnap[i].Key() || fromTree[i].Path != fromSnap[i].Path {
			t.Errorf("object %d: %v from %s, snapshot %v from %s", i, fromTree[i].Key(), fromTree[i].Path, fromSnap[i].Key(), fromSnap[i].Path)
		}
	}
}

// TestCommitTreeOlderCommit: a commit behind the head reads as it was, and
// the errors are those of the Snapshot's accessors.
func TestCommitTreeOlderCommit(t *testing.T) {
	r := newTreeRepo(t)
	repo, err := provenance.Open(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	tree, err := repo.Tree(strings.ToUpper(r.old))
	if err != nil {
		t.Fatal(err)
	}
	if tree.Commit() != r.old {
		t.Errorf("Commit() = %s, want the lower-case %s", tree.Commit(), r.old)
	}
	data, err := tree.ReadFile("apps/a.yaml", 0)
	if err != nil || !strings.Contains(string(data), `v: "1"`) {
		t.Errorf("apps/a.yaml of the old commit: %q, %v", data, err)
	}
	if _, err := tree.ReadFile("gone.yaml", 0); err != nil {
		t.Errorf("gone.yaml, removed only by the head: %v", err)
	}
	want := []string{"apps/a.yaml:file", "apps/link.yaml:symlink", "apps/nested/b.yaml:file"}
	if got := walkAll(t, tree, "apps"); !slices.Equal(got, want) {
		t.Errorf("walk apps = %v, want %v", got, want)
	}
	if got := walkAll(t, tree, ""); !slices.Contains(got, "run.sh:executable") || slices.Contains(got, "apps/c.yaml:file") {
		t.Errorf("walk = %v, want run.sh executable and no apps/c.yaml", got)
	}
	tests := []struct {
		name string
		err  func() error
		want error
	}{
		{"missing file", func() error { _, err := tree.ReadFile("apps/c.yaml", 0); return err }, provenance.ErrNotExist},
		{"symlink", func() error { _, err := tree.ReadFile("apps/link.yaml", 0); return err }, provenance.ErrNotRegular},
		{"folder", func() error { _, err := tree.ReadFile("apps", 0); return err }, provenance.ErrNotRegular},
		{"too large", func() error { _, err := tree.ReadFile("apps/a.yaml", 10); return err }, provenance.ErrFileTooLarge},
		{"escaping path", func() error { _, err := tree.ReadFile("../etc/passwd", 0); return err }, provenance.ErrBadPath},
		{"absolute path", func() error { _, err := tree.ReadFile("/apps/a.yaml", 0); return err }, provenance.ErrBadPath},
		{"walk of a file", func() error { return tree.Walk("apps/a.yaml", func(provenance.File) error { return nil }) }, provenance.ErrNotExist},
		{"walk of a missing folder", func() error { return tree.Walk("nope", func(provenance.File) error { return nil }) }, provenance.ErrNotExist},
		{"walk of an unclean prefix", func() error { return tree.Walk("apps/../apps", func(provenance.File) error { return nil }) }, provenance.ErrBadPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.err(); !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
	stop := errors.New("stop")
	if err := tree.Walk("", func(provenance.File) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("walk returned %v, want fn's error", err)
	}
}

// TestCommitTreeRefusesUnknownCommits: only a full SHA of a commit the
// repository holds is accepted.
func TestCommitTreeRefusesUnknownCommits(t *testing.T) {
	r := newTreeRepo(t)
	repo, err := provenance.Open(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	blob := strings.TrimSpace(r.Run("rev-parse", r.head+":apps/a.yaml"))
	treeSHA := strings.TrimSpace(r.Run("rev-parse", r.head+"^{tree}"))
	tests := []struct {
		name, sha string
		unknown   bool // ErrUnknownCommit, an *InputError
	}{
		{"not held", strings.Repeat("ab", 20), true},
		{"abbreviated", r.head[:12], true},
		{"empty", "", true},
		{"not hex", strings.Repeat("zz", 20), true},
		{"a blob", blob, false},
		{"a tree", treeSHA, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree, err := repo.Tree(tt.sha)
			if err == nil {
				t.Fatalf("Tree(%q) = %v, want an error", tt.sha, tree)
			}
			if tt.unknown && (!errors.Is(err, provenance.ErrUnknownCommit) || !provenance.IsInputError(err)) {
				t.Errorf("error %v, want an input error wrapping ErrUnknownCommit", err)
			}
		})
	}
}

// TestOpenCached: after the remote is gone, the clone an earlier Fetch
// left in the cache still opens, and holds commits the branch has since
// been rewound past.
func TestOpenCached(t *testing.T) {
	r := newTreeRepo(t)
	cache := t.TempDir()
	url := "file://" + r.Dir
	opts := provenance.FetchOptions{URL: url, Branch: "main", CacheDir: cache, Timeout: time.Minute}
	if _, err := provenance.OpenCached(t.Context(), opts); !errors.Is(err, provenance.ErrRepository) {
		t.Errorf("OpenCached before any fetch: %v, want ErrRepository", err)
	}
	fetched, err := provenance.Fetch(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	_ = fetched.Close()
	r.Run("reset", "-q", "--hard", r.old)
	if fetched, err = provenance.Fetch(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	_ = fetched.Close()
	if err := os.RemoveAll(r.Dir); err != nil {
		t.Fatal(err)
	}
	if _, err := provenance.Fetch(t.Context(), opts); err == nil {
		t.Fatal("fetch from a removed repository succeeded")
	}

	repo, err := provenance.OpenCached(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	if head, err := repo.BranchHead("main"); err != nil || head != r.old {
		t.Errorf("cached branch head %s (%v), want the rewound %s", head, err, r.old)
	}
	tree, err := repo.Tree(r.head)
	if err != nil {
		t.Fatalf("the commit rewound past is gone from the clone: %v", err)
	}
	if data, err := tree.ReadFile("apps/c.yaml", 0); err != nil || !strings.Contains(string(data), "name: c") {
		t.Errorf("apps/c.yaml: %q, %v", data, err)
	}

	for _, bad := range []provenance.FetchOptions{
		{URL: "file:///no/such/clone", CacheDir: cache},
		{URL: url},
		{URL: "http://insecure.example.com/r.git", CacheDir: cache},
	} {
		if repo, err := provenance.OpenCached(t.Context(), bad); err == nil || !provenance.IsInputError(err) {
			t.Errorf("OpenCached(%+v) = %v, %v; want an input error", bad, repo, err)
		}
	}
}

// FuzzCommitTreePath: any path is answered with content or an error,
// never a panic, and only a clean path can be read.
func FuzzCommitTreePath(f *testing.F) {
	for _, s := range []string{"apps/a.yaml", "", ".", "..", "../x", "/apps", "apps//a.yaml", "apps/./a.yaml", "apps/", "apps/link.yaml", "a\x00b", "apps/nested"} {
		f.Add(s)
	}
	r := newTreeRepo(f)
	repo, err := provenance.Open(r.Dir)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = repo.Close() })
	tree, err := repo.Tree(r.head)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if _, err := tree.ReadFile(p, 1<<10); err == nil {
			if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "..") || path.Clean(p) != p {
				t.Errorf("ReadFile(%q) succeeded", p)
			}
		}
		_ = tree.Walk(p, func(provenance.File) error { return nil })
	})
}
