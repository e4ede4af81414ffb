package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/provenance/index"
	"gitgate.dev/gitgate/reconcile"
	"gitgate.dev/gitgate/reconcile/receiver"
	"gitgate.dev/gitgate/webhook"
)

// eventSource is the component name on the Events gitgate records.
const eventSource = "gitgate"

// selfReviewTimeout bounds the one SelfSubjectReview at start.
const selfReviewTimeout = 10 * time.Second

// receiverGrace bounds the shutdown of the push receiver: its requests
// only check a signature and queue a fetch.
const receiverGrace = 2 * time.Second

// NewScheme returns the scheme gitgate's clients use: client-go's types and
// GitSource.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("scheme: %w", err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("scheme: %w", err)
	}
	return s, nil
}

// Run is `gitgate serve`: the admission webhook (on every replica), the
// reconciler (applying on the leader only), the push receiver and the
// metrics and health endpoints, against the API server restCfg reaches,
// until ctx ends. A configuration error wraps ErrInvalidConfig and nothing
// is started. At the end of ctx readiness turns false first, then
// admission requests in flight drain, then the controllers stop, all
// within cfg.ShutdownTimeout. Run returns nil after a clean shutdown and an
// error when a component failed (and the others were stopped).
func Run(ctx context.Context, cfg Config, restCfg *rest.Config, log logr.Logger) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if restCfg == nil {
		return fmt.Errorf("%w: no API server configuration", ErrInvalidConfig)
	}
	if log.GetSink() == nil {
		log = logr.Discard()
	}
	p, err := newProcess(ctx, &cfg, restCfg, log)
	if err != nil {
		p.close()
		return err
	}
	defer p.close()
	if cfg.OnListen != nil {
		cfg.OnListen(p.listeners.addresses())
	}
	return p.run(ctx)
}

// process is one Run's set of components, built before any starts.
type process struct {
	cfg       *Config
	log       logr.Logger
	listeners listeners
	audit     io.Writer
	closers   []func() error

	registry *prometheus.Registry
	store    *index.Store
	mgr      manager.Manager
	certs    *servingCerts
	webhook  *webhook.Server
	receiver http.Handler
	ready    *readiness
}

// newProcess builds every component: ports bound, certificates loaded,
// webhook, reconciler and receiver made, so that a problem shows before
// anything serves. On error the caller calls close.
func newProcess(ctx context.Context, cfg *Config, restCfg *rest.Config, log logr.Logger) (*process, error) {
	p := &process{cfg: cfg, log: log, registry: prometheus.NewRegistry(), store: index.NewStore(), ready: &readiness{}}
	var err error
	if p.audit, err = p.openAudit(); err != nil {
		return p, err
	}
	if p.listeners, err = listen(ctx, cfg); err != nil {
		return p, err
	}
	scheme, err := NewScheme()
	if err != nil {
		return p, err
	}
	if p.mgr, err = p.newManager(restCfg, scheme); err != nil {
		return p, err
	}
	cs, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return p, fmt.Errorf("kubernetes client: %w", err)
	}
	if p.certs, err = newServingCerts(logr.NewContext(ctx, log), cfg, cs); err != nil {
		return p, err
	}
	writers := p.statusWriters(ctx, cs)
	if p.webhook, err = p.newWebhook(writers); err != nil {
		return p, err
	}
	rec, err := p.newReconciler(restCfg, scheme)
	if err != nil {
		return p, err
	}
	if p.listeners.receiver != nil {
		p.receiver, err = receiver.NewHandler(receiver.Options{
			Lookup:     receiver.SecretLookup(p.mgr.GetAPIReader(), cfg.Namespace),
			Trigger:    rec.Trigger,
			Logger:     log.WithName("receiver"),
			Registerer: p.registry,
		})
		if err != nil {
			return p, fmt.Errorf("push receiver: %w", err)
		}
	}
	if err := p.setupReadiness(rec); err != nil {
		return p, err
	}
	return p, nil
}

// newManager makes the controller-runtime manager. Its own metrics and
// probe servers are off: /metrics, /healthz and /readyz are served on one
// port by Run, from gitgate's registry and controller-runtime's.
func (p *process) newManager(restCfg *rest.Config, scheme *runtime.Scheme) (manager.Manager, error) {
	grace := p.cfg.managerTimeout()
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                        scheme,
		Logger:                        p.log,
		Metrics:                       metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:        "0",
		LeaderElection:                p.cfg.LeaderElect,
		LeaderElectionID:              p.cfg.LeaderElectionID,
		LeaderElectionNamespace:       p.cfg.Namespace,
		LeaderElectionReleaseOnCancel: true,
		GracefulShutdownTimeout:       &grace,
		// Run may be called more than once in a process (gitgate dev,
		// tests); controller names need only be unique per manager.
		Controller: ctrlconfig.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		return nil, fmt.Errorf("controller manager: %w", err)
	}
	return mgr, nil
}

// newWebhook makes the admission server, judging against the shared
// desired state. Its scope and policy start empty; the Publisher fills
// them as sources sync.
func (p *process) newWebhook(statusWriters []string) (*webhook.Server, error) {
	ws, err := webhook.NewServer(webhook.Options{
		Desired:       p.store,
		StatusWriters: statusWriters,
		Exempt: webhook.Exemptions{
			Users:      p.cfg.exemptUsers(),
			Groups:     p.cfg.ExemptGroups,
			Namespaces: p.cfg.ExemptNamespaces,
		},
		Namespace: p.cfg.Namespace,
		Mapper:    p.mgr.GetRESTMapper(),
		// The webhook, reconciler and drift contracts take client-go's
		// record.EventRecorder (core/v1 Events, as kubectl describe shows
		// them); controller-runtime keeps it, deprecated, beside the newer
		// events.k8s.io recorder.
		Events:          p.mgr.GetEventRecorderFor(eventSource), //nolint:staticcheck // see above
		AuditLog:        p.audit,
		Logger:          p.log.WithName("webhook"),
		Registerer:      p.registry,
		Timeout:         p.cfg.AdmissionTimeout,
		ShutdownTimeout: p.cfg.drainTimeout(),
		Ready:           p.ready.ready,
	})
	if err != nil {
		return nil, fmt.Errorf("admission webhook: %w", err)
	}
	return ws, nil
}

// statusWriters are the users that may write a GitSource's status (the
// rollback ledger): gitgate's service account, and the user this process
// runs as, as the API server reports it (the same account in a cluster;
// whoever the kubeconfig names outside one). When the API server cannot
// say (no SelfSubjectReview before Kubernetes 1.28), only the service
// account is one, which is right in a cluster.
func (p *process) statusWriters(ctx context.Context, cs kubernetes.Interface) []string {
	sa := p.cfg.serviceAccountUser()
	ctx, cancel := context.WithTimeout(ctx, selfReviewTimeout)
	defer cancel()
	review, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		p.log.Info("cannot tell which user gitgate runs as; only its service account may write GitSource status",
			"serviceAccount", sa, "error", err.Error())
		return []string{sa}
	}
	self := review.Status.UserInfo.Username
	if self == "" || self == sa {
		return []string{sa}
	}
	p.log.Info("gitgate runs as a user other than its service account; both may write GitSource status",
		"user", self, "serviceAccount", sa)
	return []string{sa, self}
}

// newReconciler makes the GitSource reconciler and registers it with the
// manager; what it learns about each source reaches the webhook through a
// Publisher.
func (p *process) newReconciler(restCfg *rest.Config, scheme *runtime.Scheme) (*reconcile.Reconciler, error) {
	rec, err := reconcile.New(reconcile.Options{
		Client:           p.mgr.GetClient(),
		APIReader:        p.mgr.GetAPIReader(),
		Scheme:           scheme,
		RESTMapper:       p.mgr.GetRESTMapper(),
		Config:           restCfg,
		Store:            p.store,
		Publisher:        NewPublisher(p.webhook, p.store),
		Namespace:        p.cfg.Namespace,
		CacheDir:         p.cfg.CacheDir,
		Recorder:         p.mgr.GetEventRecorderFor(eventSource), //nolint:staticcheck // see newWebhook
		Registerer:       p.registry,
		Logger:           p.log.WithName("reconcile"),
		ApplyConcurrency: p.cfg.ApplyConcurrency,
	})
	if err != nil {
		return nil, fmt.Errorf("reconciler: %w", err)
	}
	if err := rec.SetupWithManager(p.mgr); err != nil {
		return nil, fmt.Errorf("reconciler: %w", err)
	}
	return rec, nil
}

// setupReadiness lists what /readyz waits for: the manager's caches
// synced, every source's Index built, a serving certificate, and (when
// gitgate injects it) the CA bundle in the webhook configurations.
func (p *process) setupReadiness(rec *reconcile.Reconciler) error {
	started := &startedRunnable{}
	// The runnable starts once the caches have synced: controller-runtime
	// starts caches before other runnables.
	if err := p.mgr.Add(started); err != nil {
		return fmt.Errorf("controller manager: %w", err)
	}
	p.ready.add("controllers not started", started.started.Load)
	// Ready lists GitSources through the cache: only ask once it runs.
	p.ready.add("sources not synced", func() bool { return started.started.Load() && rec.Ready() })
	p.ready.add("no serving certificate", p.certs.loaded)
	if p.certs.injected != nil {
		p.ready.add("CA bundle not injected into the webhook configurations", p.certs.injected)
	}
	return nil
}

// run starts the components and stops them in order when ctx ends or one
// of them fails.
func (p *process) run(ctx context.Context) error {
	base := logr.NewContext(context.WithoutCancel(ctx), p.log)
	g := newGroup(base)
	gatherer := prometheus.Gatherers{p.registry, ctrlmetrics.Registry}
	metrics := g.start("metrics server", func(ctx context.Context) error {
		return serveHTTP(ctx, p.listeners.metrics, metricsHandler(gatherer, p.ready, p.log), time.Second, p.log)
	})
	certs := g.start("certificates", p.certs.run)
	mgr := g.start("controller manager", p.mgr.Start)
	hook := g.start("admission webhook", func(ctx context.Context) error {
		return p.webhook.Serve(ctx, p.listeners.webhook, p.certs.tls)
	})
	var recv *component
	if p.receiver != nil {
		recv = g.start("push receiver", func(ctx context.Context) error {
			return serveHTTP(ctx, p.listeners.receiver, p.receiver, receiverGrace, p.log)
		})
	}
	p.log.Info("gitgate serving", "webhook", p.listeners.webhook.Addr().String(),
		"metrics", p.listeners.metrics.Addr().String(), "receiver", p.listeners.receiverAddr(), "namespace", p.cfg.Namespace)

	var cause error
	select {
	case <-ctx.Done():
		p.log.Info("shutting down")
	case c := <-g.exited:
		cause = c.failure()
		p.log.Error(cause, "a component stopped; shutting down")
	}
	// Readiness goes first, so the Service stops sending new requests
	// while the ones in flight are answered; then the controllers stop.
	p.ready.stopping.Store(true)
	errs := []error{cause, hook.stop(), recv.stop(), mgr.stop(), certs.stop(), metrics.stop()}
	return errors.Join(errs...)
}

// openAudit opens cfg.AuditLog.
func (p *process) openAudit() (io.Writer, error) {
	switch p.cfg.AuditLog {
	case AuditStdout:
		return &lockedWriter{w: os.Stdout}, nil
	case AuditStderr:
		return &lockedWriter{w: os.Stderr}, nil
	}
	f, err := os.OpenFile(p.cfg.AuditLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: --audit-log: %w", ErrInvalidConfig, err)
	}
	p.closers = append(p.closers, f.Close)
	return &lockedWriter{w: f}, nil
}

// close releases what newProcess opened; listeners already served are
// closed by their servers, and closing them twice is harmless.
func (p *process) close() {
	p.listeners.close()
	for _, c := range p.closers {
		if err := c(); err != nil {
			p.log.Error(err, "closing")
		}
	}
	p.closers = nil
}

// startedRunnable records that the manager got past its cache sync.
type startedRunnable struct{ started atomic.Bool }

func (s *startedRunnable) Start(ctx context.Context) error {
	s.started.Store(true)
	<-ctx.Done()
	return nil
}

// NeedLeaderElection: every replica answers admission, so every replica
// reports readiness on its own.
func (s *startedRunnable) NeedLeaderElection() bool { return false }

var _ manager.LeaderElectionRunnable = (*startedRunnable)(nil)

// listeners are the bound ports.
type listeners struct {
	webhook, metrics, receiver net.Listener
}

// listen binds every address of cfg, so that a port in use fails Run
// before anything starts.
func listen(ctx context.Context, cfg *Config) (listeners, error) {
	var l listeners
	var lc net.ListenConfig
	bind := func(flag, addr string) (net.Listener, error) {
		ln, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", flag, err)
		}
		return ln, nil
	}
	var err error
	if l.webhook, err = bind("webhook-addr", cfg.WebhookAddr); err != nil {
		return l, err
	}
	if l.metrics, err = bind("metrics-addr", cfg.MetricsAddr); err != nil {
		return l, err
	}
	if cfg.ReceiverAddr != "" {
		if l.receiver, err = bind("receiver-addr", cfg.ReceiverAddr); err != nil {
			return l, err
		}
	}
	return l, nil
}

func (l listeners) addresses() Addresses {
	a := Addresses{Webhook: l.webhook.Addr(), Metrics: l.metrics.Addr()}
	if l.receiver != nil {
		a.Receiver = l.receiver.Addr()
	}
	return a
}

func (l listeners) receiverAddr() string {
	if l.receiver == nil {
		return ""
	}
	return l.receiver.Addr().String()
}

func (l listeners) close() {
	for _, ln := range []net.Listener{l.webhook, l.metrics, l.receiver} {
		if ln != nil {
			_ = ln.Close()
		}
	}
}
