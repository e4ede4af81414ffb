// Package e2ereconcile runs the reconciler against the real kube-apiserver
// and etcd: GitSources pointing at file:// repositories with real signed
// commits made by git and ssh-keygen, synced by package reconcile inside a
// controller-runtime manager in this process.
package e2ereconcile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/provenance/gittest"
	"gitgate.dev/gitgate/provenance/index"
	"gitgate.dev/gitgate/reconcile"
	"gitgate.dev/gitgate/test/e2e/testenv"
)

func TestMain(m *testing.M) {
	root, err := testenv.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// controller-runtime's packages log through its global logger; without
	// one set they complain once on stderr.
	ctrl.SetLogger(testLogger())
	os.Exit(testenv.Run(m, testenv.Options{CRDDirectoryPaths: []string{filepath.Join(root, "charts", "gitgate", "crds")}}))
}

// testLogger logs to stderr with GITGATE_E2E_LOG=1 (verbosity from its
// value), and discards otherwise: a manager's goroutines may log after the
// test that started them has ended, which testr does not allow.
func testLogger() logr.Logger {
	v := os.Getenv("GITGATE_E2E_LOG")
	if v == "" {
		return logr.Discard()
	}
	verbosity := 0
	_, _ = fmt.Sscanf(v, "%d", &verbosity)
	return funcr.New(func(prefix, args string) { fmt.Fprintln(os.Stderr, prefix, args) }, funcr.Options{Verbosity: verbosity - 1})
}

// gitgateNamespace is where credential Secrets would live.
const gitgateNamespace = "gitgate-system"

// waitTimeout bounds every wait for the reconciler. A sync of these small
// repositories takes well under a second; the bound is for a loaded CI
// machine, not a performance target.
const waitTimeout = 60 * time.Second

func newScheme(t testing.TB) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// cluster is the suite's view of the API server: an uncached client and
// a clientset for Events.
type cluster struct {
	env    *testenv.Env
	client client.Client
	kube   kubernetes.Interface
	scheme *runtime.Scheme
}

func newCluster(t testing.TB) *cluster {
	t.Helper()
	env := testenv.Require(t)
	scheme := newScheme(t)
	c, err := client.New(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	kube, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{env: env, client: c, kube: kube, scheme: scheme}
}

// controller is one gitgate reconciler process: a manager with the
// GitSource controller, its own Store and clone cache.
type controller struct {
	rec      *reconcile.Reconciler
	store    *index.Store
	pub      *publisher
	reg      *prometheus.Registry
	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once
}

// startController starts a reconciler; stop ends it (also at cleanup).
func (c *cluster) startController(t testing.TB, cacheDir string) *controller {
	t.Helper()
	mgr, err := ctrl.NewManager(c.env.Config, ctrl.Options{
		Scheme:                 c.scheme,
		Logger:                 testLogger(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// One process per test (and two for the restart): the controller
		// name repeats within this test binary.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: c.kube.CoreV1().Events("")})
	ctl := &controller{store: index.NewStore(), pub: &publisher{}, reg: prometheus.NewRegistry(), done: make(chan error, 1)}
	ctl.rec, err = reconcile.New(reconcile.Options{
		Client:     mgr.GetClient(),
		APIReader:  mgr.GetAPIReader(),
		Scheme:     c.scheme,
		RESTMapper: mgr.GetRESTMapper(),
		Config:     c.env.Config,
		Store:      ctl.store,
		Publisher:  ctl.pub,
		Namespace:  gitgateNamespace,
		CacheDir:   cacheDir,
		Recorder:   broadcaster.NewRecorder(c.scheme, corev1.EventSource{Component: "gitgate"}),
		Registerer: ctl.reg,
		Logger:     testLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ctl.rec.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ctl.cancel = cancel
	go func() { ctl.done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		ctl.stop(t)
		broadcaster.Shutdown()
	})
	return ctl
}

// stop ends the manager and waits for it; calling it twice is harmless.
func (ctl *controller) stop(t testing.TB) {
	t.Helper()
	ctl.stopOnce.Do(func() {
		ctl.cancel()
		select {
		case err := <-ctl.done:
			if err != nil {
				t.Errorf("manager: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("manager did not stop within 30s")
		}
	})
}

// publisher records what the reconciler hands to admission.
type publisher struct {
	mu        sync.Mutex
	published map[string]reconcile.Published
}

func (p *publisher) Publish(pub reconcile.Published) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.published == nil {
		p.published = map[string]reconcile.Published{}
	}
	p.published[pub.Source] = pub
}

func (p *publisher) Withdraw(source string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.published, source)
}

func (p *publisher) get(source string) (reconcile.Published, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pub, ok := p.published[source]
	return pub, ok
}

// signedRepo is a repository whose trust policy lets alice change
// everything and bob everything but the trust policy.
type signedRepo struct {
	*gittest.Repo
	alice, bob *gittest.Signer
	root       string
}

func newSignedRepo(t testing.TB) *signedRepo {
	t.Helper()
	r := gittest.NewRepo(t)
	alice := gittest.NewSSHSigner(t, "alice")
	bob := gittest.NewSSHSigner(t, "bob")
	r.WriteFile(".gitgate/trust.yaml", fmt.Sprintf(`version: 1
signers:
  alice:
    keys:
      - ssh: %q
  bob:
    keys:
      - ssh: %q
rules:
  - paths: [".gitgate/**"]
    signers: [alice]
  - paths: ["**"]
    signers: [alice, bob]
`, alice.PublicKey(), bob.PublicKey()))
	root := r.Commit("trust root", nil)
	return &signedRepo{Repo: r, alice: alice, bob: bob, root: root}
}

func (r *signedRepo) url() string { return "file://" + r.Dir }

// createSource creates a GitSource for repo and deletes it at cleanup
// (removing the finalizer first, so no controller is needed for that).
func (c *cluster) createSource(t testing.TB, name string, repo *signedRepo, mutate func(*v1alpha1.GitSource)) *v1alpha1.GitSource {
	t.Helper()
	gs := &v1alpha1.GitSource{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.GitSourceSpec{
			URL: repo.url(), Branch: "main", TrustRoot: repo.root,
			// Short, so that a missed Trigger costs a second, not a minute.
			Interval: metav1.Duration{Duration: time.Second},
		},
	}
	if mutate != nil {
		mutate(gs)
	}
	if err := c.client.Create(t.Context(), gs); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.deleteSource(t, name) })
	return gs
}

func (c *cluster) deleteSource(t testing.TB, name string) {
	t.Helper()
	ctx := context.Background()
	gs := &v1alpha1.GitSource{}
	if err := c.client.Get(ctx, client.ObjectKey{Name: name}, gs); err != nil {
		return
	}
	base := gs.DeepCopy()
	gs.Finalizers = nil
	if err := c.client.Patch(ctx, gs, client.MergeFrom(base)); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("remove finalizers of %s: %v", name, err)
	}
	if err := c.client.Delete(ctx, gs); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("delete gitsource %s: %v", name, err)
	}
}

func (c *cluster) source(t testing.TB, name string) *v1alpha1.GitSource {
	t.Helper()
	gs := &v1alpha1.GitSource{}
	if err := c.client.Get(t.Context(), client.ObjectKey{Name: name}, gs); err != nil {
		t.Fatal(err)
	}
	return gs
}

// waitSource polls the GitSource until ok accepts it and returns it; on
// timeout it fails with the last status seen.
func (c *cluster) waitSource(t testing.TB, name, what string, ok func(*v1alpha1.GitSource) bool) *v1alpha1.GitSource {
	t.Helper()
	var last *v1alpha1.GitSource
	err := poll(t.Context(), waitTimeout, func() (bool, error) {
		gs := &v1alpha1.GitSource{}
		if err := c.client.Get(t.Context(), client.ObjectKey{Name: name}, gs); err != nil {
			return false, err
		}
		last = gs
		return ok(gs), nil
	})
	if err != nil {
		t.Fatalf("gitsource %s: waiting for %s: %v\nlast status: %s", name, what, err, describeStatus(last))
	}
	return last
}

func describeStatus(gs *v1alpha1.GitSource) string {
	if gs == nil {
		return "(none)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "verified=%s applied=%s objects=%d", gs.Status.LastVerifiedCommit, gs.Status.LastAppliedCommit, gs.Status.Objects)
	for _, c := range gs.Status.Conditions {
		fmt.Fprintf(&b, "\n  %s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message)
	}
	return b.String()
}

// conditionIs accepts a GitSource whose condition typ has status and
// reason, and whose message contains every part.
func conditionIs(typ string, status metav1.ConditionStatus, reason string, parts ...string) func(*v1alpha1.GitSource) bool {
	return func(gs *v1alpha1.GitSource) bool {
		c := meta.FindStatusCondition(gs.Status.Conditions, typ)
		if c == nil || c.Status != status || c.Reason != reason {
			return false
		}
		for _, p := range parts {
			if !strings.Contains(c.Message, p) {
				return false
			}
		}
		return true
	}
}

// appliedAt accepts a GitSource that is Ready with commit applied.
func appliedAt(commit string) func(*v1alpha1.GitSource) bool {
	ready := conditionIs(v1alpha1.ConditionReady, metav1.ConditionTrue, "Succeeded")
	return func(gs *v1alpha1.GitSource) bool {
		return ready(gs) && gs.Status.LastAppliedCommit == commit
	}
}

// poll calls f every 100 ms until it returns true, an error, or timeout.
func poll(ctx context.Context, timeout time.Duration, f func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := f()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.New("timed out")
		case <-tick.C:
		}
	}
}

// waitEvent waits for an Event on GitSource name with reason whose message
// contains part.
func (c *cluster) waitEvent(t testing.TB, name, eventType, reason, part string) {
	t.Helper()
	var seen []string
	err := poll(t.Context(), waitTimeout, func() (bool, error) {
		list, err := c.kube.CoreV1().Events("").List(t.Context(), metav1.ListOptions{
			FieldSelector: "involvedObject.kind=GitSource,involvedObject.name=" + name,
		})
		if err != nil {
			return false, err
		}
		seen = seen[:0]
		for _, e := range list.Items {
			seen = append(seen, e.Type+" "+e.Reason+": "+e.Message)
			if e.Type == eventType && e.Reason == reason && strings.Contains(e.Message, part) {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no %s Event %s containing %q on gitsource %s: %v; events: %q", eventType, reason, part, name, err, seen)
	}
}

// short abbreviates a SHA as the reconciler's messages do.
func short(sha string) string { return sha[:12] }
