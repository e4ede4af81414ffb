package drift

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/workqueue"

	"gitgate.dev/gitgate/provenance/conform"
	"gitgate.dev/gitgate/provenance/index"
)

// work takes keys off the queue until it shuts down. A key whose revert
// fails goes back with its backoff; one that conforms, or was put back,
// has its backoff reset.
func (w *Watcher) work(ctx context.Context, q workqueue.TypedRateLimitingInterface[item]) {
	for {
		it, shutdown := q.Get()
		if shutdown {
			return
		}
		arrival := w.takePending(it)
		if err := w.process(ctx, it, arrival); err != nil {
			if ctx.Err() == nil {
				w.log.Error(err, "drift not put back, will retry", "source", it.source, "object", it.key.String())
			}
			w.restorePending(it, arrival)
			q.AddRateLimited(it)
		} else {
			q.Forget(it)
		}
		q.Done(it)
	}
}

// takePending returns and clears the arrival of the first event queued for
// it since a worker last took it (zero when none: a recheck).
func (w *Watcher) takePending(it item) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	at := w.pending[it]
	delete(w.pending, it)
	return at
}

// restorePending keeps the earliest arrival for a key that will be retried,
// so the latency of a revert that needed retries counts from the edit.
func (w *Watcher) restorePending(it item, at time.Time) {
	if at.IsZero() {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, tracked := w.sources[it.source]; !tracked {
		return
	}
	if cur, ok := w.pending[it]; !ok || at.Before(cur) {
		w.pending[it] = at
	}
}

// detection is one drift of one object.
type detection struct {
	item  item
	entry index.Entry
	// live is the object as the API server returned it; nil when deleted.
	live    *unstructured.Unstructured
	diffs   []conform.Diff
	editor  *editor
	editAt  time.Time
	latency time.Duration
}

// process judges one object and reverts or reports its drift.
func (w *Watcher) process(ctx context.Context, it item, arrival time.Time) error {
	entry, mode, wt, ok := w.lookup(it)
	if !ok {
		w.clear(it)
		return nil
	}
	if wt == nil {
		// The kind's watch queues its keys once it has started.
		return nil
	}
	cached, exists, _ := wt.informer.GetStore().GetByKey(storeKey(it.key))
	switch {
	case exists:
		if u := asUnstructured(cached); u != nil && len(conform.Compare(entry.Object.Object, u.Object)) == 0 {
			w.clear(it)
			return nil
		}
	case !wt.synced.Load():
		// Not listed yet, or gone: the end of the initial list queues the
		// keys it lacks.
		return nil
	}
	// The cache may lag behind a write (the reconciler's own apply): only
	// what the API server returns now is drift.
	live, err := w.get(ctx, wt, entry)
	if err != nil {
		return err
	}
	d := &detection{item: it, entry: entry, live: live}
	if live != nil {
		if d.diffs = conform.Compare(entry.Object.Object, live.Object); len(d.diffs) == 0 {
			w.clear(it)
			return nil
		}
		d.editor = editorOf(live.Object)
	}
	if arrival.IsZero() {
		arrival = w.now()
	}
	d.editAt = editTime(d.editor, arrival)

	newly, tracked := w.mark(it, signature(d), mode == Detect)
	if !tracked {
		return nil
	}
	kind := it.key.GroupKind().String()
	if newly {
		w.metrics.detected.WithLabelValues(it.source, kind).Inc()
	}
	if mode == Detect {
		w.notify(it.source)
		if newly {
			w.report(ctx, d, actionDetected, nil)
		}
		return nil
	}
	if err := w.revert(ctx, wt, d); err != nil {
		w.show(it)
		if newly {
			w.report(ctx, d, actionFailed, err)
		}
		if d.secret() {
			// The error may quote what the request carried.
			return fmt.Errorf("revert %s: %s", it.key, d.errText(err))
		}
		return fmt.Errorf("revert %s: %w", it.key, err)
	}
	d.latency = max(w.now().Sub(d.editAt), 0)
	w.metrics.reverted.WithLabelValues(it.source, kind).Inc()
	w.metrics.latency.Observe(d.latency.Seconds())
	w.clear(it)
	w.report(ctx, d, actionReverted, nil)
	return nil
}

// lookup returns what it needs: its source's manifest and mode, and the
// watch of its kind. ok is false when the source is not tracked or its
// Index no longer declares the key.
func (w *Watcher) lookup(it item) (index.Entry, Mode, *watch, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.sources[it.source]
	if t == nil {
		return index.Entry{}, "", nil, false
	}
	e, ok := t.ix.Lookup(it.key)
	if !ok {
		return index.Entry{}, "", nil, false
	}
	return e, t.mode, w.watches[it.key.GroupKind()], true
}

// mark records it as drifted with signature sig, shown in Drifted when
// shown is set (or it was already). newly is true when it was not drifted,
// or drifted differently: a drift to count and report. tracked is false
// when its source or key went away meanwhile.
func (w *Watcher) mark(it item, sig string, shown bool) (newly, tracked bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.sources[it.source]
	if t == nil {
		return false, false
	}
	if _, ok := t.ix.Lookup(it.key); !ok {
		return false, false
	}
	prev, had := t.drifted[it.key]
	t.drifted[it.key] = driftState{sig: sig, shown: shown || prev.shown}
	return !had || prev.sig != sig, true
}

// show makes a drifted object count in Drifted (its revert failed), and
// tells OnChange.
func (w *Watcher) show(it item) {
	w.mu.Lock()
	t := w.sources[it.source]
	changed := false
	if t != nil {
		if st, ok := t.drifted[it.key]; ok && !st.shown {
			st.shown = true
			t.drifted[it.key] = st
			changed = true
		}
	}
	w.mu.Unlock()
	if changed {
		w.notify(it.source)
	}
}

// clear records that it conforms (or is no longer desired), and tells
// OnChange when that changed the count.
func (w *Watcher) clear(it item) {
	w.mu.Lock()
	t := w.sources[it.source]
	var shown bool
	if t != nil {
		if st, had := t.drifted[it.key]; had {
			shown = st.shown
			delete(t.drifted, it.key)
		}
	}
	w.mu.Unlock()
	if shown {
		w.notify(it.source)
	}
}

// resource returns the client of the object e declares, at e's own API
// version.
func (w *Watcher) resource(wt *watch, e index.Entry) (dynamic.ResourceInterface, error) {
	gvr, namespaced := wt.resource, wt.namespaced
	if v := versionOf(e.Object); v != wt.version {
		m, err := w.opts.Mapper.RESTMapping(wt.gk, v)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", schema.GroupVersionKind{Group: wt.gk.Group, Version: v, Kind: wt.gk.Kind}, err)
		}
		gvr, namespaced = m.Resource, m.Scope.Name() == meta.RESTScopeNameNamespace
	}
	if namespaced {
		return w.dyn.Resource(gvr).Namespace(e.Key.Namespace), nil
	}
	return w.dyn.Resource(gvr), nil
}

// get reads the object e declares from the API server; nil when it does
// not exist.
func (w *Watcher) get(ctx context.Context, wt *watch, e index.Entry) (*unstructured.Unstructured, error) {
	r, err := w.resource(wt, e)
	if err != nil {
		return nil, err
	}
	u, err := r.Get(ctx, e.Key.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", e.Key, err)
	}
	return u, nil
}

// revert puts the object back. Server-side apply restores every field Git
// sets but cannot remove what another manager added and owns (an extra
// container, port or env var in a list Git declares), so a drift with such
// items is reverted with one JSON merge patch of the Git manifest instead:
// it replaces the lists Git declares with Git's (the server defaults their
// items again) and merges the maps, leaving fields Git does not set alone.
// The patch carries the resourceVersion it was computed from, so a
// concurrent write makes it fail and be retried. What a merge patch cannot
// take out (a key added to an atomic map such as a Service's selector) the
// apply that follows does.
func (w *Watcher) revert(ctx context.Context, wt *watch, d *detection) error {
	if d.live == nil || !hasExtra(d.diffs) {
		return w.opts.Applier.Apply(ctx, d.entry.Object.DeepCopy())
	}
	patched, err := w.mergePatch(ctx, wt, d)
	if err != nil {
		return err
	}
	if len(conform.Compare(d.entry.Object.Object, patched.Object)) == 0 {
		return nil
	}
	return w.opts.Applier.Apply(ctx, d.entry.Object.DeepCopy())
}

func hasExtra(diffs []conform.Diff) bool {
	for _, df := range diffs {
		if df.Kind == conform.Extra {
			return true
		}
	}
	return false
}

// mergePatch writes the Git manifest over the live object with a JSON merge
// patch, field manager gitgate.
func (w *Watcher) mergePatch(ctx context.Context, wt *watch, d *detection) (*unstructured.Unstructured, error) {
	body, err := mergePatchBody(d.entry.Object.Object, d.live.GetResourceVersion())
	if err != nil {
		return nil, err
	}
	r, err := w.resource(wt, d.entry)
	if err != nil {
		return nil, err
	}
	u, err := r.Patch(ctx, d.entry.Key.Name, types.MergePatchType, body, metav1.PatchOptions{FieldManager: fieldManager})
	if err != nil {
		return nil, fmt.Errorf("merge patch %s: %w", d.entry.Key, err)
	}
	return u, nil
}

// serverMetadata are metadata fields the server owns; a merge patch must
// not carry them (Git manifests normally do not).
var serverMetadata = []string{"uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink"}

// mergePatchBody is the Git manifest as a JSON merge patch: without status
// and server metadata, with resourceVersion as the precondition, and
// without nulls, which in a merge patch would delete what Git leaves free.
func mergePatchBody(desired map[string]any, resourceVersion string) ([]byte, error) {
	if resourceVersion == "" {
		return nil, errors.New("merge patch without a resource version")
	}
	body, _ := dropNulls(desired).(map[string]any)
	if body == nil {
		return nil, errors.New("merge patch of an empty manifest")
	}
	delete(body, "status")
	md, _ := body["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		body["metadata"] = md
	}
	for _, f := range serverMetadata {
		delete(md, f)
	}
	md["resourceVersion"] = resourceVersion
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode merge patch: %w", err)
	}
	return b, nil
}

// dropNulls returns a copy of v without null map values.
func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if e != nil {
				out[k] = dropNulls(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = dropNulls(e)
		}
		return out
	default:
		return v
	}
}
