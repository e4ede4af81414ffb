package render_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gitgate.dev/gitgate/provenance"
	"gitgate.dev/gitgate/provenance/gittest"
	"gitgate.dev/gitgate/provenance/index"
	vt "gitgate.dev/gitgate/provenance/internal/verifytest"
	"gitgate.dev/gitgate/provenance/render"
)

// signedRepo is a repository whose trust root authorizes alice for every
// path, with a good commit by alice holding a plain folder and a kustomize
// base with an overlay.
type signedRepo struct {
	repo  *gittest.Repo
	alice *gittest.Signer
	root  string
	good  string
}

func newSignedRepo(t *testing.T) *signedRepo {
	t.Helper()
	s := &signedRepo{repo: gittest.NewRepo(t), alice: gittest.NewSSHSigner(t, "alice")}
	r := s.repo
	r.WriteFile(".gitgate/trust.yaml", vt.NewPolicy().Signer("alice", s.alice).Rules(
		vt.Rule{Paths: []string{"**"}, Signers: []string{"alice"}},
	))
	s.root = r.Commit("trust root", nil)
	r.WriteFile("apps/web/namespace.yaml", inWeb(nsDemo))
	r.WriteFile("apps/web/web.yaml", inWeb(deploy)+"---\n"+inWeb(cmWeb))
	r.WriteFile("apps/README.md", "the demo apps\n")
	for p, c := range baseAndOverlay() {
		r.WriteFile(p, c)
	}
	s.good = r.Commit("alice: apps and prod overlay", s.alice)
	return s
}

// branch commits changes (files to write; an empty content removes the
// path) on a new branch from the good commit, signed by alice, and
// returns the branch name.
func (s *signedRepo) branch(t *testing.T, name string, files map[string]string, prepare func(dir string)) string {
	t.Helper()
	s.repo.Checkout(s.good)
	s.repo.CheckoutNew(name)
	for p, c := range files {
		if c == "" {
			s.repo.Remove(p)
			continue
		}
		s.repo.WriteFile(p, c)
	}
	if prepare != nil {
		prepare(s.repo.Dir)
	}
	s.repo.Commit(name, s.alice)
	s.repo.Checkout("main")
	return name
}

// verified verifies branch and fails the test unless its head is a
// verified commit.
func (s *signedRepo) verified(t *testing.T, branch string) *provenance.Snapshot {
	t.Helper()
	repo, err := provenance.Open(s.repo.Dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = repo.Close() })
	snap, err := provenance.NewVerifier(provenance.Options{}).Verify(t.Context(), repo, provenance.Request{
		Source: "demo", Branch: branch, TrustRoot: s.root,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !snap.Verified {
		t.Fatalf("%s not verified: %+v", branch, snap.Failures())
	}
	return snap
}

// inWeb moves a manifest from namespace demo to namespace web.
func inWeb(manifest string) string { return strings.ReplaceAll(manifest, "demo", "web") }

func TestRenderSignedRepository(t *testing.T) {
	s := newSignedRepo(t)
	snap := s.verified(t, "main")
	objs, err := render.Render(t.Context(), snap, []string{"apps", "clusters/prod"}, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := describe(objs)
	want := []string{
		"apps/web/namespace.yaml#1 Namespace web",
		"apps/web/web.yaml#1 Deployment.apps web/web",
		"apps/web/web.yaml#2 ConfigMap web/web",
		"clusters/prod/kustomization.yaml#0 Deployment.apps demo/prod-web",
		"clusters/prod/kustomization.yaml#0 Namespace demo",
	}
	if len(got) != 6 || !slices.Equal(got[:5], want) || !strings.HasPrefix(got[5], "clusters/prod/kustomization.yaml#0 ConfigMap demo/prod-settings-") {
		t.Fatalf("got %q", got)
	}

	// Build the Index as the reconciler will, and look objects up.
	var signers []string
	for _, sg := range snap.HeadSigners() {
		signers = append(signers, sg.Name)
	}
	b := index.NewBuilder()
	for _, o := range objs {
		if _, err := b.Add(o.Object, index.Origin{Source: snap.Source, Commit: snap.Head, Path: o.Path, Signers: signers}); err != nil {
			t.Fatal(err)
		}
	}
	store := index.NewStore()
	if err := store.Publish("demo", b.Build()); err != nil {
		t.Fatal(err)
	}
	e, ok := store.Current().Lookup(index.Key{Group: "apps", Kind: "Deployment", Namespace: "demo", Name: "prod-web"})
	if !ok {
		t.Fatalf("prod-web not in the index")
	}
	if e.Origin.Path != "clusters/prod/kustomization.yaml" || e.Origin.Commit != s.good || !slices.Equal(e.Origin.Signers, []string{"alice"}) {
		t.Errorf("origin = %+v", e.Origin)
	}
	if r, _, _ := unstructured.NestedInt64(e.Object.Object, "spec", "replicas"); r != 5 {
		t.Errorf("overlay replicas = %d, want 5", r)
	}
}

// TestRenderSignedRepositoryAttacks commits each attack, signed by a
// trusted key (signatures do not make content safe), and renders it.
func TestRenderSignedRepositoryAttacks(t *testing.T) {
	s := newSignedRepo(t)
	tests := []struct {
		name    string
		files   map[string]string
		prepare func(dir string)
		paths   []string
		target  error
		path    string
		want    []string
	}{
		{
			name:   "invalid YAML",
			files:  map[string]string{"apps/web/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [x\n"},
			target: render.ErrSyntax, path: "apps/web/broken.yaml",
		},
		{
			name:   "alias bomb",
			files:  map[string]string{"apps/web/lol.yaml": billionLaughs()},
			target: render.ErrLimit, path: "apps/web/lol.yaml", want: []string{"aliases"},
		},
		{
			name: "a 100 MB file",
			prepare: func(dir string) {
				// A sparse file: 100 MB of zeros that take no disk space
				// and compress to almost nothing in Git.
				f, err := os.Create(filepath.Join(dir, "apps", "web", "huge.yaml"))
				if err != nil {
					t.Fatal(err)
				}
				if err := f.Truncate(100 << 20); err != nil {
					t.Fatal(err)
				}
				if err := f.Close(); err != nil {
					t.Fatal(err)
				}
			},
			target: render.ErrLimit, path: "apps/web/huge.yaml", want: []string{"larger than"},
		},
		{
			name: "a symlink to /etc/passwd",
			prepare: func(dir string) {
				if err := os.Symlink("/etc/passwd", filepath.Join(dir, "apps", "web", "passwd.yaml")); err != nil {
					t.Fatal(err)
				}
			},
			target: render.ErrNotRegular, path: "apps/web/passwd.yaml", want: []string{"symlink"},
		},
		{
			name: "a kustomization reaching outside the repository",
			files: map[string]string{
				"clusters/prod/kustomization.yaml": "resources:\n- ../../../../etc\n",
			},
			paths:  []string{"clusters/prod"},
			target: render.ErrUnsafePath, path: "clusters/prod/kustomization.yaml", want: []string{"../../../../etc"},
		},
		{
			name: "a kustomization with a remote resource",
			files: map[string]string{
				"clusters/prod/kustomization.yaml": "resources:\n- ../../base\n- https://example.com/evil.yaml\n",
			},
			paths:  []string{"clusters/prod"},
			target: render.ErrDisabled, path: "clusters/prod/kustomization.yaml", want: []string{"https://example.com/evil.yaml"},
		},
		{
			name:   "missing kind",
			files:  map[string]string{"apps/web/nokind.yaml": "apiVersion: v1\nmetadata: {name: x, namespace: web}\n"},
			target: render.ErrInvalidObject, path: "apps/web/nokind.yaml", want: []string{"kind is missing"},
		},
		{
			name:   "duplicate objects",
			files:  map[string]string{"apps/web/zz-again.yaml": inWeb(cmWeb)},
			target: render.ErrDuplicate, path: "apps/web/zz-again.yaml", want: []string{"ConfigMap web/web", "apps/web/web.yaml (document 2)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			branch := s.branch(t, branchName(tt.name), tt.files, tt.prepare)
			snap := s.verified(t, branch)
			paths := tt.paths
			if paths == nil {
				paths = []string{"apps"}
			}
			objs, err := render.Render(t.Context(), snap, paths, render.Options{})
			if objs != nil {
				t.Errorf("objects returned with an error: %v", describe(objs))
			}
			wantError(t, err, tt.target, tt.path, 0, tt.want...)
		})
	}
}

// branchName turns a test name into a branch name.
func branchName(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(name))
}
