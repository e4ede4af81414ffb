package drift

import (
	"cmp"
	"context"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/provenance/index"
)

// watch is the informer of one group/kind.
type watch struct {
	gk         schema.GroupKind
	version    string
	resource   schema.GroupVersionResource
	namespaced bool
	informer   cache.SharedIndexInformer
	cancel     context.CancelFunc
	// done is closed when the informer has stopped.
	done chan struct{}
	// synced is set once the initial list is in the cache.
	synced atomic.Bool
}

// runWatches starts and stops informers as tracked indexes change, until
// ctx ends. Kinds whose resource cannot be resolved yet are retried with a
// backoff.
func (w *Watcher) runWatches(ctx context.Context) {
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	backoff := mappingRetryBase
	for {
		if w.syncWatches(ctx) {
			retry.Reset(backoff)
			backoff = min(2*backoff, mappingRetryMax)
		} else {
			retry.Stop()
			backoff = mappingRetryBase
		}
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-retry.C:
		}
	}
}

// syncWatches makes the running informers those the tracked indexes need.
// It reports whether some kind could not be resolved and wants a retry.
func (w *Watcher) syncWatches(ctx context.Context) (retry bool) {
	w.mu.Lock()
	want := w.wantedLocked()
	var stop []*watch
	for gk, wt := range w.watches {
		if v, ok := want[gk]; !ok || v != wt.version {
			stop = append(stop, wt)
			delete(w.watches, gk)
		}
	}
	start := map[schema.GroupKind]string{}
	for gk, v := range want {
		if w.watches[gk] == nil {
			start[gk] = v
		}
	}
	w.mu.Unlock()

	for _, wt := range stop {
		w.stopWatch(wt)
	}
	for gk, version := range start {
		mapping, err := w.opts.Mapper.RESTMapping(gk, version)
		if err != nil {
			w.log.V(1).Info("kind not resolvable yet, will retry", "kind", gk.String(), "version", version, "error", err.Error())
			retry = true
			continue
		}
		wt := w.newWatch(gk, version, mapping)
		w.mu.Lock()
		if v, ok := w.wantedLocked()[gk]; !ok || v != version || w.watches[gk] != nil {
			// Untracked while the mapping was resolved; the loop runs again
			// on the signal that came with it.
			w.mu.Unlock()
			continue
		}
		w.watches[gk] = wt
		w.mu.Unlock()
		w.runWatch(ctx, wt)
	}
	return retry
}

// wantedLocked returns the group/kinds the tracked indexes declare, each
// with the API version to watch it at: the version most of its manifests
// name (ties go to the smaller string), so that the choice does not flap.
// Manifests of another version are still read at their own version when a
// drift is confirmed. w.mu must be held.
func (w *Watcher) wantedLocked() map[schema.GroupKind]string {
	votes := map[schema.GroupKind]map[string]int{}
	for _, t := range w.sources {
		for e := range t.ix.All() {
			gk := e.Key.GroupKind()
			if votes[gk] == nil {
				votes[gk] = map[string]int{}
			}
			votes[gk][versionOf(e.Object)]++
		}
	}
	want := make(map[schema.GroupKind]string, len(votes))
	for gk, vs := range votes {
		best, n := "", -1
		for v, c := range vs {
			if c > n || c == n && cmp.Less(v, best) {
				best, n = v, c
			}
		}
		want[gk] = best
	}
	return want
}

func versionOf(obj *unstructured.Unstructured) string {
	gv, err := schema.ParseGroupVersion(obj.GetAPIVersion())
	if err != nil {
		return ""
	}
	return gv.Version
}

// newWatch builds the informer of gk: cluster-wide, label-selected on the
// source label, its cache stripped to what the comparison reads.
func (w *Watcher) newWatch(gk schema.GroupKind, version string, m *meta.RESTMapping) *watch {
	wt := &watch{
		gk:         gk,
		version:    version,
		resource:   m.Resource,
		namespaced: m.Scope.Name() == meta.RESTScopeNameNamespace,
		done:       make(chan struct{}),
	}
	wt.informer = dynamicinformer.NewFilteredDynamicInformer(w.dyn, m.Resource, metav1.NamespaceAll, 0, cache.Indexers{},
		func(o *metav1.ListOptions) { o.LabelSelector = v1alpha1.SourceLabel }).Informer()
	// Neither fails on an informer that has not run.
	_ = wt.informer.SetTransform(strip)
	_, _ = wt.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { w.observe(obj, nil) },
		UpdateFunc: func(oldObj, newObj any) {
			// A relist repeats unchanged objects; they were judged when
			// they changed, and Track rechecks what a new Index changes.
			if sameVersion(oldObj, newObj) {
				return
			}
			w.observe(newObj, oldObj)
		},
		DeleteFunc: func(obj any) { w.observe(obj, nil) },
	})
	return wt
}

// runWatch runs wt's informer until it is stopped or ctx ends; once the
// initial list is in, the keys it lacks are queued, so that objects deleted
// while nobody watched are found too.
func (w *Watcher) runWatch(ctx context.Context, wt *watch) {
	wctx, cancel := context.WithCancel(ctx)
	wt.cancel = cancel
	w.metrics.watches.Inc()
	w.log.V(1).Info("watch started", "resource", wt.resource.String())
	go func() {
		defer close(wt.done)
		wt.informer.RunWithContext(wctx)
	}()
	go func() {
		if !cache.WaitForCacheSync(wctx.Done(), wt.informer.HasSynced) {
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.watches[wt.gk] != wt {
			return
		}
		wt.synced.Store(true)
		for source, t := range w.sources {
			var missing []index.Key
			for e := range t.ix.All() {
				if e.Key.GroupKind() != wt.gk {
					continue
				}
				if _, ok, _ := wt.informer.GetStore().GetByKey(storeKey(e.Key)); !ok {
					missing = append(missing, e.Key)
				}
			}
			w.enqueueLocked(source, missing)
		}
	}()
}

// stopWatch stops wt's informer and waits until it has stopped.
func (w *Watcher) stopWatch(wt *watch) {
	wt.cancel()
	<-wt.done
	w.metrics.watches.Dec()
	w.log.V(1).Info("watch stopped", "resource", wt.resource.String())
}

// stopWatches stops every informer (the Watcher is stopping).
func (w *Watcher) stopWatches() {
	w.mu.Lock()
	all := make([]*watch, 0, len(w.watches))
	for gk, wt := range w.watches {
		all = append(all, wt)
		delete(w.watches, gk)
	}
	w.mu.Unlock()
	for _, wt := range all {
		w.stopWatch(wt)
	}
}

// storeKey is the informer cache key of the object k names.
func storeKey(k index.Key) string {
	if k.Namespace == "" {
		return k.Name
	}
	return k.Namespace + "/" + k.Name
}

// observe queues the object an event is about, for the source its label
// names, when that source's Index declares it. On an update that moved the
// label, the source the old object named is queued too: its object may have
// left it.
func (w *Watcher) observe(obj, old any) {
	arrival := w.now()
	u := asUnstructured(obj)
	if u == nil {
		return
	}
	key, err := index.KeyOf(u)
	if err != nil {
		return
	}
	sources := []string{u.GetLabels()[v1alpha1.SourceLabel]}
	if o := asUnstructured(old); o != nil {
		if s := o.GetLabels()[v1alpha1.SourceLabel]; s != sources[0] {
			sources = append(sources, s)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, source := range sources {
		t := w.sources[source]
		if t == nil {
			continue
		}
		if _, ok := t.ix.Lookup(key); !ok {
			continue
		}
		it := item{source: source, key: key}
		if _, ok := w.pending[it]; !ok {
			w.pending[it] = arrival
		}
		if w.queue != nil {
			w.queue.Add(it)
		}
	}
}

// asUnstructured unwraps an informer object, including the tombstone of a
// delete the watch missed.
func asUnstructured(obj any) *unstructured.Unstructured {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	u, _ := obj.(*unstructured.Unstructured)
	return u
}

func sameVersion(a, b any) bool {
	ua, ub := asUnstructured(a), asUnstructured(b)
	return ua != nil && ub != nil && ua.GetResourceVersion() != "" && ua.GetResourceVersion() == ub.GetResourceVersion()
}
