package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/provenance/index"
)

// pruneTarget is an object to delete: its identity and a served version to
// reach it by.
type pruneTarget struct {
	key index.Key
	gvk schema.GroupVersionKind
	// swept: found by the label sweep rather than taken from an Index, so
	// it is deleted only if gitgate's field manager applied it.
	swept bool
}

// prune deletes what left Git, then lets the Store forget it. It runs
// after a successful apply on the leader.
func (r *Reconciler) prune(ctx context.Context, s *syncRun) error {
	if !s.appliedNow {
		return nil
	}
	st := s.st
	if pruneEnabled(s.gs) {
		targets := removedTargets(s.ix, s.prev, st.appliedIx)
		if !st.swept {
			found, err := r.sweep(ctx, s)
			if err != nil {
				return fail(v1alpha1.ConditionApplied, reasonPruneFailed, err)
			}
			targets = mergeTargets(targets, found)
		}
		n, err := r.deleteTargets(ctx, s.name(), targets)
		s.pruned = n
		if err != nil {
			return fail(v1alpha1.ConditionApplied, reasonPruneFailed, err)
		}
		st.swept = true
		keys := make([]index.Key, len(targets))
		for i, t := range targets {
			keys[i] = t.key
			delete(st.withdrawn, t.key)
		}
		r.opts.Store.Forget(s.name(), keys...)
	}
	st.appliedIx, st.appliedHead, st.appliedGen = s.ix, s.snap.Head, s.gs.Generation
	return nil
}

func pruneEnabled(gs *v1alpha1.GitSource) bool {
	return gs.Spec.Prune == nil || *gs.Spec.Prune
}

// removedTargets lists the objects of the earlier indexes that ix no
// longer declares.
func removedTargets(ix *index.Index, earlier ...*index.Index) []pruneTarget {
	var out []pruneTarget
	seen := map[index.Key]bool{}
	for _, prev := range earlier {
		if prev == nil || prev == ix {
			continue
		}
		for _, e := range ix.Removed(prev) {
			if seen[e.Key] {
				continue
			}
			seen[e.Key] = true
			out = append(out, pruneTarget{key: e.Key, gvk: e.Object.GroupVersionKind()})
		}
	}
	return out
}

func mergeTargets(a, b []pruneTarget) []pruneTarget {
	seen := map[index.Key]bool{}
	for _, t := range a {
		seen[t.key] = true
	}
	for _, t := range b {
		if !seen[t.key] {
			seen[t.key] = true
			a = append(a, t)
		}
	}
	return a
}

// sweep finds objects labelled as this source's that the Index does not
// declare, for what an earlier process applied and this one never saw in
// an Index. With a rest.Config it lists every listable kind once; without
// one, the kinds this process applied.
func (r *Reconciler) sweep(ctx context.Context, s *syncRun) ([]pruneTarget, error) {
	gvks, err := r.sweepKinds(s.st)
	if err != nil {
		return nil, err
	}
	var out []pruneTarget
	for _, gvk := range gvks {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		err := r.opts.APIReader.List(ctx, list, client.MatchingLabels(sourceLabelSelector(s.name())))
		if err != nil {
			if skippableListError(err) {
				continue
			}
			return nil, fmt.Errorf("list %s labelled %s=%s: %w", gvk.Kind, v1alpha1.SourceLabel, s.name(), err)
		}
		for i := range list.Items {
			item := &list.Items[i]
			key := index.Key{Group: gvk.Group, Kind: gvk.Kind, Namespace: item.Namespace, Name: item.Name}
			if _, declared := s.ix.Lookup(key); declared || !appliedByGitgate(item) {
				continue
			}
			out = append(out, pruneTarget{key: key, gvk: gvk, swept: true})
		}
	}
	return out, nil
}

// skippableListError: a kind the sweep may not or cannot list (RBAC keeps
// gitgate to the kinds it may apply; aggregated APIs come and go) holds
// nothing gitgate applied.
func skippableListError(err error) bool {
	return apierrors.IsForbidden(err) || apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err)
}

// sweepKinds returns the kinds to sweep: every kind the API server serves
// that can be listed and deleted, or, without discovery, those applied.
func (r *Reconciler) sweepKinds(st *sourceState) ([]schema.GroupVersionKind, error) {
	if r.opts.Config != nil {
		return r.discoverKinds()
	}
	var out []schema.GroupVersionKind
	for gk := range st.appliedKinds {
		m, err := r.opts.RESTMapper.RESTMapping(gk)
		if err != nil {
			continue // no longer served: nothing of it is left to delete
		}
		out = append(out, m.GroupVersionKind)
	}
	slices.SortFunc(out, func(a, b schema.GroupVersionKind) int { return strings.Compare(a.String(), b.String()) })
	return out, nil
}

func (r *Reconciler) discoverKinds() ([]schema.GroupVersionKind, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(r.opts.Config)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	lists, err := dc.ServerPreferredResources()
	// A group that fails discovery (an aggregated API that is down) is
	// left out; the rest is still swept.
	if err != nil && len(lists) == 0 {
		return nil, fmt.Errorf("discover served kinds: %w", err)
	}
	var out []schema.GroupVersionKind
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, res := range l.APIResources {
			if strings.Contains(res.Name, "/") || !slices.Contains(res.Verbs, "list") || !slices.Contains(res.Verbs, "delete") {
				continue
			}
			// Events are never applied from Git, and there are many.
			if res.Kind == "Event" {
				continue
			}
			out = append(out, gv.WithKind(res.Kind))
		}
	}
	return out, nil
}

// appliedByGitgate reports whether gitgate's field manager applied obj: a
// controller that copies labels onto objects it makes must not get them
// pruned.
func appliedByGitgate(obj *metav1.PartialObjectMetadata) bool {
	for _, f := range obj.ManagedFields {
		if f.Manager == fieldManager && f.Operation == metav1.ManagedFieldsOperationApply {
			return true
		}
	}
	return false
}

// deleteTargets deletes the targets, other kinds first, then CRDs, then
// Namespaces (the reverse of apply), and returns how many it deleted.
func (r *Reconciler) deleteTargets(ctx context.Context, source string, targets []pruneTarget) (int, error) {
	var phases [3][]pruneTarget
	for _, t := range targets {
		switch t.key.GroupKind() {
		case namespaceKind:
			phases[2] = append(phases[2], t)
		case crdKind:
			phases[1] = append(phases[1], t)
		default:
			phases[0] = append(phases[0], t)
		}
	}
	deleted := 0
	for _, phase := range phases {
		done := make([]bool, len(phase))
		errs := forEach(ctx, len(phase), r.opts.ApplyConcurrency, func(ctx context.Context, i int) error {
			ok, err := r.deleteTarget(ctx, source, phase[i])
			done[i] = ok
			return err
		})
		for _, ok := range done {
			if ok {
				deleted++
			}
		}
		if err := joinBounded(errs, len(targets), maxApplyErrorsShown); err != nil {
			return deleted, fmt.Errorf("prune: %w", err)
		}
	}
	return deleted, nil
}

// deleteTarget deletes one object if it is still this source's, with
// background propagation, and reports whether it did.
func (r *Reconciler) deleteTarget(ctx context.Context, source string, t pruneTarget) (bool, error) {
	obj := &metav1.PartialObjectMetadata{}
	obj.SetGroupVersionKind(t.gvk)
	err := r.opts.APIReader.Get(ctx, client.ObjectKey{Namespace: t.key.Namespace, Name: t.key.Name}, obj)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("get %s: %w", t.key, err)
	}
	// Another source may have taken the object over since (its Index now
	// declares it and its apply relabelled it).
	if obj.Labels[v1alpha1.SourceLabel] != source || (t.swept && !appliedByGitgate(obj)) {
		return false, nil
	}
	uid := obj.UID
	err = r.opts.Client.Delete(ctx, obj, client.PropagationPolicy(metav1.DeletePropagationBackground), client.Preconditions{UID: &uid})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("delete %s: %w", t.key, err)
	}
	return true, nil
}
