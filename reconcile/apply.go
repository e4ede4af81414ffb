package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/provenance/index"
)

var namespaceKind = schema.GroupKind{Kind: "Namespace"}

const (
	// establishTimeout bounds the wait for a new CRD to be served. The
	// API server establishes a CRD within a second or two; a CRD that is
	// not established after a minute has a problem the status should show.
	establishTimeout = time.Minute
	// establishPoll is how often the wait looks.
	establishPoll = 100 * time.Millisecond
	// maxApplyErrorsShown bounds the failures the Applied condition lists.
	maxApplyErrorsShown = 5
)

// applier puts desired manifests into the cluster with server-side apply.
// It implements the drift watcher's Applier, so a drift revert is exactly
// an apply of the Git manifest.
type applier struct {
	client      client.Client
	reader      client.Reader
	concurrency int
	timeout     time.Duration
	// apply applies one object; server-side apply, replaced in tests.
	apply func(ctx context.Context, obj *unstructured.Unstructured) error
}

func newApplier(c client.Client, reader client.Reader, concurrency int) *applier {
	a := &applier{client: c, reader: reader, concurrency: concurrency, timeout: establishTimeout}
	a.apply = a.serverSideApply
	return a
}

// Apply applies obj (server-side apply, field manager gitgate, forced).
// obj is not changed.
func (a *applier) Apply(ctx context.Context, obj *unstructured.Unstructured) error {
	return a.apply(ctx, obj)
}

func (a *applier) serverSideApply(ctx context.Context, obj *unstructured.Unstructured) error {
	// The client writes the response into the object; the Index's
	// manifests are shared and read-only.
	u := obj.DeepCopy()
	if err := a.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
		client.FieldOwner(fieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("apply %s: %w", describe(obj), err)
	}
	return nil
}

// applyIndex applies every object of ix: Namespaces, then CRDs (waiting
// until they are served), then the rest in parallel. A phase that fails
// stops the later ones, whose objects would fail for want of their
// namespace or kind.
func (a *applier) applyIndex(ctx context.Context, ix *index.Index) error {
	var namespaces, crds, rest []*unstructured.Unstructured
	for e := range ix.All() {
		switch e.Key.GroupKind() {
		case namespaceKind:
			namespaces = append(namespaces, e.Object)
		case crdKind:
			crds = append(crds, e.Object)
		default:
			rest = append(rest, e.Object)
		}
	}
	total := ix.Len()
	if err := a.applyAll(ctx, namespaces, total); err != nil {
		return err
	}
	if err := a.applyAll(ctx, crds, total); err != nil {
		return err
	}
	if err := a.waitEstablished(ctx, crds); err != nil {
		return err
	}
	return a.applyAll(ctx, rest, total)
}

func (a *applier) applyAll(ctx context.Context, objs []*unstructured.Unstructured, total int) error {
	errs := forEach(ctx, len(objs), a.concurrency, func(ctx context.Context, i int) error {
		return a.apply(ctx, objs[i])
	})
	return joinBounded(errs, total, maxApplyErrorsShown)
}

// waitEstablished waits until every CRD reports Established, so that the
// objects of its kind can be applied. The RESTMapper needs no reset: it
// rediscovers a group when asked for a kind it does not know.
func (a *applier) waitEstablished(ctx context.Context, crds []*unstructured.Unstructured) error {
	for _, crd := range crds {
		name := crd.GetName()
		gvk := crd.GroupVersionKind()
		err := wait.PollUntilContextTimeout(ctx, establishPoll, a.timeout, true, func(ctx context.Context) (bool, error) {
			live := &unstructured.Unstructured{}
			live.SetGroupVersionKind(gvk)
			if err := a.reader.Get(ctx, client.ObjectKey{Name: name}, live); err != nil {
				if apierrors.IsNotFound(err) {
					return false, nil
				}
				return false, err
			}
			return established(live), nil
		})
		if err != nil {
			return fmt.Errorf("CustomResourceDefinition %s is not established: %w", name, err)
		}
	}
	return nil
}

func established(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// joinBounded joins errs into one error that names the first few.
func joinBounded(errs []error, total, shown int) error {
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, 0, shown+1)
	for i, err := range errs {
		if i == shown {
			msgs = append(msgs, fmt.Sprintf("and %d more", len(errs)-i))
			break
		}
		msgs = append(msgs, err.Error())
	}
	return fmt.Errorf("%d of %d objects failed: %w", len(errs), total, errors.New(strings.Join(msgs, "; ")))
}

// describe names an object for messages: "Deployment.apps web/frontend".
func describe(obj *unstructured.Unstructured) string {
	if k, err := index.KeyOf(obj); err == nil {
		return k.String()
	}
	return obj.GetKind() + " " + obj.GetName()
}

// apply is the apply step: leader only, and only when the Index changed
// since this replica last applied it.
func (r *Reconciler) apply(ctx context.Context, s *syncRun) error {
	if !s.leader {
		return nil
	}
	st := s.st
	if st.appliedIx == s.ix && st.appliedHead == s.snap.Head && st.appliedGen == s.gs.Generation {
		s.applied = true
		return nil
	}
	// The drift watcher judges every write against the Index it tracks:
	// left on the old Index during the apply, it would take each change of
	// the new commit for drift and put the old state back; moved to the new
	// Index before, it would report every not-yet-applied change as drift.
	// So the source is not watched while its apply runs, and the new watch
	// starts with a full list that finds any drift made meanwhile.
	if r.drift != nil {
		r.drift.Forget(s.name())
	}
	err := r.applier.applyIndex(ctx, s.ix)
	if r.drift != nil {
		// Tracked even after a failed apply: the Index is published, so
		// the new state is desired and the watcher converges on it.
		r.drift.Track(s.name(), s.ix, driftModeOf(s.gs))
	}
	if err != nil {
		return fail(v1alpha1.ConditionApplied, reasonApplyFailed, err)
	}
	for _, gk := range s.ix.Kinds() {
		st.appliedKinds[gk] = true
	}
	s.applied, s.appliedNow = true, true
	return nil
}
