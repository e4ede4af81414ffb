package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"gitgate.dev/gitgate/provenance"
)

// Environment variables holding https credentials for `verify --repo
// https://...`; the environment, unlike a flag, does not show in process
// listings.
const (
	envGitUsername = "GITGATE_GIT_USERNAME"
	envGitPassword = "GITGATE_GIT_PASSWORD" //nolint:gosec // the name of a variable, not a credential
)

type verifyOptions struct {
	repo       string
	branch     string
	trustRoot  string
	mode       string
	state      string
	output     string
	commit     string
	cacheDir   string
	timeout    time.Duration
	maxFetch   int64
	sshKey     string
	knownHosts string
	caFile     string
}

func newVerifyCommand(s Streams) *cobra.Command {
	o := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify --repo <path|url> --trust-root <sha> [flags]",
		Short: "Verify that a branch's head is a signed, authorized commit",
		Long: `verify checks the head of a branch against the repository's trust policy
(.gitgate/trust.yaml): every commit on the first-parent chain from the trust
root (exclusive) to the head must carry a valid signature by a signer that the
policy of its first parent authorizes for every path it changes, and merges
must bring the approvals the policy asks for. With --mode head only the head is
checked. With --state the last verified head is remembered, and a head that
does not descend from it (a force-push) is refused.

--repo is a local repository (work tree or bare) or a URL: https://,
ssh://, user@host:path or file:///absolute/path. Remote repositories are
cloned into --cache-dir and fetched incrementally. For https credentials set
` + envGitUsername + ` and ` + envGitPassword + ` (a token as the password); for ssh
pass --ssh-key (known hosts from --known-hosts) or rely on the ssh agent.

Exit status: 0 verified, 1 verification failed, 2 usage or input error
(unreadable repository, unknown trust root, malformed input).`,
		Example: `  gitgate verify --repo . --trust-root 3f1c9e...e2
  gitgate verify --repo https://git.example.com/org/config.git --branch main \
      --trust-root 3f1c9e...e2 --state .gitgate-state.json -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVerify(cmd.Context(), s, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.repo, "repo", "", "repository path or URL (required)")
	f.StringVar(&o.branch, "branch", "main", "branch whose head is verified")
	f.StringVar(&o.trustRoot, "trust-root", "", "full SHA of the trust root commit, whose policy is taken on faith (required)")
	f.StringVar(&o.mode, "mode", string(provenance.ModeFull), "full (every commit since the trust root) or head (only the head)")
	f.StringVar(&o.state, "state", "", "file that keeps the last verified head (rollback protection)")
	f.StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	f.StringVar(&o.commit, "commit", "", "also require this commit (full SHA) to be merged into the branch")
	f.StringVar(&o.cacheDir, "cache-dir", "", "folder for clones of remote repositories (default <user cache>/gitgate/repos)")
	f.DurationVar(&o.timeout, "timeout", provenance.DefaultFetchTimeout, "time limit for fetching a remote repository")
	f.Int64Var(&o.maxFetch, "max-fetch-bytes", provenance.DefaultMaxFetchBytes, "most bytes one fetch of a remote repository may receive (-1: no cap)")
	f.StringVar(&o.sshKey, "ssh-key", "", "private key file for ssh URLs")
	f.StringVar(&o.knownHosts, "known-hosts", "", "known_hosts file for ssh URLs with --ssh-key (default ~/.ssh/known_hosts)")
	f.StringVar(&o.caFile, "ca-file", "", "PEM file of extra CA certificates for https URLs")
	_ = cmd.MarkFlagRequired("repo")
	_ = cmd.MarkFlagRequired("trust-root")
	return cmd
}

func runVerify(ctx context.Context, s Streams, o *verifyOptions) error {
	if o.output != "text" && o.output != "json" {
		return usageError(fmt.Errorf("--output %q: want text or json", o.output))
	}
	mode, err := provenance.ParseMode(o.mode)
	if err != nil {
		return usageError(fmt.Errorf("--mode: %w", err))
	}
	if !isFullSHA(o.trustRoot) {
		return usageError(fmt.Errorf("--trust-root %q is not a full 40-digit commit SHA", o.trustRoot))
	}
	if o.commit != "" && !isFullSHA(o.commit) {
		return usageError(fmt.Errorf("--commit %q is not a full 40-digit commit SHA", o.commit))
	}
	repo, source, err := o.openRepository(ctx)
	if err != nil {
		return usageError(err)
	}
	defer func() { _ = repo.Close() }()
	req := provenance.Request{Source: source + "#" + o.branch, Branch: o.branch, TrustRoot: o.trustRoot, Mode: mode}
	if o.state != "" {
		req.Ledger = provenance.NewFileLedger(o.state)
	}
	snap, err := provenance.NewVerifier(provenance.Options{}).Verify(ctx, repo, req)
	if err != nil {
		return usageError(err)
	}
	results := snap.Commits
	verified := snap.Verified
	if verified && o.commit != "" {
		merged, err := snap.Merged(ctx, o.commit)
		if err != nil {
			return usageError(err)
		}
		if !merged {
			verified = false
			results = append(results, provenance.CommitResult{
				SHA: strings.ToLower(o.commit), Signers: []provenance.Signer{}, Reason: "not merged into " + o.branch,
			})
		}
	}
	if err := writeVerifyResult(s.Out, o.output, snap, results, verified); err != nil {
		return err
	}
	if !verified {
		return failed()
	}
	return nil
}

// openRepository opens a local repository, or fetches a remote one into the
// cache. It returns the name the ledger keys the source by.
func (o *verifyOptions) openRepository(ctx context.Context) (*provenance.Repository, string, error) {
	if _, statErr := os.Stat(o.repo); statErr == nil || !provenance.IsRemote(o.repo) {
		repo, err := provenance.Open(o.repo)
		if err != nil {
			return nil, "", err
		}
		abs, err := filepath.Abs(o.repo)
		if err != nil {
			abs = o.repo
		}
		return repo, abs, nil
	}
	opts := provenance.FetchOptions{URL: o.repo, Branch: o.branch, CacheDir: o.cacheDir, Timeout: o.timeout, MaxBytes: o.maxFetch}
	if opts.CacheDir == "" {
		dir, err := provenance.DefaultCacheDir()
		if err != nil {
			return nil, "", err
		}
		opts.CacheDir = dir
	}
	if err := o.credentials(&opts); err != nil {
		return nil, "", err
	}
	repo, err := provenance.Fetch(ctx, opts)
	if err != nil {
		return nil, "", err
	}
	return repo, o.repo, nil
}

func (o *verifyOptions) credentials(opts *provenance.FetchOptions) error {
	if user, pass := os.Getenv(envGitUsername), os.Getenv(envGitPassword); (user != "" || pass != "") && strings.HasPrefix(strings.ToLower(o.repo), "https://") {
		if user == "" {
			user = "git"
		}
		opts.HTTPS = &provenance.HTTPSAuth{Username: user, Password: pass}
	}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return fmt.Errorf("--ca-file: %w", err)
		}
		opts.CABundle = pem
	}
	if o.sshKey == "" {
		if o.knownHosts != "" {
			return errors.New("--known-hosts needs --ssh-key")
		}
		return nil
	}
	key, err := os.ReadFile(o.sshKey)
	if err != nil {
		return fmt.Errorf("--ssh-key: %w", err)
	}
	khPath := o.knownHosts
	if khPath == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return fmt.Errorf("--known-hosts: %w", err)
		}
		khPath = filepath.Join(home, ".ssh", "known_hosts")
	}
	kh, err := os.ReadFile(khPath)
	if err != nil {
		return fmt.Errorf("--known-hosts: %w", err)
	}
	opts.SSH = &provenance.SSHAuth{PrivateKey: key, KnownHosts: kh, Passphrase: os.Getenv("GITGATE_SSH_PASSPHRASE")}
	return nil
}

// verifyJSON is the JSON output, exactly the shape the CLI contract gives.
type verifyJSON struct {
	Head     string                    `json:"head"`
	Verified bool                      `json:"verified"`
	Commits  []provenance.CommitResult `json:"commits"`
}

func writeVerifyResult(w io.Writer, format string, snap *provenance.Snapshot, results []provenance.CommitResult, verified bool) error {
	if results == nil {
		results = []provenance.CommitResult{}
	}
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(verifyJSON{Head: snap.Head, Verified: verified, Commits: results})
	}
	var b strings.Builder
	failedN := 0
	for _, c := range results {
		if !c.Verified {
			failedN++
			fmt.Fprintf(&b, "%s %s\n", shortSHA(c.SHA), c.Reason)
		}
	}
	fmt.Fprintf(&b, "verified: %t\n", verified)
	fmt.Fprintf(&b, "head: %s (branch %s, mode %s, trust root %s)\n", snap.Head, snap.Branch, snap.Mode, shortSHA(snap.TrustRoot))
	fmt.Fprintf(&b, "commits checked: %d (%d failed)\n", len(results), failedN)
	var names []string
	for _, sg := range snap.Signers() {
		names = append(names, fmt.Sprintf("%s (%s)", sg.Name, sg.Format))
	}
	if len(names) == 0 {
		names = []string{"none"}
	}
	fmt.Fprintf(&b, "signers: %s\n", strings.Join(names, ", "))
	_, err := io.WriteString(w, b.String())
	return err
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func isFullSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range strings.ToLower(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
