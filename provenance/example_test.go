package provenance_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"gitgate.dev/gitgate/provenance"
	"gitgate.dev/gitgate/provenance/internal/benchrepo"
)

// Verify a branch, remember its head in a state file, and read a file of the
// verified commit.
func ExampleVerifier_Verify() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "gitgate-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := verifyExample(ctx, dir); err != nil {
		log.Print(err)
	}
	// Output:
	// verified: true commits checked: 3
	// signer: signer0 ssh
	// signer: signer1 ssh
	// signer: signer2 ssh
	// app: app-000
	// revision: 0
	// replicas: 1
}

func verifyExample(ctx context.Context, dir string) error {
	// A repository with a trust policy in its root commit and three commits
	// signed with SSH keys the policy lists.
	history, err := benchrepo.Generate(ctx, benchrepo.Options{Dir: filepath.Join(dir, "repo.git"), Commits: 3, Format: benchrepo.SSH})
	if err != nil {
		return err
	}

	repo, err := provenance.Open(history.Dir) // or provenance.Fetch for a URL
	if err != nil {
		return err
	}
	defer repo.Close()
	v := provenance.NewVerifier(provenance.Options{})
	snap, err := v.Verify(ctx, repo, provenance.Request{
		Source:    "example",
		Branch:    "main",
		TrustRoot: history.TrustRoot,
		Mode:      provenance.ModeFull,
		Ledger:    provenance.NewFileLedger(filepath.Join(dir, "state.json")),
	})
	if err != nil {
		return err // an *InputError: bad input, not a verdict
	}
	fmt.Println("verified:", snap.Verified, "commits checked:", len(snap.Commits))
	for _, s := range snap.Signers() {
		fmt.Println("signer:", s.Name, s.Format)
	}
	config, err := snap.ReadFile("apps/app-000/config.yaml", 0)
	if err != nil {
		return err
	}
	fmt.Print(string(config))
	return nil
}
