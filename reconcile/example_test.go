package reconcile_test

import (
	"fmt"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/provenance/index"
	"gitgate.dev/gitgate/reconcile"
)

// scopePrinter is a Publisher; gitgate serve's hands the scope and policy
// of each source to the admission webhook instead.
type scopePrinter struct{}

func (scopePrinter) Publish(p reconcile.Published) {
	fmt.Printf("%s: %s, namespaces %v, kinds %v\n", p.Source, p.Repository, p.Namespaces, p.Kinds)
}

func (scopePrinter) Withdraw(source string) { fmt.Printf("%s withdrawn\n", source) }

// Example wires the reconciler into a manager, sharing its Store with
// whatever answers admission. It runs on every replica; only the elected
// leader applies.
func Example() {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		panic(err)
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		panic(err)
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, LeaderElection: true, LeaderElectionID: "gitgate-leader"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	store := index.NewStore() // the admission webhook reads store.Current()
	rec, err := reconcile.New(reconcile.Options{
		Client:     mgr.GetClient(),
		APIReader:  mgr.GetAPIReader(),
		Scheme:     scheme,
		RESTMapper: mgr.GetRESTMapper(),
		Config:     cfg,
		Store:      store,
		Publisher:  scopePrinter{},
		Namespace:  "gitgate-system",
		CacheDir:   "/var/cache/gitgate",
		Recorder:   mgr.GetEventRecorderFor("gitgate"), //nolint:staticcheck // Options.Recorder is a core/v1 record.EventRecorder, which this returns
		Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	if err := rec.SetupWithManager(mgr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	// A push receiver calls rec.Trigger(name); /readyz asks rec.Ready().
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}
