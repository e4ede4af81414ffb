package drift

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"gitgate.dev/gitgate/provenance/index"
)

// Mode says what happens to drift.
type Mode string

// The drift modes, as in GitSource spec.drift.
const (
	// Revert puts a drifted object back at once.
	Revert Mode = "revert"
	// Detect only counts and reports it.
	Detect Mode = "detect"
)

// fieldManager is the field manager gitgate writes with; its managedFields
// entries are never the edit being reported.
const fieldManager = "gitgate"

// Applier puts an object back (SSA, field manager gitgate, force).
type Applier interface {
	Apply(ctx context.Context, obj *unstructured.Unstructured) error
}

// Options configure a Watcher.
type Options struct {
	// Config reaches the API server: the watches, the confirming reads and
	// the merge patch that removes added list items.
	Config *rest.Config
	// Mapper resolves the resource of each watched group/kind.
	Mapper meta.RESTMapper
	// Applier puts drifted objects back (revert mode).
	Applier Applier
	// Recorder receives a Warning Event on each drifted object (optional).
	Recorder record.EventRecorder
	// AuditLog receives one JSON line per drift (optional).
	AuditLog io.Writer
	// Registerer registers the metrics (optional).
	Registerer prometheus.Registerer
	// Logger logs reverts and failures; never field values.
	Logger logr.Logger
	// OnChange is told the number of currently drifted objects of a source
	// (detect mode keeps them; revert mode counts those whose revert failed,
	// until reverted; see Drifted), so the reconciler can write
	// status.drifted and the Drifted condition. It is
	// called from the Watcher's workers and from Track and Forget, one call
	// at a time, with the count current at the time of the call; keep it
	// short. Forget reports 0 for a source that had drift.
	OnChange func(source string, drifted int)
}

// Watcher watches the managed objects of every tracked source and reverts
// or reports their drift. Track, Forget and Drifted are safe for concurrent
// use, before and after Start.
type Watcher struct {
	opts    Options
	log     logr.Logger
	dyn     dynamic.Interface
	metrics *metrics
	now     func() time.Time

	// wake asks the watch loop to start and stop informers.
	wake chan struct{}

	mu      sync.Mutex
	started bool
	queue   workqueue.TypedRateLimitingInterface[item]
	sources map[string]*tracked
	watches map[schema.GroupKind]*watch
	// pending holds, per queued key, the arrival of the first event since
	// the key was last taken by a worker: the edit time when managedFields
	// cannot tell it more precisely.
	pending map[item]time.Time

	notifyMu sync.Mutex
	reported map[string]int

	auditMu sync.Mutex
}

// tracked is one source's desired state and what of it has drifted.
type tracked struct {
	ix   *index.Index
	mode Mode
	// drifted holds the keys that do not conform.
	drifted map[index.Key]driftState
}

// driftState is what is known of one drifted object.
type driftState struct {
	// sig is the signature of the drift last reported, so the same drift
	// is counted once.
	sig string
	// shown: the object counts in Drifted. In detect mode every drifted
	// object does; in revert mode only one whose revert failed, so that a
	// revert that succeeds within milliseconds does not make the status
	// flip twice.
	shown bool
}

// item is a unit of work: one object of one source.
type item struct {
	source string
	key    index.Key
}

// Tuning of the workers and retries.
const (
	// workers bounds the reverts in flight; drift is rare, and a storm of
	// it (a deleted namespace) should not flood the API server.
	workers = 4
	// retryBase and retryMax bound the per-key backoff of failed reverts:
	// the first retry is quick (a conflict with a concurrent write clears
	// at once), and a revert that keeps failing (an invalid object, a
	// denied write) is tried at most once a minute.
	retryBase = 100 * time.Millisecond
	retryMax  = time.Minute
	// mappingRetryBase and mappingRetryMax bound the retries of a kind
	// whose resource the mapper does not know yet (a CRD the same commit
	// installs).
	mappingRetryBase = time.Second
	mappingRetryMax  = time.Minute
)

// New returns a Watcher; Start runs it.
func New(opts Options) (*Watcher, error) {
	if opts.Config == nil {
		return nil, errors.New("drift: options need a rest config")
	}
	dyn, err := dynamic.NewForConfig(opts.Config)
	if err != nil {
		return nil, fmt.Errorf("drift: dynamic client: %w", err)
	}
	return newWatcher(opts, dyn)
}

// newWatcher builds a Watcher on the given client (tests pass a fake).
func newWatcher(opts Options, dyn dynamic.Interface) (*Watcher, error) {
	switch {
	case opts.Mapper == nil:
		return nil, errors.New("drift: options need a rest mapper")
	case opts.Applier == nil:
		return nil, errors.New("drift: options need an applier")
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("drift: register metrics: %w", err)
	}
	log := opts.Logger
	if log.GetSink() == nil {
		log = logr.Discard()
	}
	return &Watcher{
		opts:     opts,
		log:      log.WithName("drift"),
		dyn:      dyn,
		metrics:  m,
		now:      time.Now,
		wake:     make(chan struct{}, 1),
		sources:  map[string]*tracked{},
		watches:  map[schema.GroupKind]*watch{},
		pending:  map[item]time.Time{},
		reported: map[string]int{},
	}, nil
}

// normalize maps a mode to Revert or Detect: empty is the CRD's default
// (revert); an unknown value is treated as detect, the mode that writes
// nothing.
func normalize(m Mode) Mode {
	switch m {
	case "", Revert:
		return Revert
	default:
		return Detect
	}
}

// Track makes ix (one source's Index) the watched desired state of source:
// informers for kinds that appear are started, those no source needs any
// more are stopped. Watches select on label gitgate.dev/source=<source>.
//
// Call it after the Index has been applied and before what left Git is
// pruned (see the package doc). Objects whose manifest changed, and every
// object of a source tracked for the first time, are compared again; drift
// of keys the new Index no longer holds is dropped.
func (w *Watcher) Track(source string, ix *index.Index, mode Mode) {
	mode = normalize(mode)
	w.mu.Lock()
	t := w.sources[source]
	var recheck []index.Key
	switch {
	case t == nil:
		t = &tracked{drifted: map[index.Key]driftState{}}
		w.sources[source] = t
		for e := range ix.All() {
			recheck = append(recheck, e.Key)
		}
	case t.ix != ix:
		recheck = changedKeys(t.ix, ix)
		for k := range t.drifted {
			if _, ok := ix.Lookup(k); !ok {
				delete(t.drifted, k)
			}
		}
	}
	if t.mode != mode {
		// Switching to revert puts back what detect mode left drifted.
		for k := range t.drifted {
			recheck = append(recheck, k)
		}
	}
	t.ix, t.mode = ix, mode
	w.enqueueLocked(source, recheck)
	w.mu.Unlock()
	w.signal()
	w.notify(source)
}

// changedKeys returns the keys of next whose manifest differs from prev's.
func changedKeys(prev, next *index.Index) []index.Key {
	var keys []index.Key
	for e := range next.All() {
		old, ok := prev.Lookup(e.Key)
		if ok && (old.Object == e.Object || reflect.DeepEqual(old.Object.Object, e.Object.Object)) {
			continue
		}
		keys = append(keys, e.Key)
	}
	return keys
}

// enqueueLocked queues keys of source whose kind has a synced watch; the
// others are queued when their watch has synced. w.mu must be held.
func (w *Watcher) enqueueLocked(source string, keys []index.Key) {
	for _, k := range keys {
		if wt := w.watches[k.GroupKind()]; wt != nil && wt.synced.Load() && w.queue != nil {
			w.queue.Add(item{source: source, key: k})
		}
	}
}

// Forget stops watching source: its drift is dropped (OnChange is told 0)
// and informers no other source needs are stopped.
func (w *Watcher) Forget(source string) {
	w.mu.Lock()
	delete(w.sources, source)
	for it := range w.pending {
		if it.source == source {
			delete(w.pending, it)
		}
	}
	w.mu.Unlock()
	w.signal()
	w.notify(source)
}

// Drifted returns the number of objects of source that have drifted and
// are not put back: in detect mode every one until it conforms again or
// leaves the Index, in revert mode those whose revert failed and is being
// retried.
func (w *Watcher) Drifted(source string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	if t := w.sources[source]; t != nil {
		for _, st := range t.drifted {
			if st.shown {
				n++
			}
		}
	}
	return n
}

// NeedLeaderElection makes the manager run the Watcher on the leader only:
// one replica reverts.
func (w *Watcher) NeedLeaderElection() bool { return true }

// Start runs the watches and workers until ctx ends (manager.Runnable). A
// Watcher starts once.
func (w *Watcher) Start(ctx context.Context) error {
	w.mu.Lock()
	if w.started {
		w.mu.Unlock()
		return errors.New("drift: watcher already started")
	}
	w.started = true
	w.queue = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.NewTypedItemExponentialFailureRateLimiter[item](retryBase, retryMax),
		workqueue.TypedRateLimitingQueueConfig[item]{})
	queue := w.queue
	w.mu.Unlock()

	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() { w.work(ctx, queue) })
	}
	w.runWatches(ctx)
	queue.ShutDown()
	w.stopWatches()
	wg.Wait()
	return nil
}

// signal wakes the watch loop without blocking.
func (w *Watcher) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// notify tells OnChange the drifted count of source when it differs from
// the count last told. Calls are serialized, and each reads the current
// count, so the last call always carries the final value.
func (w *Watcher) notify(source string) {
	if w.opts.OnChange == nil {
		return
	}
	w.notifyMu.Lock()
	defer w.notifyMu.Unlock()
	n := w.Drifted(source)
	if w.reported[source] == n {
		return
	}
	if n == 0 {
		delete(w.reported, source)
	} else {
		w.reported[source] = n
	}
	w.opts.OnChange(source, n)
}
