package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/provenance"
)

// Keys of a credentials Secret (see GitSourceSpec.SecretRef).
const (
	secretUsername   = "username"
	secretPassword   = "password"
	secretIdentity   = "identity"
	secretKnownHosts = "known_hosts"
	secretPassphrase = "passphrase"
	secretCAFile     = "caFile"
)

// fetch brings the cached clone up to date.
func (r *Reconciler) fetch(ctx context.Context, s *syncRun) error {
	opts, err := r.fetchOptions(ctx, s.gs)
	if err != nil {
		return fail("", reasonCredentialsError, err)
	}
	repo, err := provenance.Fetch(ctx, opts)
	if err != nil {
		return fail("", reasonFetchFailed, fmt.Errorf("fetch %s: %w", s.gs.Spec.URL, err))
	}
	s.repo = repo
	return nil
}

// verify proves the branch head, with the status as the ledger.
func (r *Reconciler) verify(ctx context.Context, s *syncRun) error {
	ledger := &statusLedger{reader: r.opts.APIReader, name: s.name(), mem: &s.st.ledger}
	if s.leader {
		ledger.writer = r.opts.Client
	}
	snap, err := s.st.verifier.Verify(ctx, s.repo, provenance.Request{
		Source:    s.name(),
		Branch:    branchOf(s.gs),
		TrustRoot: s.gs.Spec.TrustRoot,
		Mode:      provenance.Mode(s.gs.Spec.Mode),
		Ledger:    ledger,
	})
	s.recorded = ledger.recorded
	if err != nil {
		return fail(v1alpha1.ConditionVerified, reasonVerificationError, err)
	}
	if !snap.Verified {
		return fail(v1alpha1.ConditionVerified, reasonVerificationFailed, errors.New(failureMessage(snap)))
	}
	s.snap = snap
	s.verified = true
	return nil
}

// maxFailuresShown bounds the commits a Verified=False message lists; the
// first ones (newest first) are what a user has to fix.
const maxFailuresShown = 5

func failureMessage(snap *provenance.Snapshot) string {
	fs := snap.Failures()
	if len(fs) == 0 {
		return fmt.Sprintf("head %s of branch %s is not verified", short(snap.Head), snap.Branch)
	}
	parts := make([]string, 0, maxFailuresShown+1)
	for i, f := range fs {
		if i == maxFailuresShown {
			parts = append(parts, fmt.Sprintf("and %d more commits", len(fs)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("commit %s: %s", short(f.SHA), f.Reason))
	}
	return fmt.Sprintf("head %s of branch %s is not verified: %s", short(snap.Head), snap.Branch, strings.Join(parts, "; "))
}

// fetchOptions builds the fetch of gs, with its credentials.
func (r *Reconciler) fetchOptions(ctx context.Context, gs *v1alpha1.GitSource) (provenance.FetchOptions, error) {
	opts := provenance.FetchOptions{
		URL:      gs.Spec.URL,
		Branch:   branchOf(gs),
		CacheDir: r.opts.CacheDir,
		Timeout:  timeoutOf(gs),
	}
	if gs.Spec.SecretRef == nil {
		return opts, nil
	}
	var sec corev1.Secret
	key := client.ObjectKey{Namespace: r.opts.Namespace, Name: gs.Spec.SecretRef.Name}
	if err := r.opts.APIReader.Get(ctx, key, &sec); err != nil {
		return opts, fmt.Errorf("read credentials secret %s: %w", key, err)
	}
	return withCredentials(opts, sec.Data)
}

// withCredentials adds the credentials a Secret holds for the URL's
// transport. Keys for another transport are ignored; missing keys that the
// transport needs are errors, so a misconfiguration is reported as such and
// not as an authentication failure of the server.
func withCredentials(opts provenance.FetchOptions, data map[string][]byte) (provenance.FetchOptions, error) {
	ep, err := provenance.ParseURL(opts.URL)
	if err != nil {
		return opts, err
	}
	switch ep.Scheme {
	case "https":
		user, pass := string(data[secretUsername]), string(data[secretPassword])
		if user != "" || pass != "" {
			if pass == "" {
				return opts, fmt.Errorf("credentials secret has %q but no %q", secretUsername, secretPassword)
			}
			if user == "" {
				// Token auth: servers want some user name and ignore it.
				user = "git"
			}
			opts.HTTPS = &provenance.HTTPSAuth{Username: user, Password: pass}
		}
		if ca := data[secretCAFile]; len(ca) > 0 {
			opts.CABundle = ca
		}
	case "ssh":
		id := data[secretIdentity]
		if len(id) == 0 {
			return opts, fmt.Errorf("credentials secret for an ssh URL has no %q (private key)", secretIdentity)
		}
		hosts := data[secretKnownHosts]
		if len(hosts) == 0 {
			return opts, fmt.Errorf("credentials secret for an ssh URL has no %q: gitgate never accepts an unknown host key", secretKnownHosts)
		}
		opts.SSH = &provenance.SSHAuth{User: ep.User, PrivateKey: id, Passphrase: string(data[secretPassphrase]), KnownHosts: hosts}
	}
	return opts, nil
}

func branchOf(gs *v1alpha1.GitSource) string {
	if gs.Spec.Branch == "" {
		return "main"
	}
	return gs.Spec.Branch
}

func timeoutOf(gs *v1alpha1.GitSource) time.Duration {
	if gs.Spec.Timeout == nil || gs.Spec.Timeout.Duration <= 0 {
		return defaultTimeout
	}
	return gs.Spec.Timeout.Duration
}

func intervalOf(gs *v1alpha1.GitSource) time.Duration {
	d := gs.Spec.Interval.Duration
	switch {
	case d <= 0:
		return defaultInterval
	case d < minInterval:
		return minInterval
	}
	return d
}

// short abbreviates a commit SHA as Git does in messages.
func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
