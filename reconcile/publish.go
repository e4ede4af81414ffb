package reconcile

import (
	"context"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/policy"
	"gitgate.dev/gitgate/provenance/index"
)

// publish makes the new Index the source's desired state for admission.
func (r *Reconciler) publish(_ context.Context, s *syncRun) error {
	if s.unchanged {
		s.published = true
		return nil
	}
	prev, err := r.publishIndex(s.gs, s.st, s.ix, s.snap.Head, s.engine)
	if err != nil {
		return err
	}
	st := s.st
	st.published, st.publishedHead, st.publishedGen = s.ix, s.snap.Head, s.gs.Generation
	s.prev = prev
	s.published = true
	return nil
}

// publishIndex swaps ix, the Index of commit, into the Store as the desired
// state of gs, hands the scope and engine to the Publisher and returns the
// Index it replaced. The sync
// publishes a verified head this way, and restoreApplied the last applied
// commit.
func (r *Reconciler) publishIndex(gs *v1alpha1.GitSource, st *sourceState, ix *index.Index, commit string, engine *policy.Engine) (*index.Index, error) {
	kinds, err := parseKinds(gs.Spec.Scope.Kinds)
	if err != nil {
		return nil, fail("", reasonInvalidSpec, err)
	}
	prev := r.opts.Store.Source(gs.Name)
	if err := r.opts.Store.Publish(gs.Name, ix); err != nil {
		// Another source declares one of the objects: keep the last good
		// state of both.
		return nil, fail("", reasonConflict, err)
	}
	st.noteWithdrawn(prev, ix)
	if r.opts.Publisher != nil {
		r.opts.Publisher.Publish(Published{
			Source:     gs.Name,
			Repository: gs.Spec.URL,
			Namespaces: slices.Clone(gs.Spec.Scope.Namespaces),
			Kinds:      kinds,
			Policy:     engine,
		})
	}
	r.metrics.published(gs.Name, commit, ix.Len())
	return prev, nil
}

// parseKinds parses spec.scope.kinds: "Kind" for the core group,
// "Kind.group" otherwise (the CRD's pattern has checked the form; this is
// the second line of defence for objects written around it).
func parseKinds(kinds []string) ([]schema.GroupKind, error) {
	out := make([]schema.GroupKind, 0, len(kinds))
	for _, k := range kinds {
		gk := schema.ParseGroupKind(k)
		if gk.Kind == "" || !isKindName(gk.Kind) {
			return nil, fmt.Errorf("spec.scope.kinds: %q is not \"Kind\" or \"Kind.group\"", k)
		}
		out = append(out, gk)
	}
	return out, nil
}

// isKindName reports whether s is a Kubernetes kind: an upper-case letter,
// then letters and digits.
func isKindName(s string) bool {
	for i, c := range s {
		switch {
		case c >= 'A' && c <= 'Z':
		case i > 0 && (c >= 'a' && c <= 'z' || c >= '0' && c <= '9'):
		default:
			return false
		}
	}
	return s != ""
}

// sourceLabelSelector selects what source applied.
func sourceLabelSelector(source string) map[string]string {
	return map[string]string{v1alpha1.SourceLabel: source}
}
