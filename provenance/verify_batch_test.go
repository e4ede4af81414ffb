package provenance_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gitgate.dev/gitgate/provenance"
	"gitgate.dev/gitgate/provenance/internal/benchrepo"
)

// TestVerifyBatchedSignatures verifies a history longer than one batch of
// signature equations, with well-formed signatures by trusted keys that do
// not match their commits: first in the history, first of a batch, inside
// one, and at the head. Exactly those commits fail, with the reason a
// signature checked on its own gives, however the commits are spread over
// workers; their neighbours in the same batches stay verified.
func TestVerifyBatchedSignatures(t *testing.T) {
	t.Parallel()
	const commits = 300
	forged := []int{1, 129, 200, commits} // commit numbers, 1 = oldest
	for _, format := range []benchrepo.Format{benchrepo.SSH, benchrepo.OpenPGP} {
		t.Run(string(format), func(t *testing.T) {
			t.Parallel()
			r, err := benchrepo.Generate(t.Context(), benchrepo.Options{
				Dir: filepath.Join(t.TempDir(), "repo.git"), Commits: commits, Format: format, Forge: forged,
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, workers := range []int{1, 2, 3} {
				repo, err := provenance.Open(r.Dir)
				if err != nil {
					t.Fatal(err)
				}
				snap, err := provenance.NewVerifier(provenance.Options{Parallelism: workers}).Verify(t.Context(), repo,
					provenance.Request{Branch: "main", TrustRoot: r.TrustRoot})
				_ = repo.Close()
				if err != nil {
					t.Fatal(err)
				}
				if snap.Verified || len(snap.Commits) != commits {
					t.Fatalf("%d workers: verified %v with %d commits", workers, snap.Verified, len(snap.Commits))
				}
				for i, c := range snap.Commits { // head first
					n := commits - i
					if slices.Contains(forged, n) {
						if c.Verified || !strings.Contains(c.Reason, "invalid signature") || !strings.Contains(c.Reason, "does not match the commit") || len(c.Signers) != 0 {
							t.Errorf("%d workers: forged commit %d: %+v", workers, n, c)
						}
						continue
					}
					if !c.Verified || len(c.Signers) != 1 {
						t.Errorf("%d workers: commit %d: %+v", workers, n, c)
					}
				}
			}
		})
	}
}
