package reconcile

import (
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/provenance/index"
	"gitgate.dev/gitgate/reconcile/drift"
)

// driftTracker is what the reconciler needs of the drift watcher.
type driftTracker interface {
	Track(source string, ix *index.Index, mode drift.Mode)
	Forget(source string)
}

var (
	_ driftTracker  = (*drift.Watcher)(nil)
	_ drift.Applier = (*applier)(nil)
)

// setupDrift creates the drift watcher, which reverts through the same
// applier as the sync, and adds it to the manager (it runs on the leader
// only). Without a rest.Config there is nothing to watch with.
func (r *Reconciler) setupDrift(mgr ctrl.Manager) error {
	if r.opts.Config == nil {
		return nil
	}
	w, err := drift.New(drift.Options{
		Config:     r.opts.Config,
		Mapper:     r.opts.RESTMapper,
		Applier:    r.applier,
		Recorder:   r.opts.Recorder,
		Registerer: r.opts.Registerer,
		Logger:     r.log.WithName("drift"),
		OnChange:   r.driftChanged,
	})
	if err != nil {
		return fmt.Errorf("reconcile: drift watcher: %w", err)
	}
	if err := mgr.Add(w); err != nil {
		return fmt.Errorf("reconcile: add drift watcher: %w", err)
	}
	r.drift = w
	return nil
}

// driftChanged is the drift watcher's OnChange: remember the count and let
// a reconcile write it to the status (the one place that sets conditions).
// A source this replica has forgotten is left alone.
func (r *Reconciler) driftChanged(source string, drifted int) {
	r.mu.Lock()
	st, ok := r.sources[source]
	r.mu.Unlock()
	if !ok {
		return
	}
	st.setDrifted(drifted)
	r.enqueue(source)
}

func driftModeOf(gs *v1alpha1.GitSource) drift.Mode {
	if gs.Spec.Drift == v1alpha1.DriftDetect {
		return drift.Detect
	}
	return drift.Revert
}
