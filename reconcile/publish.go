package reconcile

import (
	"context"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"gitgate.dev/gitgate/api/v1alpha1"
)

// publish makes the new Index the source's desired state for admission.
func (r *Reconciler) publish(_ context.Context, s *syncRun) error {
	if s.unchanged {
		s.published = true
		return nil
	}
	kinds, err := parseKinds(s.gs.Spec.Scope.Kinds)
	if err != nil {
		return fail("", reasonInvalidSpec, err)
	}
	s.prev = r.opts.Store.Source(s.name())
	if err := r.opts.Store.Publish(s.name(), s.ix); err != nil {
		// Another source declares one of the objects: keep the last good
		// state of both.
		return fail("", reasonConflict, err)
	}
	st := s.st
	st.published, st.publishedHead, st.publishedGen = s.ix, s.snap.Head, s.gs.Generation
	s.published = true
	if r.opts.Publisher != nil {
		r.opts.Publisher.Publish(Published{
			Source:     s.name(),
			Repository: s.gs.Spec.URL,
			Namespaces: slices.Clone(s.gs.Spec.Scope.Namespaces),
			Kinds:      kinds,
			Policy:     s.engine,
		})
	}
	r.metrics.published(s.name(), s.snap.Head, s.ix.Len())
	return nil
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
