package provenance

import (
	"container/heap"
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
)

// The commit graph questions a verification asks: which commits does a merge
// bring in, and does one commit descend from another. Both are answered
// exactly with generation numbers (1 + the largest generation of the
// parents, as in Git's commit-graph): a walk in decreasing generation visits
// every descendant of a commit before the commit itself, so its reachability
// flags are final when it is taken. Committer dates, which the author of a
// commit chooses, play no part.

// maxGraphCommits bounds how many commits one graph question may visit, so
// a crafted history cannot keep the verifier busy forever. Ten million is
// beyond the largest public repositories' commit counts.
const maxGraphCommits = 10_000_000

var errGraphTooLarge = errors.New("commit graph too large")

// generation returns h's generation number, computing (and caching) those of
// all its ancestors on first use.
func (v *Verifier) generation(ctx context.Context, repo *Repository, h plumbing.Hash) (uint32, error) {
	v.graphMu.Lock()
	defer v.graphMu.Unlock()
	if g, ok := v.gens[h]; ok {
		return g, nil
	}
	type frame struct {
		h        plumbing.Hash
		expanded bool
	}
	stack := []frame{{h: h}}
	visited := 0
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if _, done := v.gens[top.h]; done {
			stack = stack[:len(stack)-1]
			continue
		}
		if visited++; visited%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			if visited > maxGraphCommits {
				return 0, errGraphTooLarge
			}
		}
		parents, err := v.parents(repo, top.h)
		if err != nil {
			return 0, err
		}
		var maxGen uint32
		pending := false
		for _, p := range parents {
			if g, ok := v.gens[p]; ok {
				maxGen = max(maxGen, g)
			} else {
				pending = true
			}
		}
		if !pending {
			v.gens[top.h] = maxGen + 1
			stack = stack[:len(stack)-1]
			continue
		}
		if top.expanded {
			// Its parents were pushed above it and finished, yet one
			// has no generation: only a cycle does that.
			return 0, fmt.Errorf("commit graph has a cycle at %s", short(top.h))
		}
		top.expanded = true
		for _, p := range parents {
			if _, ok := v.gens[p]; !ok {
				stack = append(stack, frame{h: p})
			}
		}
	}
	return v.gens[h], nil
}

// parents returns the parents of commit h; a shallow commit's parents are
// missing, which ends a graph question with ErrShallow.
func (v *Verifier) parents(repo *Repository, h plumbing.Hash) ([]plumbing.Hash, error) {
	if repo.shallow[h] {
		return nil, fmt.Errorf("%w: history ends at %s", ErrShallow, short(h))
	}
	c, err := v.commit(repo, h)
	if err != nil {
		return nil, err
	}
	out := make([]plumbing.Hash, len(c.Parents))
	for i, p := range c.Parents {
		out[i] = mustHash(p)
	}
	return out, nil
}

// reach flags: reachable from the first parent, from another parent.
const (
	fromFirst uint8 = 1 << iota
	fromOther
	fromBoth = fromFirst | fromOther
)

// mergedIn returns S: the commits reachable from parents[1:] and not from
// parents[0], newest generation first.
func (v *Verifier) mergedIn(ctx context.Context, repo *Repository, parents []plumbing.Hash) ([]plumbing.Hash, error) {
	w := newPaint(v, repo)
	if err := w.push(ctx, parents[0], fromFirst); err != nil {
		return nil, err
	}
	for _, p := range parents[1:] {
		if err := w.push(ctx, p, fromOther); err != nil {
			return nil, err
		}
	}
	var side []plumbing.Hash
	for w.q.Len() > 0 && w.live > 0 {
		h, f := w.pop()
		if f == fromOther {
			side = append(side, h)
		}
		if err := w.spread(ctx, h, f); err != nil {
			return nil, err
		}
	}
	return side, nil
}

// isAncestor reports whether anc is reachable from desc. A commit the
// repository does not hold is nobody's ancestor (a rewound branch's old head
// is often gone from a fresh clone).
func (v *Verifier) isAncestor(ctx context.Context, repo *Repository, anc, desc plumbing.Hash) (bool, error) {
	if anc == desc {
		return true, nil
	}
	if !repo.hasCommit(anc) {
		return false, nil
	}
	ga, err := v.generation(ctx, repo, anc)
	if err != nil {
		return false, graphInputError(repo, err)
	}
	w := newPaint(v, repo)
	if err := w.push(ctx, desc, fromFirst); err != nil {
		return false, graphInputError(repo, err)
	}
	for w.q.Len() > 0 {
		h, f := w.pop()
		if h == anc {
			return true, nil
		}
		if w.gen[h] <= ga {
			// Everything left has a generation no larger than anc's
			// and is not anc: none of it can reach anc.
			continue
		}
		if err := w.spread(ctx, h, f); err != nil {
			return false, graphInputError(repo, err)
		}
	}
	return false, nil
}

func graphInputError(repo *Repository, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, ErrShallow) {
		return inputErrorf(ErrShallow, "%s: %v", repo.Location(), err)
	}
	return inputErrorf(ErrRepository, "%s: %v", repo.Location(), err)
}

// paint is a walk over the commit graph in decreasing generation that
// spreads reachability flags from the starting commits to their ancestors.
type paint struct {
	v     *Verifier
	repo  *Repository
	flags map[plumbing.Hash]uint8
	gen   map[plumbing.Hash]uint32
	q     genQueue
	// live counts queued commits not yet reachable from both sides; the
	// merge walk ends when none is left.
	live    int
	visited int
}

func newPaint(v *Verifier, repo *Repository) *paint {
	return &paint{v: v, repo: repo, flags: map[plumbing.Hash]uint8{}, gen: map[plumbing.Hash]uint32{}}
}

func (w *paint) push(ctx context.Context, h plumbing.Hash, f uint8) error {
	old, queued := w.flags[h]
	nf := old | f
	if queued && nf == old {
		return nil
	}
	w.flags[h] = nf
	if queued {
		if old != fromBoth && nf == fromBoth {
			w.live--
		}
		return nil
	}
	g, err := w.v.generation(ctx, w.repo, h)
	if err != nil {
		return err
	}
	w.gen[h] = g
	heap.Push(&w.q, genItem{h: h, gen: g})
	if nf != fromBoth {
		w.live++
	}
	return nil
}

func (w *paint) pop() (plumbing.Hash, uint8) {
	it := heap.Pop(&w.q).(genItem)
	f := w.flags[it.h]
	if f != fromBoth {
		w.live--
	}
	return it.h, f
}

// spread pushes h's parents with h's flags. A commit is taken from the
// queue only after all its queued descendants, so its flags are final and it
// is never pushed again.
func (w *paint) spread(ctx context.Context, h plumbing.Hash, f uint8) error {
	if w.visited++; w.visited%1024 == 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		if w.visited > maxGraphCommits {
			return errGraphTooLarge
		}
	}
	parents, err := w.v.parents(w.repo, h)
	if err != nil {
		return err
	}
	for _, p := range parents {
		if err := w.push(ctx, p, f); err != nil {
			return err
		}
	}
	return nil
}

type genItem struct {
	h   plumbing.Hash
	gen uint32
}

// genQueue is a max-heap by generation.
type genQueue []genItem

func (q genQueue) Len() int           { return len(q) }
func (q genQueue) Less(i, j int) bool { return q[i].gen > q[j].gen }
func (q genQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *genQueue) Push(x any)        { *q = append(*q, x.(genItem)) }
func (q *genQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}
