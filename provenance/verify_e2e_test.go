package provenance_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gitgate.dev/gitgate/provenance"
	"gitgate.dev/gitgate/provenance/gittest"
	vt "gitgate.dev/gitgate/provenance/internal/verifytest"
	"gitgate.dev/gitgate/provenance/signature"
)

// history is one repository shared by the subtests of TestVerifyHistory:
// a main branch signed in all three formats, and a branch per attack.
type history struct {
	repo                *gittest.Repo
	alice, bob, mallory *gittest.Signer
	carol               *gittest.Signer
	root                string
	c1, c2, c3          string // alice (ssh), bob (openpgp), carol (x509)
	feature1            string // bob's commit on clusters/prod, merged by alice on merge-ok
}

const issuer = "https://issuer.example.com"

func newHistory(t *testing.T) *history {
	t.Helper()
	h := &history{repo: gittest.NewRepo(t)}
	r := h.repo
	h.alice = gittest.NewSSHSigner(t, "alice")
	h.mallory = gittest.NewSSHSigner(t, "mallory")
	h.bob = gittest.NewGPGSigner(t, "Bob", "bob@example.com")
	ca := gittest.NewX509CA(t)
	h.carol = ca.NewGPGSMSigner(t, "carol@example.com", gittest.X509Options{Issuer: issuer})

	pol := vt.NewPolicy().
		Signer("alice", h.alice).
		Signer("bob", h.bob).
		X509("carol", ca.RootPEM(), "carol@example.com", issuer).
		Group("maintainers", "alice", "bob", "carol")
	r.WriteFile(".gitgate/trust.yaml", pol.Rules(
		vt.Rule{Paths: []string{".gitgate/**"}, Signers: []string{"alice", "bob"}},
		vt.Rule{Paths: []string{"clusters/prod/**"}, Signers: []string{"maintainers"}, Approvals: 2},
		vt.Rule{Paths: []string{"apps/**", "README.md"}, Signers: []string{"maintainers"}},
	))
	r.WriteFile("apps/a.yaml", "a: 0\n")
	r.WriteFile("README.md", "demo\n")
	h.root = r.Commit("root: trust policy", nil)

	r.WriteFile("apps/a.yaml", "a: 1\n")
	h.c1 = r.Commit("alice: a", h.alice)
	r.WriteFile("apps/b.yaml", "b: 1\n")
	h.c2 = r.Commit("bob: b", h.bob)
	r.WriteFile("apps/c.yaml", "c: 1\n")
	h.c3 = r.Commit("carol: c", h.carol)

	// Policy rotation: bob signs, alice removes bob, bob signs again.
	r.CheckoutNew("rotate")
	r.WriteFile("apps/d.yaml", "d: 1\n")
	r.Commit("bob: d", h.bob)
	withoutBob := vt.NewPolicy().
		Signer("alice", h.alice).
		X509("carol", ca.RootPEM(), "carol@example.com", issuer).
		Group("maintainers", "alice", "carol").
		Rules(
			vt.Rule{Paths: []string{".gitgate/**"}, Signers: []string{"alice"}},
			vt.Rule{Paths: []string{"clusters/prod/**"}, Signers: []string{"maintainers"}, Approvals: 2},
			vt.Rule{Paths: []string{"apps/**", "README.md"}, Signers: []string{"maintainers"}},
		)
	r.WriteFile(".gitgate/trust.yaml", withoutBob)
	r.Commit("alice: remove bob", h.alice)
	r.WriteFile("apps/e.yaml", "e: 1\n")
	r.Commit("bob: e after removal", h.bob)

	// Feature branches and merges.
	r.Checkout(h.c3)
	r.CheckoutNew("feature1")
	r.WriteFile("clusters/prod/app.yaml", "replicas: 3\n")
	h.feature1 = r.Commit("bob: prod", h.bob)
	r.Checkout(h.c3)
	r.CheckoutNew("feature2")
	r.WriteFile("clusters/prod/app.yaml", "replicas: 5\n")
	r.Commit("alice: prod", h.alice)
	r.Checkout(h.c3)
	r.CheckoutNew("feature3")
	r.WriteFile("apps/f.yaml", "f: 1\n")
	r.Commit("unsigned side commit", nil)

	r.Checkout(h.c3)
	r.CheckoutNew("merge-ok")
	r.Merge("feature1", "alice merges bob's prod change", h.alice)
	r.Checkout(h.c3)
	r.CheckoutNew("merge-self")
	r.Merge("feature2", "alice merges her own prod change", h.alice)
	r.Checkout(h.c3)
	r.CheckoutNew("merge-unsigned")
	r.Merge("feature1", "unsigned merge", nil)
	r.Checkout(h.c3)
	r.CheckoutNew("merge-unsigned-side")
	r.Merge("feature3", "alice merges an unsigned commit", h.alice)
	r.Checkout("main")
	return h
}

// branchAt points a new branch at sha.
func (h *history) branchAt(name, sha string) { h.repo.SetRef("refs/heads/"+name, sha) }

// commitOn makes a commit on a new branch from base and returns its SHA.
func (h *history) commitOn(branch, base string, files map[string]string, signer *gittest.Signer) string {
	h.repo.Checkout(base)
	h.repo.CheckoutNew(branch)
	for p, c := range files {
		h.repo.WriteFile(p, c)
	}
	sha := h.repo.Commit(branch, signer)
	h.repo.Checkout("main")
	return sha
}

func TestVerifyHistory(t *testing.T) {
	h := newHistory(t)
	dir := h.repo.Dir
	full, head := provenance.ModeFull, provenance.ModeHead

	t.Run("each format valid", func(t *testing.T) {
		snap := verify(t, dir, "main", h.root, full, nil)
		wantVerified(t, snap)
		if got := len(snap.Commits); got != 3 {
			t.Fatalf("%d commits checked, want 3", got)
		}
		want := []provenance.Signer{{Name: "alice", Format: signature.SSH}, {Name: "bob", Format: signature.OpenPGP}, {Name: "carol", Format: signature.X509}}
		if got := snap.Signers(); !slices.Equal(got, want) {
			t.Errorf("signers = %+v, want %+v", got, want)
		}
		if snap.Commits[0].SHA != h.c3 || snap.Head != h.c3 {
			t.Errorf("commits not newest first: %+v", snap.Commits)
		}
		wantVerified(t, verify(t, dir, "main", h.root, head, nil))
	})

	t.Run("key not in policy", func(t *testing.T) {
		sha := h.commitOn("untrusted", h.c3, map[string]string{"apps/m.yaml": "m"}, h.mallory)
		wantFailure(t, verify(t, dir, "untrusted", h.root, full, nil), sha, "no trusted key")
	})

	t.Run("unsigned commit mid-history", func(t *testing.T) {
		u := h.commitOn("unsigned-mid", h.c3, map[string]string{"apps/u.yaml": "u"}, nil)
		h.repo.Checkout("unsigned-mid")
		h.repo.WriteFile("apps/v.yaml", "v")
		h.repo.Commit("alice on top", h.alice)
		h.repo.Checkout("main")
		snap := verify(t, dir, "unsigned-mid", h.root, full, nil)
		wantFailure(t, snap, u, "not signed")
		if n := len(snap.Failures()); n != 1 {
			t.Errorf("%d failures, want only the unsigned commit: %+v", n, snap.Failures())
		}
		wantVerified(t, verify(t, dir, "unsigned-mid", h.root, head, nil))
	})

	t.Run("another commit's signature", func(t *testing.T) {
		c1Sig := sigOf(t, h.repo.CatCommit(h.c1))
		forged := h.repo.HashObject(vt.Resign(h.repo.CatCommit(h.c3), c1Sig))
		h.branchAt("stolen-sig", forged)
		wantFailure(t, verify(t, dir, "stolen-sig", h.root, full, nil), forged, "invalid signature")

		// The same signature over an edited message.
		tampered := bytes.Replace(h.repo.CatCommit(h.c1), []byte("alice: a"), []byte("alice: A"), 1)
		sha := h.repo.HashObject(tampered)
		h.branchAt("tampered", sha)
		wantFailure(t, verify(t, dir, "tampered", h.root, full, nil), sha, "invalid signature")
	})

	t.Run("malformed objects", func(t *testing.T) {
		raw := h.repo.CatCommit(h.c1)
		sig := sigOf(t, raw)
		other := h.alice.Sign(vt.StripSig(h.repo.CatCommit(h.c3)))
		tests := []struct {
			name string
			raw  []byte
		}{
			{"duplicate author", bytes.Replace(raw, []byte("\nauthor "), []byte("\nauthor alice <a@example.com> 1 +0000\nauthor "), 1)},
			{"duplicate tree", bytes.Replace(raw, []byte("tree "), []byte("tree "+strings.Repeat("0", 40)+"\ntree "), 1)},
			{"two signature blocks", vt.Resign(raw, append(append([]byte{}, sig...), other...))},
			{"two signature headers", twoSigHeaders(raw, other)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				sha := h.repo.HashObject(tt.raw)
				branch := "malformed-" + strings.ReplaceAll(tt.name, " ", "-")
				h.branchAt(branch, sha)
				wantFailure(t, verify(t, dir, branch, h.root, full, nil), sha, "malformed")
			})
		}
	})

	t.Run("ssh namespace other than git", func(t *testing.T) {
		unsigned := h.repo.Run("commit-tree", h.c3+"^{tree}", "-p", h.c3, "-m", "empty, file namespace")
		payload := h.repo.CatCommit(unsigned)
		sha := h.repo.HashObject(vt.Resign(payload, h.alice.SignSSHNamespace(payload, "file")))
		h.branchAt("namespace", sha)
		wantFailure(t, verify(t, dir, "namespace", h.root, full, nil), sha, "namespace")
		// The same payload signed in namespace git passes: the test above
		// failed for the namespace alone.
		good := h.repo.HashObject(vt.Resign(payload, h.alice.SignSSHNamespace(payload, "git")))
		h.branchAt("namespace-git", good)
		wantVerified(t, verify(t, dir, "namespace-git", h.root, full, nil))
	})

	t.Run("key removed in commit K", func(t *testing.T) {
		snap := verify(t, dir, "rotate", h.root, full, nil)
		failures := snap.Failures()
		if len(failures) != 1 || failures[0].SHA != h.repo.RevParse("rotate") {
			t.Fatalf("failures = %+v, want only bob's commit after the removal", failures)
		}
		wantFailure(t, snap, "", "no trusted key")
		// Up to K, bob's earlier commit stays valid.
		h.branchAt("rotate-k", h.repo.RevParse("rotate~1"))
		wantVerified(t, verify(t, dir, "rotate-k", h.root, full, nil))
	})

	t.Run("policy change by unauthorized signer", func(t *testing.T) {
		policy := h.repo.Run("show", h.c3+":.gitgate/trust.yaml") + "\n"
		sha := h.commitOn("policy-by-carol", h.c3, map[string]string{".gitgate/trust.yaml": policy + "# carol was here\n"}, h.carol)
		wantFailure(t, verify(t, dir, "policy-by-carol", h.root, full, nil), sha, "signer carol may not change .gitgate/trust.yaml")
	})

	t.Run("path no rule matches", func(t *testing.T) {
		sha := h.commitOn("no-rule", h.c3, map[string]string{"other/x.yaml": "x"}, h.alice)
		wantFailure(t, verify(t, dir, "no-rule", h.root, full, nil), sha, "path other/x.yaml matches no rule")
	})

	t.Run("direct commit to approvals-2 path", func(t *testing.T) {
		sha := h.commitOn("direct-prod", h.c3, map[string]string{"clusters/prod/app.yaml": "replicas: 9\n"}, h.alice)
		wantFailure(t, verify(t, dir, "direct-prod", h.root, full, nil), sha, "clusters/prod/app.yaml needs 2 approvals")
	})

	t.Run("merge approvals", func(t *testing.T) {
		snap := verify(t, dir, "merge-ok", h.root, full, nil)
		wantVerified(t, snap)
		want := []provenance.Signer{{Name: "alice", Format: signature.SSH}, {Name: "bob", Format: signature.OpenPGP}}
		if got := snap.HeadSigners(); !slices.Equal(got, want) {
			t.Errorf("merge signers = %+v, want %+v", got, want)
		}
		wantFailure(t, verify(t, dir, "merge-self", h.root, full, nil), h.repo.RevParse("merge-self"), "brings 1 (alice)")
		wantFailure(t, verify(t, dir, "merge-unsigned", h.root, full, nil), h.repo.RevParse("merge-unsigned"), "not signed")
		wantFailure(t, verify(t, dir, "merge-unsigned-side", h.root, full, nil), h.repo.RevParse("merge-unsigned-side"),
			"merged commit "+h.repo.RevParse("feature3")[:12]+": commit is not signed")
		// Head mode judges the merge the same way.
		wantFailure(t, verify(t, dir, "merge-self", h.root, head, nil), "", "needs 2 approvals")
	})

	t.Run("commit only on a feature branch", func(t *testing.T) {
		snap := verify(t, dir, "main", h.root, full, nil)
		wantVerified(t, snap)
		merged, err := snap.Merged(t.Context(), h.feature1)
		if err != nil || merged {
			t.Errorf("feature commit merged into main = %v, %v; want false", merged, err)
		}
		snap = verify(t, dir, "merge-ok", h.root, full, nil)
		if merged, err := snap.Merged(t.Context(), h.feature1); err != nil || !merged {
			t.Errorf("feature commit merged into merge-ok = %v, %v; want true", merged, err)
		}
		if _, err := snap.Merged(t.Context(), strings.Repeat("ab", 20)); !provenance.IsInputError(err) {
			t.Errorf("unknown commit: %v, want an input error", err)
		}
	})

	t.Run("trust root not an ancestor", func(t *testing.T) {
		wantFailure(t, verify(t, dir, "main", h.feature1, full, nil), h.c3, "is not an ancestor of head")
		wantFailure(t, verify(t, dir, "merge-ok", h.feature1, full, nil), "", "not on its first-parent chain")
		wantFailure(t, verify(t, dir, "main", h.feature1, head, nil), h.c3, "is not an ancestor of head")
	})

	t.Run("input errors", func(t *testing.T) {
		repo, err := provenance.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer repo.Close()
		v := provenance.NewVerifier(provenance.Options{})
		tests := []struct {
			name string
			req  provenance.Request
			want error
		}{
			{"malformed trust root", provenance.Request{Branch: "main", TrustRoot: "abc123"}, provenance.ErrUnknownCommit},
			{"unknown trust root", provenance.Request{Branch: "main", TrustRoot: strings.Repeat("0", 39) + "1"}, provenance.ErrUnknownCommit},
			{"unknown branch", provenance.Request{Branch: "nope", TrustRoot: h.root}, provenance.ErrUnknownBranch},
			{"bad branch name", provenance.Request{Branch: "a..b", TrustRoot: h.root}, provenance.ErrUnknownBranch},
			{"bad mode", provenance.Request{Branch: "main", TrustRoot: h.root, Mode: "most"}, provenance.ErrUnknownMode},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := v.Verify(t.Context(), repo, tt.req)
				if !errors.Is(err, tt.want) || !provenance.IsInputError(err) {
					t.Errorf("Verify = %v, want input error %v", err, tt.want)
				}
			})
		}
		if _, err := provenance.Open(t.TempDir()); !errors.Is(err, provenance.ErrRepository) {
			t.Errorf("Open(empty folder) = %v, want ErrRepository", err)
		}
	})

	t.Run("rewind caught by the ledger", func(t *testing.T) {
		ledger := provenance.NewFileLedger(filepath.Join(t.TempDir(), "state.json"))
		req := func(branch string) provenance.Request {
			return provenance.Request{Source: "src", Branch: branch, TrustRoot: h.root, Ledger: ledger}
		}
		repo, err := provenance.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer repo.Close()
		snap, err := provenance.NewVerifier(provenance.Options{}).Verify(t.Context(), repo, req("main"))
		if err != nil {
			t.Fatal(err)
		}
		wantVerified(t, snap)
		h.branchAt("rewound", h.c1) // an older, validly signed commit
		snap, err = provenance.NewVerifier(provenance.Options{}).Verify(t.Context(), repo, req("rewound"))
		if err != nil {
			t.Fatal(err)
		}
		wantFailure(t, snap, h.c1, "was rewound")
		if cp, _ := ledger.LastVerified(t.Context(), "src"); cp.Commit != h.c3 {
			t.Errorf("ledger moved to %s after a refused rewind", cp.Commit)
		}
	})

	t.Run("incremental", func(t *testing.T) {
		next := h.commitOn("next", h.c3, map[string]string{"apps/n.yaml": "n"}, h.alice)
		ledger := &provenance.MemoryLedger{}
		repo, err := provenance.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer repo.Close()
		first, err := provenance.NewVerifier(provenance.Options{}).Verify(t.Context(), repo,
			provenance.Request{Source: "s", Branch: "main", TrustRoot: h.root, Ledger: ledger})
		if err != nil || !first.Verified || len(first.Commits) != 3 {
			t.Fatalf("first verification: %v %+v", err, first)
		}
		// A fresh verifier with the ledger checks only the new commit.
		snap, err := provenance.NewVerifier(provenance.Options{}).Verify(t.Context(), repo,
			provenance.Request{Source: "s", Branch: "next", TrustRoot: h.root, Ledger: ledger})
		if err != nil {
			t.Fatal(err)
		}
		wantVerified(t, snap)
		if len(snap.Commits) != 1 || snap.Commits[0].SHA != next {
			t.Errorf("checked %+v, want only %s", snap.Commits, next)
		}
		// Same head again: only the head is re-judged.
		snap, err = provenance.NewVerifier(provenance.Options{}).Verify(t.Context(), repo,
			provenance.Request{Source: "s", Branch: "next", TrustRoot: h.root, Ledger: ledger})
		if err != nil || !snap.Verified || len(snap.Commits) != 1 {
			t.Errorf("same head: %v %+v", err, snap)
		}
		// A warm Verifier needs no ledger to check only what is new, as a
		// reconciler keeping one Verifier per source does.
		warm := provenance.NewVerifier(provenance.Options{})
		if snap, err := warm.Verify(t.Context(), repo, provenance.Request{Branch: "main", TrustRoot: h.root}); err != nil || len(snap.Commits) != 3 {
			t.Fatalf("warm first: %v %+v", err, snap)
		}
		snap, err = warm.Verify(t.Context(), repo, provenance.Request{Branch: "next", TrustRoot: h.root})
		if err != nil || !snap.Verified || len(snap.Commits) != 1 || snap.Commits[0].SHA != next {
			t.Errorf("warm verifier: %v %+v, want only %s checked", err, snap, next)
		}
		// A cancelled context ends the verification with its error.
		cancelled, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := provenance.NewVerifier(provenance.Options{}).Verify(cancelled, repo, provenance.Request{Branch: "main", TrustRoot: h.root}); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled context: %v", err)
		}
		// A head verified in head mode does not let a full verification skip
		// the commits below it.
		h.commitOn("inc-unsigned", h.c3, map[string]string{"apps/i.yaml": "i"}, nil)
		h.repo.Checkout("inc-unsigned")
		h.repo.WriteFile("apps/j.yaml", "j")
		h.repo.Commit("alice on an unsigned commit", h.alice)
		h.repo.Checkout("main")
		hl := &provenance.MemoryLedger{}
		v := provenance.NewVerifier(provenance.Options{})
		if snap, err := v.Verify(t.Context(), repo, provenance.Request{Source: "s", Branch: "inc-unsigned", TrustRoot: h.root, Mode: head, Ledger: hl}); err != nil || !snap.Verified {
			t.Fatalf("head mode: %v %+v", err, snap)
		}
		snap, err = v.Verify(t.Context(), repo, provenance.Request{Source: "s", Branch: "inc-unsigned", TrustRoot: h.root, Mode: full, Ledger: hl})
		if err != nil {
			t.Fatal(err)
		}
		wantFailure(t, snap, "", "not signed")
	})

	t.Run("snapshot files", func(t *testing.T) {
		snap := verify(t, dir, "main", h.root, full, nil)
		data, err := snap.ReadFile("apps/a.yaml", 0)
		if err != nil || string(data) != "a: 1\n" {
			t.Errorf("ReadFile = %q, %v", data, err)
		}
		if _, err := snap.ReadFile("apps/a.yaml", 3); !errors.Is(err, provenance.ErrFileTooLarge) {
			t.Errorf("ReadFile over the limit: %v", err)
		}
		for _, p := range []string{"../etc/passwd", "/apps/a.yaml", "apps/../README.md", "apps//a.yaml", ""} {
			if _, err := snap.ReadFile(p, 0); !errors.Is(err, provenance.ErrBadPath) {
				t.Errorf("ReadFile(%q) = %v, want ErrBadPath", p, err)
			}
		}
		if _, err := snap.ReadFile("apps/zzz.yaml", 0); !errors.Is(err, provenance.ErrNotExist) {
			t.Errorf("missing file: %v", err)
		}
		if _, err := snap.ReadFile("apps", 0); !errors.Is(err, provenance.ErrNotRegular) {
			t.Errorf("folder: %v", err)
		}
		var files []string
		if err := snap.Walk("apps", func(f provenance.File) error { files = append(files, f.Path); return nil }); err != nil {
			t.Fatal(err)
		}
		if want := []string{"apps/a.yaml", "apps/b.yaml", "apps/c.yaml"}; !slices.Equal(files, want) {
			t.Errorf("Walk = %q, want %q", files, want)
		}
		failed := verify(t, dir, "untrusted", h.root, full, nil)
		if _, err := failed.ReadFile("apps/a.yaml", 0); !errors.Is(err, provenance.ErrNotVerified) {
			t.Errorf("ReadFile on a refused snapshot: %v", err)
		}
	})
}

// sigOf extracts the armored signature of a raw commit.
func sigOf(t *testing.T, raw []byte) []byte {
	t.Helper()
	c, err := signature.ParseCommit(raw)
	if err != nil || c.Signature == nil {
		t.Fatalf("no signature in commit: %v", err)
	}
	return append(c.Signature, '\n')
}

// twoSigHeaders adds a second gpgsig header after the first one.
func twoSigHeaders(raw, sig []byte) []byte {
	headers, msg, _ := bytes.Cut(raw, []byte("\n\n"))
	lines := strings.Split(strings.TrimRight(string(sig), "\n"), "\n")
	extra := "gpgsig " + strings.Join(lines, "\n ")
	return append(append(append(headers, '\n'), extra...), append([]byte("\n\n"), msg...)...)
}

func TestVerifyShallow(t *testing.T) {
	r := gittest.NewRepo(t)
	alice := gittest.NewSSHSigner(t, "alice")
	r.WriteFile(".gitgate/trust.yaml", vt.NewPolicy().Signer("alice", alice).Rules(vt.Rule{Paths: []string{"**"}, Signers: []string{"alice"}}))
	root := r.Commit("root", nil)
	r.WriteFile("a", "1")
	r.Commit("a", alice)
	r.WriteFile("a", "2")
	head := r.Commit("b", alice)
	clone := filepath.Join(t.TempDir(), "shallow")
	r.Run("clone", "-q", "--depth", "1", "--branch", "main", "file://"+r.Dir, clone)

	repo, err := provenance.Open(clone)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	if !repo.Shallow() {
		t.Fatal("clone --depth 1 not seen as shallow")
	}
	v := provenance.NewVerifier(provenance.Options{})
	_, err = v.Verify(t.Context(), repo, provenance.Request{Branch: "main", TrustRoot: head, Mode: provenance.ModeFull})
	if !errors.Is(err, provenance.ErrShallow) {
		t.Errorf("full mode on a shallow clone: %v, want ErrShallow", err)
	}
	// Head mode works within the shallow history (here the head is the
	// trust root) and fails clearly beyond it.
	snap, err := v.Verify(t.Context(), repo, provenance.Request{Branch: "main", TrustRoot: head, Mode: provenance.ModeHead})
	if err != nil || !snap.Verified {
		t.Errorf("head mode at the trust root: %v %+v", err, snap)
	}
	_ = root
}

func TestVerifyX509(t *testing.T) {
	r := gittest.NewRepo(t)
	ca := gittest.NewX509CA(t)
	other := gittest.NewX509CA(t)
	carol := ca.NewGPGSMSigner(t, "carol@example.com", gittest.X509Options{Issuer: issuer})
	past := time.Now().AddDate(0, -2, 0)
	dave := ca.NewGPGSMSigner(t, "dave@example.com", gittest.X509Options{Issuer: issuer, NotBefore: past, NotAfter: past.AddDate(0, 0, 7)})
	tests := []struct {
		name     string
		signer   *gittest.Signer
		roots    string
		identity string
		issuer   string
		want     string // "" = verified
	}{
		{"valid", carol, ca.RootPEM(), "carol@example.com", issuer, ""},
		{"valid without issuer", carol, ca.RootPEM(), "carol@example.com", "", ""},
		{"wrong identity", carol, ca.RootPEM(), "dave@example.com", issuer, "no trusted key"},
		{"wrong issuer", carol, ca.RootPEM(), "carol@example.com", "https://other.example.com", "no trusted key"},
		{"unknown root", carol, other.RootPEM(), "carol@example.com", issuer, "no trusted key"},
		{"expired certificate", dave, ca.RootPEM(), "dave@example.com", issuer, "invalid signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			branch := strings.ReplaceAll(tt.name, " ", "-")
			r.Run("checkout", "-q", "--orphan", branch)
			r.Run("rm", "-rfq", "--ignore-unmatch", ".")
			r.WriteFile(".gitgate/trust.yaml", vt.NewPolicy().X509("signer", tt.roots, tt.identity, tt.issuer).
				Rules(vt.Rule{Paths: []string{"**"}, Signers: []string{"signer"}}))
			root := r.Commit("root", nil)
			r.WriteFile("app.yaml", "x: 1\n")
			sha := r.Commit("x509 commit", tt.signer)
			snap := verify(t, r.Dir, branch, root, provenance.ModeFull, nil)
			if tt.want == "" {
				wantVerified(t, snap)
				if got := snap.HeadSigners(); len(got) != 1 || got[0].Format != signature.X509 {
					t.Errorf("signers = %+v", got)
				}
				return
			}
			wantFailure(t, snap, sha, tt.want)
		})
	}
}
