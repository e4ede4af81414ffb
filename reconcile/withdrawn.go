package reconcile

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/provenance/index"
)

// forgetGone drops from the Store's withdrawn set the keys this replica
// withdrew whose objects are gone, or no longer this source's.
//
// The Store lists a key as withdrawn from the publish that removed it from
// Git until Forget, so that admission lets the prune's DELETE (and the
// finalizer updates that follow) through. The leader forgets what it
// pruned; the other replicas never prune, and would keep the keys until a
// later commit declared them again. Every replica therefore looks the
// remaining keys up after each sync and forgets those whose object is
// gone (the leader deleted it, or it never existed), whose kind is no
// longer served, or that another source or nobody labels any more (the
// leader forgets those too, without deleting them). Looking the object up
// cannot forget too early, whichever replica is ahead: an object that
// still exists and carries the label stays withdrawn until it is deleted.
// With prune disabled nothing is deleted, and the keys stay withdrawn, as
// on the leader.
func (r *Reconciler) forgetGone(ctx context.Context, s *syncRun) error {
	st := s.st
	if len(st.withdrawn) == 0 || !pruneEnabled(s.gs) {
		return nil
	}
	keys := make([]index.Key, 0, len(st.withdrawn))
	gvks := make([]schema.GroupVersionKind, 0, len(st.withdrawn))
	for k, gvk := range st.withdrawn {
		keys = append(keys, k)
		gvks = append(gvks, gvk)
	}
	gone := make([]bool, len(keys))
	errs := forEach(ctx, len(keys), r.opts.ApplyConcurrency, func(ctx context.Context, i int) error {
		var err error
		gone[i], err = r.objectGone(ctx, s.name(), keys[i], gvks[i])
		return err
	})
	var forget []index.Key
	for i, k := range keys {
		if gone[i] {
			forget = append(forget, k)
			delete(st.withdrawn, k)
		}
	}
	if len(forget) > 0 {
		r.opts.Store.Forget(s.name(), forget...)
	}
	if err := joinBounded(errs, len(keys), maxApplyErrorsShown); err != nil {
		return fmt.Errorf("look up withdrawn objects: %w", err)
	}
	return nil
}

// objectGone reports whether the object of withdrawn key k (reached as
// gvk) no longer exists as an object of source.
func (r *Reconciler) objectGone(ctx context.Context, source string, k index.Key, gvk schema.GroupVersionKind) (bool, error) {
	obj := &metav1.PartialObjectMetadata{}
	obj.SetGroupVersionKind(gvk)
	err := r.opts.APIReader.Get(ctx, client.ObjectKey{Namespace: k.Namespace, Name: k.Name}, obj)
	switch {
	case apierrors.IsNotFound(err), meta.IsNoMatchError(err):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("get %s: %w", k, err)
	}
	return obj.Labels[v1alpha1.SourceLabel] != source, nil
}
