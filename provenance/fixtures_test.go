package provenance_test

import (
	"strings"
	"testing"

	"gitgate.dev/gitgate/provenance"
)

// verify runs one verification with a fresh Verifier.
func verify(t *testing.T, dir, branch, root string, mode provenance.Mode, ledger provenance.Ledger) *provenance.Snapshot {
	t.Helper()
	repo, err := provenance.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = repo.Close() })
	snap, err := provenance.NewVerifier(provenance.Options{}).Verify(t.Context(), repo, provenance.Request{
		Source: dir + "#" + branch, Branch: branch, TrustRoot: root, Mode: mode, Ledger: ledger,
	})
	if err != nil {
		t.Fatalf("Verify(%s, %s): %v", branch, mode, err)
	}
	return snap
}

// wantVerified fails the test unless the snapshot is verified.
func wantVerified(t *testing.T, snap *provenance.Snapshot) {
	t.Helper()
	if !snap.Verified {
		t.Fatalf("head %s not verified: %+v", snap.Head[:12], snap.Failures())
	}
}

// wantFailure fails the test unless the snapshot is refused and commit sha
// (any, if empty) fails with a reason containing want.
func wantFailure(t *testing.T, snap *provenance.Snapshot, sha, want string) {
	t.Helper()
	if snap.Verified {
		t.Fatalf("head %s verified, want a failure %q", snap.Head[:12], want)
	}
	for _, c := range snap.Failures() {
		if (sha == "" || c.SHA == sha) && strings.Contains(c.Reason, want) {
			return
		}
	}
	t.Fatalf("no failure of %s mentions %q; failures: %+v", sha, want, snap.Failures())
}
