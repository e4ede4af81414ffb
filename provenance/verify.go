package provenance

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"gitgate.dev/gitgate/provenance/signature"
)

// Options tune a Verifier.
type Options struct {
	// Now is the verification time handed to signature checks (X.509
	// certificate validity); time.Now when nil.
	Now func() time.Time
	// Parallelism is how many commits are judged at once; GOMAXPROCS when
	// zero. Object reads are serialized, signature checks run in parallel.
	Parallelism int
}

// Request names what to verify.
type Request struct {
	// Source names the source in the ledger (e.g. the GitSource name, or the
	// repository and branch for the CLI).
	Source string
	// Branch whose head is verified.
	Branch string
	// TrustRoot is the full SHA of the commit whose trust policy is taken on
	// faith.
	TrustRoot string
	// Mode is ModeFull (the default when empty) or ModeHead.
	Mode Mode
	// Ledger, when set, supplies the last verified head (rollback check and
	// where the walk may stop) and records the head on success.
	Ledger Ledger
}

// Verifier judges commits and remembers its verdicts. All caches are keyed
// by object hash, so one Verifier can serve any number of Verify calls on the
// same source (and its re-fetched repository) and checks only what is new.
// It is safe for concurrent use.
type Verifier struct {
	now     func() time.Time
	workers int

	trees    *lru[plumbing.Hash, tree]
	commits  *lru[plumbing.Hash, *signature.Commit]
	policies *lru[plumbing.Hash, *policyEntry]
	sides    *lru[sideKey, sideResult]

	// verdicts holds the results of commits judged on a first-parent
	// chain. A commit's verdict depends only on the commit (its parents,
	// trees and signature are fixed by its hash), so it never goes stale.
	verdicts *lru[plumbing.Hash, CommitResult]

	mu sync.Mutex
	// heads remembers, per trust root, the last heads verified from it and
	// in which mode: a later walk stops there.
	heads map[plumbing.Hash][]verifiedHead

	graphMu sync.Mutex
	gens    map[plumbing.Hash]uint32
}

// Cache bounds. Parsed trees and commits of a few thousand recent objects
// cover the working set of a walk (each commit's first parent was the
// previous step); policies change rarely.
const (
	treeCacheSize   = 1 << 12
	commitCacheSize = 1 << 12
	policyCacheSize = 256
	sideCacheSize   = 1 << 14
	// verdictCacheSize: walks stop at verified heads, so old verdicts are
	// rarely asked for again; this covers a full verification of a large
	// history being repeated.
	verdictCacheSize = 1 << 17
	// headsPerRoot: how many verified heads per trust root a walk may stop
	// at; a reconciler needs only the latest few.
	headsPerRoot = 16
)

type verifiedHead struct {
	h    plumbing.Hash
	mode Mode
}

// NewVerifier returns a Verifier with empty caches.
func NewVerifier(opts Options) *Verifier {
	v := &Verifier{
		now:      opts.Now,
		workers:  opts.Parallelism,
		trees:    newLRU[plumbing.Hash, tree](treeCacheSize),
		commits:  newLRU[plumbing.Hash, *signature.Commit](commitCacheSize),
		policies: newLRU[plumbing.Hash, *policyEntry](policyCacheSize),
		sides:    newLRU[sideKey, sideResult](sideCacheSize),
		verdicts: newLRU[plumbing.Hash, CommitResult](verdictCacheSize),
		heads:    make(map[plumbing.Hash][]verifiedHead),
		gens:     make(map[plumbing.Hash]uint32),
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.workers <= 0 {
		v.workers = runtime.GOMAXPROCS(0)
	}
	return v
}

// Verify decides whether the head of req.Branch in repo is a verified commit
// (DESIGN.md §2). An error means the question could not be asked (bad input,
// unreadable repository; an *InputError) or the context ended; a negative
// verdict is a Snapshot with Verified false and the reasons in its commits.
// On a positive verdict the head is recorded in req.Ledger.
func (v *Verifier) Verify(ctx context.Context, repo *Repository, req Request) (*Snapshot, error) {
	mode, err := ParseMode(string(req.Mode))
	if err != nil {
		return nil, err
	}
	root, ok := parseSHA(req.TrustRoot)
	if !ok {
		return nil, inputErrorf(ErrUnknownCommit, "trust root %q is not a full 40-digit commit SHA", req.TrustRoot)
	}
	if !repo.hasCommit(root) {
		return nil, inputErrorf(ErrUnknownCommit, "trust root %s is not a commit in %s", root, repo.Location())
	}
	if mode == ModeFull && repo.Shallow() {
		return nil, inputErrorf(ErrShallow, "%s is a shallow clone; full verification needs the whole history (fetch it, or use mode head)", repo.Location())
	}
	headSHA, err := repo.BranchHead(req.Branch)
	if err != nil {
		return nil, err
	}
	head := plumbing.NewHash(headSHA)
	snap := &Snapshot{
		Source: req.Source, Branch: req.Branch, Head: headSHA, TrustRoot: root.String(), Mode: mode,
		repo: repo, verifier: v,
	}
	var last Checkpoint
	if req.Ledger != nil {
		if last, err = req.Ledger.LastVerified(ctx, req.Source); err != nil {
			if IsInputError(err) {
				return nil, err
			}
			return nil, inputErrorf(ErrLedger, "read the last verified head of %s: %v", req.Source, err)
		}
	}
	if err := v.run(ctx, repo, snap, head, root, last); err != nil {
		return nil, err
	}
	if !snap.Verified {
		return snap, nil
	}
	v.rememberHead(root, head, mode)
	if req.Ledger != nil {
		cp := Checkpoint{Commit: headSHA, TrustRoot: root.String(), Mode: mode}
		if err := req.Ledger.Record(ctx, req.Source, cp); err != nil {
			if IsInputError(err) {
				return nil, err
			}
			return nil, inputErrorf(ErrLedger, "record the verified head of %s: %v", req.Source, err)
		}
	}
	return snap, nil
}

// run fills snap: the rollback check, the first-parent walk, and the
// verdicts of the commits the mode selects.
func (v *Verifier) run(ctx context.Context, repo *Repository, snap *Snapshot, head, root plumbing.Hash, last Checkpoint) error {
	mode := snap.Mode
	lastHash := plumbing.ZeroHash
	if last.Commit != "" {
		h, ok := parseSHA(last.Commit)
		if !ok {
			return inputErrorf(ErrLedger, "last verified head %q is not a full SHA", last.Commit)
		}
		lastHash = h
	}
	// The walk may stop at the last verified head only when that head was
	// verified from the same trust root and at least as thoroughly.
	stopAtLast := !lastHash.IsZero() && last.TrustRoot == root.String() && (last.Mode == ModeFull || mode == ModeHead)
	stop := func(h plumbing.Hash) bool {
		if h == root {
			return true
		}
		if stopAtLast && h == lastHash {
			return true
		}
		return v.headVerified(root, h, mode)
	}
	walk, err := v.firstParentChain(ctx, repo, head, stop, lastHash)
	if err != nil {
		return err
	}
	if !lastHash.IsZero() && !walk.sawLast && lastHash != head && walk.broken == nil {
		descends, err := v.isAncestor(ctx, repo, lastHash, head)
		if err != nil {
			return err
		}
		if !descends {
			snap.fail(head.String(), fmt.Sprintf("branch %s was rewound: head %s does not descend from the last verified head %s (force-push or reset); refusing to roll back",
				snap.Branch, short(head), short(lastHash)))
			return nil
		}
	}
	if walk.broken != nil {
		// A malformed commit on the chain: nothing below it can be reached.
		snap.Commits = append(snap.Commits, *walk.broken)
	} else if !walk.reachedStop {
		return v.rootNotOnChain(ctx, repo, snap, head, root)
	}
	toCheck := make([]judgeItem, len(walk.chain))
	for i, h := range walk.chain {
		toCheck[i] = judgeItem{h: h, c: walk.commits[i]}
		if i+1 < len(walk.commits) {
			toCheck[i].p1 = walk.commits[i+1]
		}
	}
	// From here on the items hold the parsed commits, and judgeAll lets
	// go of each once it is judged: a long history is not kept whole.
	walk.commits = nil
	if mode == ModeHead && len(toCheck) > 1 {
		toCheck = toCheck[:1]
	}
	if len(toCheck) == 0 && head != root && walk.broken == nil {
		// The head is the stop point (already verified): judge it again,
		// cheaply from the cache, so the snapshot names its signers.
		toCheck = []judgeItem{{h: head}}
	}
	results, err := v.judgeAll(ctx, repo, toCheck)
	if err != nil {
		return err
	}
	snap.Commits = append(results, snap.Commits...)
	snap.Verified = walk.broken == nil
	for _, r := range snap.Commits {
		if !r.Verified {
			snap.Verified = false
		}
	}
	return nil
}

// rootNotOnChain explains why the trust root was not found walking the
// head's first parents.
func (v *Verifier) rootNotOnChain(ctx context.Context, repo *Repository, snap *Snapshot, head, root plumbing.Hash) error {
	anc, err := v.isAncestor(ctx, repo, root, head)
	if err != nil && !IsInputError(err) {
		return err
	}
	reason := fmt.Sprintf("trust root %s is not an ancestor of head %s", short(root), short(head))
	if err == nil && anc {
		reason = fmt.Sprintf("trust root %s is an ancestor of head %s but not on its first-parent chain (it came in through a merged branch)", short(root), short(head))
	}
	snap.fail(head.String(), reason)
	return nil
}

type chainWalk struct {
	chain       []plumbing.Hash // head first, stop commit excluded
	commits     []*signature.Commit
	reachedStop bool
	sawLast     bool
	broken      *CommitResult // a malformed commit that ended the walk
}

// firstParentChain follows first parents from head until stop says so.
func (v *Verifier) firstParentChain(ctx context.Context, repo *Repository, head plumbing.Hash, stop func(plumbing.Hash) bool, last plumbing.Hash) (chainWalk, error) {
	var w chainWalk
	cur := head
	for {
		if err := ctx.Err(); err != nil {
			return w, err
		}
		if !last.IsZero() && cur == last {
			w.sawLast = true
		}
		if stop(cur) {
			w.reachedStop = true
			return w, nil
		}
		c, err := v.commit(repo, cur)
		if err != nil {
			if errors.Is(err, errObjectMissing) {
				return w, inputErrorf(ErrRepository, "%s: %v", repo.Location(), err)
			}
			w.broken = &CommitResult{SHA: cur.String(), Signers: []Signer{}, Reason: err.Error()}
			return w, nil
		}
		w.chain = append(w.chain, cur)
		w.commits = append(w.commits, c)
		if len(c.Parents) == 0 {
			return w, nil
		}
		if repo.shallow[cur] {
			return w, inputErrorf(ErrShallow, "%s: the history ends at %s (shallow clone) before the trust root", repo.Location(), short(cur))
		}
		cur = mustHash(c.Parents[0]) // checked by v.commit
	}
}

// judgeItem is a commit to judge, with the parsed commit and first parent
// when the walk already read them (nil otherwise).
type judgeItem struct {
	h     plumbing.Hash
	c, p1 *signature.Commit
}

// judgeAll judges commits in parallel, keeping their order. Each worker
// leaves the Ed25519 signature equations of the commits it judges to a
// signature.Batch and checks them together at the end (see
// signature.Batch: one check of many signatures costs a fraction of
// checking each), then settles the verdicts.
func (v *Verifier) judgeAll(ctx context.Context, repo *Repository, items []judgeItem) ([]CommitResult, error) {
	results := make([]CommitResult, len(items))
	workers := min(v.workers, len(items))
	if workers <= 1 {
		var j batchJudge
		for i, it := range items {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if err := j.judge(ctx, v, repo, it, &results[i]); err != nil {
				return nil, err
			}
			items[i].c, items[i].p1 = nil, nil
		}
		j.settle(v)
		return results, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range workers {
		wg.Go(func() {
			var j batchJudge
			for i := range next {
				if err := j.judge(ctx, v, repo, items[i], &results[i]); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
				}
				items[i].c, items[i].p1 = nil, nil
			}
			if ctx.Err() == nil {
				j.settle(v)
			}
		})
	}
feed:
	for i := range items {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return results, nil
}

// batchJudge is one worker's share of judgeAll: the commits it judged
// whose verdicts wait for their signature equations, and the batch that
// holds those equations.
type batchJudge struct {
	batch signature.Batch
	open  []openVerdict
}

// openVerdict is a verdict to settle: it stands if the signature holds.
type openVerdict struct {
	h       plumbing.Hash
	res     *CommitResult
	pending signature.Pending
}

// judge sets *res to the verdict on a commit, from the cache when known;
// a verdict that waits for its signature is settled by settle.
func (j *batchJudge) judge(ctx context.Context, v *Verifier, repo *Repository, it judgeItem, res *CommitResult) error {
	if r, ok := v.verdicts.get(it.h); ok {
		*res = r
		return nil
	}
	r, pending, err := v.evaluate(ctx, repo, it, &j.batch)
	if err != nil {
		return err
	}
	*res = r
	if pending.Deferred() {
		j.open = append(j.open, openVerdict{h: it.h, res: res, pending: pending})
		if len(j.open) >= settleEvery {
			j.settle(v)
		}
		return nil
	}
	v.verdicts.put(it.h, r)
	return nil
}

// settleEvery is how many open verdicts a worker collects before checking
// their batch: a few batch chunks (so the batch equation keeps its
// advantage), while what the open verdicts hold on to (signatures, digests,
// payloads) stays bounded however long the history.
const settleEvery = 512

// settle checks the batch and completes the open verdicts: a commit whose
// signature does not hold fails with the signature's reason, exactly as
// evaluate fails it when it checks the signature at once.
func (j *batchJudge) settle(v *Verifier) {
	j.batch.Check()
	for _, o := range j.open {
		if err := o.pending.Err(); err != nil {
			*o.res = CommitResult{SHA: o.res.SHA, Signers: []Signer{}, Reason: err.Error()}
		}
		v.verdicts.put(o.h, *o.res)
	}
	clear(j.open)
	j.open = j.open[:0]
	j.batch = signature.Batch{} // every verdict is read: let the equations go
}

func (v *Verifier) rememberHead(root, head plumbing.Hash, mode Mode) {
	v.mu.Lock()
	defer v.mu.Unlock()
	hs := v.heads[root]
	for i, vh := range hs {
		if vh.h == head {
			if mode == ModeFull {
				hs[i].mode = ModeFull
			}
			return
		}
	}
	hs = append(hs, verifiedHead{h: head, mode: mode})
	if len(hs) > headsPerRoot {
		hs = hs[len(hs)-headsPerRoot:]
	}
	v.heads[root] = hs
}

// headVerified reports whether h was verified from root at least as
// thoroughly as mode asks, so a walk may stop there.
func (v *Verifier) headVerified(root, h plumbing.Hash, mode Mode) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, vh := range v.heads[root] {
		if vh.h == h {
			return vh.mode == ModeFull || mode == ModeHead
		}
	}
	return false
}

// commit reads and parses commit h (cached).
func (v *Verifier) commit(repo *Repository, h plumbing.Hash) (*signature.Commit, error) {
	if c, ok := v.commits.get(h); ok {
		return c, nil
	}
	raw, err := repo.readObject(plumbing.CommitObject, h, maxCommitSize)
	if err != nil {
		return nil, err
	}
	c, err := signature.ParseCommit(raw)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", short(h), err)
	}
	if _, err := objectHash(c.Tree); err != nil {
		return nil, fmt.Errorf("commit %s: %w", short(h), err)
	}
	for _, p := range c.Parents {
		if _, err := objectHash(p); err != nil {
			return nil, fmt.Errorf("commit %s: %w", short(h), err)
		}
	}
	v.commits.put(h, c)
	return c, nil
}

func (v *Verifier) treeReader(repo *Repository) treeReader { return cachedTrees{v: v, repo: repo} }

type cachedTrees struct {
	v    *Verifier
	repo *Repository
}

func (t cachedTrees) tree(h plumbing.Hash) (tree, error) {
	if e, ok := t.v.trees.get(h); ok {
		return e, nil
	}
	raw, err := t.repo.readObject(plumbing.TreeObject, h, maxTreeSize)
	if err != nil {
		return tree{}, err
	}
	parsed, err := parseTree(raw)
	if err != nil {
		return tree{}, fmt.Errorf("tree %s: %w", short(h), err)
	}
	t.v.trees.put(h, parsed)
	return parsed, nil
}

// objectHash converts a hex object name from a parsed commit. go-git's
// storage holds SHA-1 objects only; a SHA-256 name would be truncated.
func objectHash(s string) (plumbing.Hash, error) {
	h, ok := parseSHA(s)
	if !ok {
		return plumbing.ZeroHash, fmt.Errorf("object name %q is not a SHA-1 (SHA-256 repositories are not supported)", s)
	}
	return h, nil
}

// short abbreviates an object name for messages.
func short(h plumbing.Hash) string { return h.String()[:12] }
