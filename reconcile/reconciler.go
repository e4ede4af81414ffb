package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/policy"
	"gitgate.dev/gitgate/provenance"
	"gitgate.dev/gitgate/provenance/index"
)

const (
	// fieldManager owns every field gitgate applies.
	fieldManager = "gitgate"
	// finalizer lets the leader see a GitSource's deletion (see the
	// package doc: the objects are orphaned, not deleted).
	finalizer = "gitgate.dev/prune"
	// defaultApplyConcurrency bounds parallel server-side applies: enough to
	// hide the API server's latency, few enough not to crowd out admission
	// traffic on a small control plane.
	defaultApplyConcurrency = 8
	// defaultInterval and defaultTimeout match the CRD's defaults, for
	// objects written before those defaults existed.
	defaultInterval = time.Minute
	defaultTimeout  = 60 * time.Second
	// minInterval keeps a typo such as "1ms" from turning the reconciler
	// into a busy loop against the Git server.
	minInterval = time.Second
	// defaultNamespace is where a namespaced object without
	// metadata.namespace goes, as with kubectl apply.
	defaultNamespace = "default"
	// maxConcurrentSyncs lets a slow fetch of one source not hold up the
	// others.
	maxConcurrentSyncs = 4
	// triggerBuffer is how many Trigger calls may wait for the controller
	// before further ones are dropped (a flood of pushes needs one fetch).
	triggerBuffer = 1024
)

// Options configure a Reconciler. Client, APIReader, RESTMapper and Store
// are required.
type Options struct {
	// Client is the manager's client: cached reads, server-side applies,
	// status patches.
	Client client.Client
	// APIReader reads uncached: Secrets in Namespace, the GitSource whose
	// status is the ledger, the prune sweep.
	APIReader client.Reader
	// Scheme has client-go's types and v1alpha1.
	Scheme *runtime.Scheme
	// RESTMapper tells namespaced kinds from cluster-scoped ones.
	RESTMapper meta.RESTMapper
	// Config reaches the API server for discovery (prune sweep) and the
	// drift watches; without it the sweep covers only the kinds the
	// source's Indexes hold.
	Config *rest.Config
	// Store is the desired state shared with the admission webhook.
	Store *index.Store
	// Publisher receives what admission needs about each source; optional.
	Publisher Publisher
	// Namespace is gitgate's own namespace, where credential Secrets live.
	Namespace string
	// CacheDir holds the Git clones (provenance.DefaultCacheDir when
	// empty).
	CacheDir string
	// Recorder records Events on GitSources; optional.
	Recorder record.EventRecorder
	// Registerer registers the sync metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Logger is the base logger.
	Logger logr.Logger
	// ApplyConcurrency bounds parallel server-side applies (default 8).
	ApplyConcurrency int
}

// Publisher receives, after each successful sync and on every replica,
// what admission needs about a source; Withdraw when the GitSource is gone.
type Publisher interface {
	Publish(p Published)
	Withdraw(source string)
}

// Published is what admission needs about one source besides its Index.
type Published struct {
	Source     string
	Repository string             // spec.url, named in denials
	Namespaces []string           // spec.scope.namespaces
	Kinds      []schema.GroupKind // spec.scope.kinds parsed ("Deployment.apps")
	Policy     *policy.Engine     // compiled in the admission profile; nil when none
}

// Reconciler syncs GitSources. Make one with New and register it with
// SetupWithManager.
type Reconciler struct {
	opts    Options
	log     logr.Logger
	metrics *metrics
	applier *applier
	drift   driftTracker
	// elected reports leadership; always true until SetupWithManager
	// connects it to the manager.
	elected func() bool
	now     func() time.Time
	events  chan event.GenericEvent

	mu      sync.Mutex
	sources map[string]*sourceState
}

// New checks opts and returns a Reconciler.
func New(opts Options) (*Reconciler, error) {
	switch {
	case opts.Client == nil:
		return nil, errors.New("reconcile: options need a Client")
	case opts.APIReader == nil:
		return nil, errors.New("reconcile: options need an APIReader")
	case opts.RESTMapper == nil:
		return nil, errors.New("reconcile: options need a RESTMapper")
	case opts.Store == nil:
		return nil, errors.New("reconcile: options need a Store")
	case opts.ApplyConcurrency < 0:
		return nil, fmt.Errorf("reconcile: apply concurrency %d is negative", opts.ApplyConcurrency)
	}
	if opts.ApplyConcurrency == 0 {
		opts.ApplyConcurrency = defaultApplyConcurrency
	}
	if opts.CacheDir == "" {
		dir, err := provenance.DefaultCacheDir()
		if err != nil {
			return nil, fmt.Errorf("reconcile: %w", err)
		}
		opts.CacheDir = dir
	}
	if opts.Recorder == nil {
		opts.Recorder = discardRecorder{}
	}
	if opts.Logger.GetSink() == nil {
		opts.Logger = logr.Discard()
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	return &Reconciler{
		opts:    opts,
		log:     opts.Logger,
		metrics: m,
		applier: newApplier(opts.Client, opts.APIReader, opts.ApplyConcurrency),
		elected: func() bool { return true },
		now:     time.Now,
		events:  make(chan event.GenericEvent, triggerBuffer),
		sources: map[string]*sourceState{},
	}, nil
}

// SetupWithManager registers the GitSource controller (runs on EVERY
// replica: NeedLeaderElection=false; fetch/verify/render/policy/publish
// happen on all replicas; apply, prune, status writes and drift revert only
// on the leader, gated on mgr.Elected()) and the drift watcher (a
// leader-only Runnable).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	elected := mgr.Elected()
	r.elected = func() bool {
		select {
		case <-elected:
			return true
		default:
			return false
		}
	}
	if err := r.setupDrift(mgr); err != nil {
		return err
	}
	// A replica that wins the election has published but never applied:
	// sync every source at once rather than at the next interval.
	if err := mgr.Add(&leaderKick{r: r}); err != nil {
		return fmt.Errorf("reconcile: add leader runnable: %w", err)
	}
	err := ctrl.NewControllerManagedBy(mgr).
		Named("gitsource").
		For(&v1alpha1.GitSource{}, builder.WithPredicates(predicate.Or[client.Object](
			predicate.GenerationChangedPredicate{}, deletionStarted(), syncRequested()))).
		WatchesRawSource(source.Channel(r.events, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{
			NeedLeaderElection:      ptr.To(false),
			MaxConcurrentReconciles: maxConcurrentSyncs,
		}).
		Complete(r)
	if err != nil {
		return fmt.Errorf("reconcile: register controller: %w", err)
	}
	return nil
}

// deletionStarted passes the update that sets a deletion timestamp; with
// GenerationChangedPredicate it filters out the updates that only our own
// status patches cause.
func deletionStarted() predicate.Funcs {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			return e.ObjectOld.GetDeletionTimestamp() == nil && e.ObjectNew.GetDeletionTimestamp() != nil
		},
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

// Trigger asks for an immediate reconcile of GitSource name (push
// receiver). It never blocks: when the controller is far behind, the
// trigger is dropped, since the fetch it asks for is queued already.
//
// The push that calls Trigger reaches one replica, which need not be the
// leader that applies; so Trigger also stamps SyncRequestedAnnotation on the
// GitSource, whose update makes every replica sync at once. The stamp is
// written in the background and its failure only logged: the local sync
// runs regardless, and the leader still syncs at its interval.
func (r *Reconciler) Trigger(name string) {
	stamp := r.now().UTC().Format(time.RFC3339Nano)
	r.state(name).request(stamp) // so this replica's own stamp does not sync it twice
	r.syncNow(name)
	go r.requestSync(name, stamp)
}

// syncNow makes this replica sync name at once.
func (r *Reconciler) syncNow(name string) {
	r.state(name).setForce()
	r.enqueue(name)
}

// SyncRequestedAnnotation on a GitSource asks every replica for an immediate
// sync when its value changes (`kubectl annotate gitsource NAME
// gitgate.dev/sync-requested-at="$(date)" --overwrite` does the same by hand).
const SyncRequestedAnnotation = "gitgate.dev/sync-requested-at"

// requestSyncTimeout bounds the annotation patch of one Trigger.
const requestSyncTimeout = 10 * time.Second

func (r *Reconciler) requestSync(name, stamp string) {
	ctx, cancel := context.WithTimeout(context.Background(), requestSyncTimeout)
	defer cancel()
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, SyncRequestedAnnotation, stamp)
	gs := &v1alpha1.GitSource{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := r.opts.Client.Patch(ctx, gs, client.RawPatch(types.MergePatchType, patch)); err != nil {
		r.log.Error(err, "request a sync on every replica", "gitsource", name)
	}
}

// syncRequested passes the update that changes SyncRequestedAnnotation.
func syncRequested() predicate.Funcs {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			return e.ObjectOld.GetAnnotations()[SyncRequestedAnnotation] != e.ObjectNew.GetAnnotations()[SyncRequestedAnnotation]
		},
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

func (r *Reconciler) enqueue(name string) {
	ev := event.GenericEvent{Object: &v1alpha1.GitSource{ObjectMeta: metav1.ObjectMeta{Name: name}}}
	select {
	case r.events <- ev:
	default:
		r.log.Info("reconcile queue full, trigger dropped", "gitsource", name)
	}
}

// Ready reports whether this replica can answer admission for every
// GitSource (for /readyz); true when there are none. A source counts as
// ready once it has an Index published by this process, or once a sync of
// this process has finished (successfully or not) while the source has
// nothing applied to protect (no status.lastAppliedCommit): a source that
// cannot be synced at all, such as one with a mistyped URL, must not keep
// every replica unready. A source that was applied but whose Index this
// process could neither sync nor restore (restoreApplied) keeps Ready
// false: admission would have no desired state for its objects. Suspended
// and deleted sources are left out: nothing will publish them.
func (r *Reconciler) Ready() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var list v1alpha1.GitSourceList
	if err := r.opts.Client.List(ctx, &list); err != nil {
		return false
	}
	for i := range list.Items {
		gs := &list.Items[i]
		if gs.Spec.Suspend || gs.DeletionTimestamp != nil {
			continue
		}
		if !r.sourceReady(gs) {
			return false
		}
	}
	return true
}

// sourceReady is Ready for one source.
func (r *Reconciler) sourceReady(gs *v1alpha1.GitSource) bool {
	if r.opts.Store.Source(gs.Name) != nil {
		return true
	}
	r.mu.Lock()
	st := r.sources[gs.Name]
	r.mu.Unlock()
	return st != nil && st.hasAttempted() && gs.Status.LastAppliedCommit == ""
}

// Reconcile syncs one GitSource when a sync is due and otherwise refreshes
// its drift status.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := r.log.WithValues("gitsource", req.Name)
	ctx = logr.NewContext(ctx, log)
	// Read through the API, not the cache: the status is the ledger and
	// the base of the status patch, and the cache may not have seen the
	// last patch yet.
	var gs v1alpha1.GitSource
	if err := r.opts.APIReader.Get(ctx, client.ObjectKey{Name: req.Name}, &gs); err != nil {
		if apierrors.IsNotFound(err) {
			r.withdraw(req.Name)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("get gitsource %s: %w", req.Name, err)
	}
	if gs.DeletionTimestamp != nil {
		return ctrl.Result{}, r.finalize(ctx, &gs)
	}
	leader := r.elected()
	if leader {
		if err := r.ensureFinalizer(ctx, &gs); err != nil {
			return ctrl.Result{}, err
		}
	}
	st := r.state(gs.Name)
	now := r.now()
	if gs.Spec.Suspend {
		return ctrl.Result{}, r.refreshStatus(ctx, &gs, st, leader)
	}
	if !st.due(gs.Generation, now, gs.Annotations[SyncRequestedAnnotation]) {
		if err := r.refreshStatus(ctx, &gs, st, leader); err != nil {
			return ctrl.Result{}, err
		}
		return ctrl.Result{RequeueAfter: st.untilNext(now)}, nil
	}
	s := &syncRun{gs: &gs, st: st, leader: leader, start: now}
	err := r.sync(ctx, s)
	return r.finish(ctx, s, err)
}

// steps is the sync, in order. Each step sees what the earlier ones left
// in the syncRun; the first failure ends the sync.
var steps = []struct {
	name string
	run  func(*Reconciler, context.Context, *syncRun) error
}{
	{"fetch", (*Reconciler).fetch},
	{"verify", (*Reconciler).verify},
	{"render", (*Reconciler).render},
	{"policy", (*Reconciler).checkPolicy},
	{"publish", (*Reconciler).publish},
	{"apply", (*Reconciler).apply},
	{"prune", (*Reconciler).prune},
}

// sync runs the steps. After a failure it publishes the last applied
// commit if this process has published nothing for the source
// (restoreApplied); after any outcome it forgets withdrawn objects that are
// gone (forgetGone). Neither changes the sync's result: their failures are
// logged, and the conditions report the step that failed.
func (r *Reconciler) sync(ctx context.Context, s *syncRun) error {
	defer s.close()
	log := logr.FromContextOrDiscard(ctx)
	err := r.runSteps(ctx, s)
	if err != nil {
		if rerr := r.restoreApplied(ctx, s); rerr != nil {
			log.Info("cannot publish the last applied commit", "error", rerr.Error())
		}
	}
	if ferr := r.forgetGone(ctx, s); ferr != nil {
		log.V(1).Info("withdrawn objects not looked up", "error", ferr.Error())
	}
	return err
}

func (r *Reconciler) runSteps(ctx context.Context, s *syncRun) error {
	log := logr.FromContextOrDiscard(ctx)
	for _, step := range steps {
		start := time.Now()
		err := step.run(r, ctx, s)
		log.V(1).Info("sync step", "step", step.name, "duration", time.Since(start).String(), "ok", err == nil)
		if err != nil {
			return err
		}
	}
	return nil
}

// state returns the in-memory state of source name, creating it.
func (r *Reconciler) state(name string) *sourceState {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, ok := r.sources[name]
	if !ok {
		st = newSourceState()
		r.sources[name] = st
	}
	return st
}

// withdraw forgets source name everywhere on this replica: the Store, the
// Publisher, the drift watch, the metrics and the in-memory state.
func (r *Reconciler) withdraw(name string) {
	r.mu.Lock()
	delete(r.sources, name)
	r.mu.Unlock()
	r.opts.Store.Remove(name)
	if r.opts.Publisher != nil {
		r.opts.Publisher.Withdraw(name)
	}
	if r.drift != nil {
		r.drift.Forget(name)
	}
	r.metrics.forget(name)
}

// finalize handles a GitSource being deleted: withdraw it, and on the
// leader let the deletion finish. The applied objects are orphaned.
func (r *Reconciler) finalize(ctx context.Context, gs *v1alpha1.GitSource) error {
	r.withdraw(gs.Name)
	if !r.elected() || !slices.Contains(gs.Finalizers, finalizer) {
		return nil
	}
	base := gs.DeepCopy()
	gs.Finalizers = slices.DeleteFunc(slices.Clone(gs.Finalizers), func(f string) bool { return f == finalizer })
	if err := r.opts.Client.Patch(ctx, gs, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("remove finalizer of gitsource %s: %w", gs.Name, err)
	}
	if r.opts.Recorder != nil {
		r.opts.Recorder.Event(gs, "Normal", "Withdrawn", "source withdrawn from admission and drift watching; its objects stay in the cluster")
	}
	return nil
}

func (r *Reconciler) ensureFinalizer(ctx context.Context, gs *v1alpha1.GitSource) error {
	if slices.Contains(gs.Finalizers, finalizer) {
		return nil
	}
	// The patch replaces the whole finalizer list, hence the optimistic
	// lock; a conflict (a Trigger's annotation, say) is retried on a fresh
	// read rather than failing the sync.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		base := gs.DeepCopy()
		gs.Finalizers = append(gs.Finalizers, finalizer)
		err := r.opts.Client.Patch(ctx, gs, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
		if apierrors.IsConflict(err) {
			if getErr := r.opts.APIReader.Get(ctx, client.ObjectKeyFromObject(gs), gs); getErr != nil {
				return getErr
			}
			if slices.Contains(gs.Finalizers, finalizer) {
				return nil
			}
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("add finalizer to gitsource %s: %w", gs.Name, err)
	}
	return nil
}

// leaderKick triggers every GitSource when this replica is elected.
type leaderKick struct{ r *Reconciler }

func (k *leaderKick) Start(ctx context.Context) error {
	var list v1alpha1.GitSourceList
	if err := k.r.opts.APIReader.List(ctx, &list); err != nil {
		// Not fatal: the interval brings every source round anyway.
		k.r.log.Error(err, "list gitsources after election")
		return nil
	}
	for i := range list.Items {
		k.r.syncNow(list.Items[i].Name)
	}
	return nil
}

func (k *leaderKick) NeedLeaderElection() bool { return true }

// discardRecorder drops Events when no recorder is configured.
type discardRecorder struct{}

func (discardRecorder) Event(runtime.Object, string, string, string)          {}
func (discardRecorder) Eventf(runtime.Object, string, string, string, ...any) {}
func (discardRecorder) AnnotatedEventf(runtime.Object, map[string]string, string, string, string, ...any) {
}
