// Command genrepo writes a signed benchmark history (see package benchrepo)
// for test/bench/verify.sh:
//
//	go run ./provenance/internal/benchrepo/genrepo -out DIR -format ssh -commits 10000
//
// DIR/repo.git is the bare repository; DIR/trust-root and DIR/head hold the
// SHAs; DIR/allowed_signers (SSH) or DIR/pubkeys.asc and DIR/ownertrust.txt
// (OpenPGP) let git check the same signatures.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"gitgate.dev/gitgate/provenance/internal/benchrepo"
)

func main() {
	out := flag.String("out", "", "output folder (must not exist)")
	format := flag.String("format", "ssh", "ssh or openpgp")
	commits := flag.Int("commits", 10000, "signed commits after the trust root")
	repack := flag.Bool("repack", true, "let git repack the history (git's own pack layout)")
	flag.Parse()
	if err := run(*out, benchrepo.Format(*format), *commits, *repack); err != nil {
		fmt.Fprintln(os.Stderr, "genrepo:", err)
		os.Exit(1)
	}
}

func run(out string, format benchrepo.Format, commits int, repack bool) error {
	if out == "" {
		return fmt.Errorf("-out is required")
	}
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists", out)
	}
	r, err := benchrepo.Generate(context.Background(), benchrepo.Options{Dir: filepath.Join(out, "repo.git"), Commits: commits, Format: format, Repack: repack})
	if err != nil {
		return err
	}
	files := map[string]string{
		"trust-root":      r.TrustRoot + "\n",
		"head":            r.Head + "\n",
		"allowed_signers": r.AllowedSigners,
		"pubkeys.asc":     r.PublicKeys,
		"ownertrust.txt":  r.OwnerTrust,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(out, name), []byte(content), 0o600); err != nil {
			return err
		}
	}
	return nil
}
