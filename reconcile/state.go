package reconcile

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/policy"
	"gitgate.dev/gitgate/provenance"
	"gitgate.dev/gitgate/provenance/index"
	"gitgate.dev/gitgate/provenance/render"
)

// sourceState is what this replica remembers of one GitSource between
// syncs. controller-runtime never runs two reconciles of the same source at
// once, so the sync fields need no lock; mu guards the few fields that
// Trigger and the drift callback touch from other goroutines.
type sourceState struct {
	// verifier is kept for the life of the source: its caches make
	// re-verification incremental. Its caches are keyed by object hash,
	// so a changed URL or trust root cannot reuse a wrong verdict.
	verifier *provenance.Verifier
	ledger   checkpointMemory

	// gen and nextFetch schedule the next sync.
	gen       int64
	nextFetch time.Time

	// What this replica last published.
	published     *index.Index
	publishedHead string
	publishedGen  int64

	// The compiled policy and what it was compiled from.
	policyKey string
	engine    *policy.Engine
	compiles  int

	// What this replica last applied as leader (prune computes removals
	// against it), and every kind it applied since it started.
	appliedIx    *index.Index
	appliedHead  string
	appliedGen   int64
	appliedKinds map[schema.GroupKind]bool
	// swept is set once the first prune after start has swept every
	// listable kind.
	swept bool

	// withdrawn holds the keys that this replica's publishes withdrew
	// (declared by the Index before, not by the new one) and that the
	// Store still lists as withdrawn, with a version to look them up by;
	// see forgetGone.
	withdrawn map[index.Key]schema.GroupVersionKind

	mu    sync.Mutex
	force bool
	// requested is the last value of the SyncRequestedAnnotation this
	// replica acted on or wrote itself.
	requested string
	drifted   int
	// attempted is set when the first sync of this process has finished,
	// whatever its result (Ready reads it).
	attempted bool
}

func newSourceState() *sourceState {
	return &sourceState{
		verifier:     provenance.NewVerifier(provenance.Options{}),
		appliedKinds: map[schema.GroupKind]bool{},
		withdrawn:    map[index.Key]schema.GroupVersionKind{},
	}
}

func (st *sourceState) setAttempted() {
	st.mu.Lock()
	st.attempted = true
	st.mu.Unlock()
}

func (st *sourceState) hasAttempted() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.attempted
}

// noteWithdrawn records what publishing ix in place of prev withdrew, and
// drops what ix declares again (the Store no longer lists it).
func (st *sourceState) noteWithdrawn(prev, ix *index.Index) {
	for _, e := range ix.Removed(prev) {
		st.withdrawn[e.Key] = e.Object.GroupVersionKind()
	}
	for k := range st.withdrawn {
		if _, declared := ix.Lookup(k); declared {
			delete(st.withdrawn, k)
		}
	}
}

func (st *sourceState) setForce() {
	st.mu.Lock()
	st.force = true
	st.mu.Unlock()
}

// request records a sync request seen in (or written to) the GitSource's
// annotation and reports whether it is new to this replica.
func (st *sourceState) request(value string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if value == "" || value == st.requested {
		return false
	}
	st.requested = value
	return true
}

// due reports whether a sync must run now, and consumes a pending Trigger.
// requested is the GitSource's SyncRequestedAnnotation.
func (st *sourceState) due(gen int64, now time.Time, requested string) bool {
	newRequest := st.request(requested)
	st.mu.Lock()
	defer st.mu.Unlock()
	if newRequest || st.force || gen != st.gen || !now.Before(st.nextFetch) {
		st.force = false
		return true
	}
	return false
}

// untilNext is how long until the next scheduled sync.
func (st *sourceState) untilNext(now time.Time) time.Duration {
	d := st.nextFetch.Sub(now)
	if d < 0 {
		return 0
	}
	return d
}

func (st *sourceState) setDrifted(n int) {
	st.mu.Lock()
	st.drifted = n
	st.mu.Unlock()
}

func (st *sourceState) driftCount() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.drifted
}

// syncRun is one sync in progress: what each step found, for the steps
// after it and for setStatus.
type syncRun struct {
	gs     *v1alpha1.GitSource
	st     *sourceState
	leader bool
	start  time.Time

	repo *provenance.Repository
	snap *provenance.Snapshot
	// recorded is the checkpoint the ledger wrote in this sync.
	recorded *provenance.Checkpoint
	// unchanged: the head and spec are those last published, so render,
	// policy and publish reuse what this replica already has.
	unchanged bool

	objects  []render.Object
	ix       *index.Index
	prev     *index.Index
	engine   *policy.Engine
	warnings int

	verified     bool
	policyPassed bool
	published    bool
	applied      bool // the Index is applied (now or by an earlier sync)
	appliedNow   bool // this sync applied it
	pruned       int
}

func (s *syncRun) close() {
	if s.repo != nil {
		_ = s.repo.Close()
		s.repo = nil
	}
}

func (s *syncRun) name() string { return s.gs.Name }

func (s *syncRun) head() string {
	if s.snap == nil {
		return ""
	}
	return s.snap.Head
}
