package reconcile

import (
	"context"
	"fmt"
	"slices"

	"github.com/go-logr/logr"

	"gitgate.dev/gitgate/provenance"
	"gitgate.dev/gitgate/provenance/index"
)

// restoreApplied publishes, after a failed sync, the Index of the commit
// the GitSource status says was applied last, when this process has
// published nothing for the source yet: after a restart while the branch
// head does not verify (rewound, an unsigned commit on top) or cannot be
// fetched, admission would otherwise have no desired state for the
// source's objects, and Ready would stay false.
//
// The commit is trusted because of where its name comes from:
// status.lastAppliedCommit is set only after the commit was verified and
// applied, and only gitgate's service account may write the status (the
// webhook's "GitSource status" rule). Its files are read from the fetched
// clone or, when the fetch failed, from the clone an earlier fetch left in
// the cache; a commit the clone does not hold (a new process with an empty
// cache whose branch was rewound past it) cannot be restored.
//
// It renders and publishes exactly as the sync does (the source label, the
// namespace defaulting, the policy engine compiled from that commit for
// the Publisher) but applies nothing, prunes nothing and leaves the ledger
// alone; the conditions keep reporting the sync's failure.
func (r *Reconciler) restoreApplied(ctx context.Context, s *syncRun) error {
	commit := s.gs.Status.LastAppliedCommit
	if commit == "" || r.opts.Store.Source(s.name()) != nil {
		return nil
	}
	repo := s.repo
	if repo == nil {
		cached, err := provenance.OpenCached(ctx, provenance.FetchOptions{URL: s.gs.Spec.URL, CacheDir: r.opts.CacheDir})
		if err != nil {
			return fmt.Errorf("restore commit %s: %w", short(commit), err)
		}
		defer func() { _ = cached.Close() }()
		repo = cached
	}
	tree, err := repo.Tree(commit)
	if err != nil {
		return fmt.Errorf("restore commit %s: %w", short(commit), err)
	}
	origin := index.Origin{Source: s.name(), Commit: tree.Commit(), Signers: slices.Clone(s.gs.Status.Signers)}
	_, ix, err := r.buildIndex(ctx, s.gs, tree, origin)
	if err != nil {
		return fmt.Errorf("restore commit %s: render: %w", short(commit), err)
	}
	engine, err := engineFor(ctx, s.gs, s.st, tree)
	if err != nil {
		return fmt.Errorf("restore commit %s: %w", short(commit), err)
	}
	if _, err := r.publishIndex(s.gs, s.st, ix, tree.Commit(), engine); err != nil {
		return fmt.Errorf("restore commit %s: %w", short(commit), err)
	}
	logr.FromContextOrDiscard(ctx).Info("published the last applied commit after a failed sync",
		"commit", tree.Commit(), "objects", ix.Len())
	return nil
}
