package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func TestMetricsHandler(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "gitgate_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Inc()
	var synced, certOK atomic.Bool
	r := &readiness{}
	r.add("sources not synced", synced.Load)
	r.add("no serving certificate", certOK.Load)
	h := metricsHandler(reg, r, logr.Discard())

	if code, body := get(t, h, HealthzPath); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz = %d %q, want 200 ok", code, body)
	}
	code, body := get(t, h, ReadyzPath)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "sources not synced, no serving certificate") {
		t.Errorf("/readyz = %d %q, want 503 naming both checks", code, body)
	}
	synced.Store(true)
	if code, body := get(t, h, ReadyzPath); code != http.StatusServiceUnavailable || strings.Contains(body, "sources") {
		t.Errorf("/readyz = %d %q, want 503 naming only the certificate", code, body)
	}
	certOK.Store(true)
	if code, body := get(t, h, ReadyzPath); code != http.StatusOK {
		t.Errorf("/readyz = %d %q, want 200", code, body)
	}
	r.stopping.Store(true)
	if code, body := get(t, h, ReadyzPath); code != http.StatusServiceUnavailable || !strings.Contains(body, "shutting down") {
		t.Errorf("/readyz while stopping = %d %q, want 503 shutting down", code, body)
	}
	if code, body := get(t, h, MetricsPath); code != http.StatusOK || !strings.Contains(body, "gitgate_test_total 1") {
		t.Errorf("/metrics = %d, want 200 with the counter:\n%s", code, body)
	}
	if code, _ := get(t, h, "/other"); code != http.StatusNotFound {
		t.Errorf("/other = %d, want 404", code)
	}
}

func TestServeHTTPShutdownWaitsForRequests(t *testing.T) {
	var lc net.ListenConfig
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{})
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "done")
	})
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- serveHTTP(ctx, ln, h, 5*time.Second, logr.Discard()) }()

	got := make(chan string, 1)
	go func() {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+ln.Addr().String()+"/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	<-entered
	cancel()
	select {
	case err := <-served:
		t.Fatalf("server returned with a request in flight: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if body := <-got; body != "done" {
		t.Errorf("in-flight request got %q, want done", body)
	}
	if err := <-served; err != nil {
		t.Errorf("serveHTTP = %v, want nil after a clean shutdown", err)
	}
}

func TestGroup(t *testing.T) {
	g := newGroup(t.Context())
	var order []string
	stopped := func(name string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			<-ctx.Done()
			order = append(order, name)
			return ctx.Err()
		}
	}
	a := g.start("a", stopped("a"))
	boom := errors.New("boom")
	b := g.start("b", func(context.Context) error { return boom })
	c := g.start("c", stopped("c"))

	exited := <-g.exited
	if exited != b {
		t.Fatalf("exited = %s, want b", exited.name)
	}
	if err := exited.failure(); !errors.Is(err, boom) || !strings.Contains(err.Error(), "b: boom") {
		t.Errorf("failure() = %v, want b: boom", err)
	}
	// Stopping in a chosen order: c, then a; b's error was reported once.
	if err := c.stop(); err != nil {
		t.Errorf("c.stop() = %v, want nil (cancellation is no failure)", err)
	}
	if err := a.stop(); err != nil {
		t.Errorf("a.stop() = %v", err)
	}
	if err := b.stop(); err != nil {
		t.Errorf("b.stop() = %v, want nil: failure() reported it", err)
	}
	if strings.Join(order, ",") != "c,a" {
		t.Errorf("stop order = %v, want c,a", order)
	}
	var none *component
	if err := none.stop(); err != nil {
		t.Errorf("nil component stop = %v", err)
	}

	g2 := newGroup(t.Context())
	d := g2.start("d", func(context.Context) error { return nil })
	<-g2.exited
	if err := d.failure(); err == nil || !strings.Contains(err.Error(), "d stopped unexpectedly") {
		t.Errorf("failure() of a clean early return = %v", err)
	}
	e := g2.start("e", func(ctx context.Context) error { <-ctx.Done(); return errors.New("flush failed") })
	if err := e.stop(); err == nil || !strings.Contains(err.Error(), "e: flush failed") {
		t.Errorf("stop() = %v, want the component's own error", err)
	}
}
