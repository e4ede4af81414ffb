package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"gitgate.dev/gitgate/policy"
)

// Paths the server answers on.
const (
	ValidatePath = "/validate"
	MutatePath   = "/mutate"
	HealthzPath  = "/healthz"
	ReadyzPath   = "/readyz"
)

// Server is gitgate's admission server. It is safe for concurrent use;
// SetScope and SetPolicy may be called while it serves.
type Server struct {
	opts     Options
	log      logr.Logger
	metrics  *metrics
	maxBytes int64
	timeout  time.Duration

	exemptUsers      map[string]bool
	exemptGroups     map[string]bool
	exemptNamespaces map[string]bool
	// statusWriters may write a GitSource's status: Options.StatusWriters
	// and Options.Exempt.Users, not SystemUsers.
	statusWriters map[string]bool

	scope  atomic.Pointer[compiledScope]
	policy atomic.Pointer[policyHolder]

	auditMu sync.Mutex
}

var (
	_ admission.Handler = admission.HandlerFunc((*Server)(nil).Validate)
	_ admission.Handler = admission.HandlerFunc((*Server)(nil).Mutate)
)

// NewServer returns a Server for opts. It fails when opts.Desired is nil or
// the metrics cannot be registered.
func NewServer(opts Options) (*Server, error) {
	if opts.Desired == nil {
		return nil, errors.New("webhook: Options.Desired is required")
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("webhook: register metrics: %w", err)
	}
	s := &Server{
		opts:             opts,
		log:              opts.Logger,
		metrics:          m,
		maxBytes:         opts.MaxRequestBytes,
		timeout:          opts.Timeout,
		exemptUsers:      set(append(append([]string(nil), SystemUsers...), opts.Exempt.Users...)),
		exemptGroups:     set(opts.Exempt.Groups),
		exemptNamespaces: set(append(append([]string(nil), systemNamespaces...), opts.Exempt.Namespaces...)),
		statusWriters:    set(append(append([]string(nil), opts.StatusWriters...), opts.Exempt.Users...)),
	}
	if s.log.GetSink() == nil {
		s.log = logr.Discard()
	}
	if s.maxBytes <= 0 {
		s.maxBytes = DefaultMaxRequestBytes
	}
	if s.timeout <= 0 {
		s.timeout = defaultTimeout
	}
	if opts.Namespace != "" {
		s.exemptNamespaces[opts.Namespace] = true
	}
	s.SetScope(opts.Scope)
	s.SetPolicy(opts.Policy)
	return s, nil
}

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// SetScope replaces the scope; requests that arrive afterwards see it.
func (s *Server) SetScope(sc Scope) { s.scope.Store(compileScope(sc)) }

// SetPolicy replaces the policy engine; nil turns policy evaluation off.
func (s *Server) SetPolicy(p PolicyEngine) {
	if e, ok := p.(*policy.Engine); ok && e == nil {
		p = nil
	}
	s.policy.Store(&policyHolder{engine: p})
}

// Handler returns the server's HTTP handler: POST /validate and /mutate
// with an AdmissionReview, GET /healthz and /readyz.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST "+ValidatePath, s.serveAdmission(webhookValidate))
	mux.Handle("POST "+MutatePath, s.serveAdmission(webhookMutate))
	mux.HandleFunc("GET "+HealthzPath, func(w http.ResponseWriter, _ *http.Request) { writeText(w, http.StatusOK, "ok") })
	mux.HandleFunc("GET "+ReadyzPath, func(w http.ResponseWriter, _ *http.Request) {
		if s.opts.Ready != nil && !s.opts.Ready() {
			writeText(w, http.StatusServiceUnavailable, "not ready")
			return
		}
		writeText(w, http.StatusOK, "ok")
	})
	return mux
}

func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body + "\n"))
}

// Start listens on Options.Addr (default ":9443") and serves HTTPS with
// cfg until ctx ends; see Serve.
func (s *Server) Start(ctx context.Context, cfg *tls.Config) error {
	addr := s.opts.Addr
	if addr == "" {
		addr = defaultAddr
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("webhook: listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln, cfg)
}

// Serve serves HTTPS on ln with cfg until ctx ends, then stops accepting
// and waits up to Options.ShutdownTimeout for in-flight requests. cfg must
// hold a certificate (Certificates or GetCertificate, which lets the caller
// rotate it); TLS 1.2 is the minimum, and HTTP/2 is offered only with
// Options.EnableHTTP2. Serve closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener, cfg *tls.Config) error {
	return s.ServeHandler(ctx, ln, cfg, s.Handler())
}

// ServeHandler is Serve answering with h instead of Handler(): for a
// caller that wraps Handler() (tracing, a test that records the reviews)
// and must serve it as gitgate serve does, with the same TLS, protocols,
// timeouts and shutdown.
func (s *Server) ServeHandler(ctx context.Context, ln net.Listener, cfg *tls.Config, h http.Handler) error {
	if cfg == nil || (len(cfg.Certificates) == 0 && cfg.GetCertificate == nil && cfg.GetConfigForClient == nil) {
		_ = ln.Close()
		return errors.New("webhook: a TLS configuration with a certificate is required")
	}
	tc := cfg.Clone()
	if tc.MinVersion < tls.VersionTLS12 {
		tc.MinVersion = tls.VersionTLS12
	}
	if !s.opts.EnableHTTP2 {
		tc.NextProtos = []string{"http/1.1"}
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// Bodies are capped and the API server sends them at once; a slow
		// sender only holds a connection this long.
		ReadTimeout:  30 * time.Second,
		WriteTimeout: 30 * time.Second,
		// The API server keeps a connection to the webhook open between
		// calls and drops it after 90 s idle (client-go's transport): a
		// longer IdleTimeout leaves the closing to it, where gitgate
		// closing first could race a review sent on that connection.
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 1 << 20,
		ErrorLog:       log.New(logWriter{s.log.V(1)}, "", 0),
		BaseContext:    func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	fresh := &freshConns{conns: map[net.Conn]struct{}{}}
	srv.ConnState = fresh.track
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(tls.NewListener(ln, tc)) }()
	select {
	case err := <-errc:
		return fmt.Errorf("webhook: serve: %w", err)
	case <-ctx.Done():
	}
	timeout := s.opts.ShutdownTimeout
	if timeout <= 0 {
		timeout = defaultShutdownTimeout
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	// Shutdown waits for a connection that has not sent its first request
	// until it is five seconds old. A client's HTTP transport leaves such
	// connections behind (a dial that lost the race to an idle connection
	// is kept for later), and the API server's did so under load, which
	// outlasted the drain. A request sent on one arrives at once; one still
	// unsent after a grace is closed, as Shutdown closes idle ones.
	grace := time.AfterFunc(min(freshGrace, timeout/2), fresh.closeAll)
	defer grace.Stop()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("webhook: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("webhook: serve: %w", err)
	}
	return nil
}

// freshGrace is how long a connection without a request is left at
// shutdown before it is closed.
const freshGrace = time.Second

// freshConns are the connections that have not sent a request yet
// (http.StateNew).
type freshConns struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (f *freshConns) track(c net.Conn, st http.ConnState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st == http.StateNew {
		f.conns[c] = struct{}{}
	} else {
		delete(f.conns, c)
	}
}

func (f *freshConns) closeAll() {
	f.mu.Lock()
	conns := make([]net.Conn, 0, len(f.conns))
	for c := range f.conns {
		conns = append(conns, c)
	}
	f.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// logWriter sends the HTTP server's own log lines (TLS handshake errors
// and the like) to the logger.
type logWriter struct{ log logr.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.log.Info("http server", "message", string(trimNewline(p)))
	return len(p), nil
}

func trimNewline(p []byte) []byte {
	for len(p) > 0 && p[len(p)-1] == '\n' {
		p = p[:len(p)-1]
	}
	return p
}
