package drift_test

import (
	"context"
	"os"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gitgate.dev/gitgate/provenance/index"
	"gitgate.dev/gitgate/reconcile/drift"
)

// ssaApplier reverts with server-side apply as gitgate, forcing ownership,
// as the reconciler applies.
type ssaApplier struct{ c client.Client }

func (a ssaApplier) Apply(ctx context.Context, obj *unstructured.Unstructured) error {
	return a.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj.DeepCopy()),
		client.FieldOwner("gitgate"), client.ForceOwnership)
}

// The reconciler creates one Watcher, runs it on the leader (it is a
// controller-runtime Runnable), and tracks each source's Index once it has
// been applied.
func Example() {
	var (
		cfg    *rest.Config    // the manager's config
		mapper meta.RESTMapper // the manager's RESTMapper
		c      client.Client   // the manager's client
		ix     *index.Index    // source "platform"'s Index, just applied
	)
	w, err := drift.New(drift.Options{
		Config:   cfg,
		Mapper:   mapper,
		Applier:  ssaApplier{c},
		AuditLog: os.Stdout,
		OnChange: func(source string, drifted int) {
			// write status.drifted of GitSource source
		},
	})
	if err != nil {
		return
	}
	w.Track("platform", ix, drift.Revert)
	// mgr.Add(w), or: go w.Start(ctx)
}
