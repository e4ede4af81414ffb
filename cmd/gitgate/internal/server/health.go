package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Paths of the metrics server.
const (
	MetricsPath = "/metrics"
	HealthzPath = "/healthz"
	ReadyzPath  = "/readyz"
)

// readiness is /readyz: ready when every check passes and the process is
// not shutting down.
type readiness struct {
	stopping atomic.Bool
	checks   []readyCheck
}

// readyCheck is one condition of readiness, named in /readyz's answer.
type readyCheck struct {
	name string
	ok   func() bool
}

func (r *readiness) add(name string, ok func() bool) {
	r.checks = append(r.checks, readyCheck{name: name, ok: ok})
}

// failing returns the names of the checks that do not pass ("shutting
// down" once stopping); none means ready.
func (r *readiness) failing() []string {
	if r.stopping.Load() {
		return []string{"shutting down"}
	}
	var out []string
	for _, c := range r.checks {
		if !c.ok() {
			out = append(out, c.name)
		}
	}
	return out
}

func (r *readiness) ready() bool { return len(r.failing()) == 0 }

// metricsHandler serves /metrics from gatherer, /healthz (the process
// answers) and /readyz (readiness, with what is not ready yet).
func metricsHandler(gatherer prometheus.Gatherer, ready *readiness, lg logr.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+MetricsPath, promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{
		ErrorLog:      promLogger{lg},
		ErrorHandling: promhttp.ContinueOnError,
	}))
	mux.HandleFunc("GET "+HealthzPath, func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET "+ReadyzPath, func(w http.ResponseWriter, _ *http.Request) {
		if failing := ready.failing(); len(failing) > 0 {
			writeText(w, http.StatusServiceUnavailable, "not ready: "+strings.Join(failing, ", "))
			return
		}
		writeText(w, http.StatusOK, "ok")
	})
	return mux
}

func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body+"\n")
}

// promLogger sends promhttp's errors (a collector that failed) to the log.
type promLogger struct{ log logr.Logger }

func (l promLogger) Println(v ...any) { l.log.Error(errors.New(fmt.Sprint(v...)), "serving metrics") }

// serveHTTP serves handler over plain HTTP on ln until ctx ends, then
// stops accepting and waits up to grace for requests in flight. It closes
// ln.
func serveHTTP(ctx context.Context, ln net.Listener, handler http.Handler, grace time.Duration, lg logr.Logger) error {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          log.New(logWriter{lg.V(1)}, "", 0),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("shut down server on %s: %w", ln.Addr(), err)
	}
	return nil
}

// logWriter sends net/http's own log lines to the logger.
type logWriter struct{ log logr.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.log.Info("http server", "message", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// lockedWriter serializes writes, so that audit lines written by
// concurrent requests never interleave.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
