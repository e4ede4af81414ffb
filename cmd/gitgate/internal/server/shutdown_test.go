package server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/open-policy-agent/opa/v1/ast"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"

	"gitgate.dev/gitgate/policy"
	"gitgate.dev/gitgate/provenance/index"
	"gitgate.dev/gitgate/webhook"
	"gitgate.dev/gitgate/webhook/certs"
)

// blockingEngine holds every evaluation until released: an admission
// request in flight at shutdown.
type blockingEngine struct {
	entered chan struct{}
	release chan struct{}
}

func (e *blockingEngine) EvaluateValue(ctx context.Context, _ ast.Value) (policy.Result, error) {
	close(e.entered)
	select {
	case <-e.release:
		return policy.Result{Warnings: []policy.Message{{Msg: "drained"}}}, nil
	case <-ctx.Done():
		return policy.Result{}, ctx.Err()
	}
}

// TestWebhookDrainsAtShutdown checks what Run relies on: once the
// webhook's context ends, Serve stops accepting but answers the admission
// request in flight before it returns, within Options.ShutdownTimeout.
func TestWebhookDrainsAtShutdown(t *testing.T) {
	store := index.NewStore()
	b := index.NewBuilder()
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "app"}}}
	if _, err := b.Add(ns, index.Origin{Source: "src", Commit: strings.Repeat("a", 40), Path: "ns.yaml"}); err != nil {
		t.Fatal(err)
	}
	if err := store.Publish("src", b.Build()); err != nil {
		t.Fatal(err)
	}
	engine := &blockingEngine{entered: make(chan struct{}), release: make(chan struct{})}
	ws, err := webhook.NewServer(webhook.Options{
		Desired: store, Policy: engine, Timeout: 10 * time.Second, ShutdownTimeout: 10 * time.Second,
		Scope: webhook.Scope{Sources: []webhook.SourceScope{{Name: "src"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cm, err := certs.New(t.Context(), certs.Options{IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- ws.Serve(ctx, ln, cm.TLSConfig()) }()

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(cm.CABundle())
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	review := admissionv1.AdmissionReview{Request: &admissionv1.AdmissionRequest{
		UID: "drain-1", Operation: admissionv1.Create, Namespace: "app", Name: "cfg",
		Object: runtime.RawExtension{Raw: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","namespace":"app"}}`)},
	}}
	review.APIVersion, review.Kind = "admission.k8s.io/v1", "AdmissionReview"
	review.Request.Kind.Version, review.Request.Kind.Kind = "v1", "ConfigMap"
	review.Request.Resource.Version, review.Request.Resource.Resource = "v1", "configmaps"
	body, err := json.Marshal(review)
	if err != nil {
		t.Fatal(err)
	}
	answered := make(chan string, 1)
	go func() {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, "https://"+ln.Addr().String()+webhook.ValidatePath, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			answered <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answered <- string(b)
	}()
	<-engine.entered
	cancel()
	select {
	case err := <-served:
		t.Fatalf("Serve returned with a request in flight: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(engine.release)
	got := <-answered
	if !strings.Contains(got, `"allowed":true`) || !strings.Contains(got, "drained") {
		t.Errorf("the request in flight got %s, want an allowed answer with the policy's warning", got)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v after draining, want nil", err)
	}
}

// writeKeyPair writes a self-signed certificate for cn as tls.crt and
// tls.key into dir.
func writeKeyPair(t *testing.T, dir, cn string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{cn},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// Written to temporary names and renamed, as the kubelet swaps a Secret
	// volume's files, so the watcher never reads half a file.
	for name, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "PRIVATE KEY", Bytes: keyDER}} {
		tmp := filepath.Join(dir, "."+name+".tmp")
		if err := os.WriteFile(tmp, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

func servedCN(t *testing.T, sc *servingCerts) string {
	t.Helper()
	c, err := sc.tls.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil || c == nil {
		t.Fatalf("GetCertificate = %v, %v", c, err)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf.Subject.CommonName
}

func TestFileCertsReload(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig(nil)
	cfg.CertSource, cfg.CertDir = CertFiles, dir

	if _, err := newServingCerts(t.Context(), &cfg, nil); err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("no files: err = %v, want an error naming %s", err, dir)
	}

	writeKeyPair(t, dir, "first.example")
	sc, err := newServingCerts(t.Context(), &cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sc.loaded() || sc.injected != nil {
		t.Errorf("loaded = %v, injected = %v; want loaded and no injection (cert-manager's job)", sc.loaded(), sc.injected != nil)
	}
	if cn := servedCN(t, sc); cn != "first.example" {
		t.Errorf("serving %q, want first.example", cn)
	}
	ctx, cancel := context.WithCancel(logr.NewContext(t.Context(), logr.Discard()))
	done := make(chan error, 1)
	go func() { done <- sc.run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("watcher: %v", err)
		}
	}()

	// The renewed certificate is served without a restart.
	deadline := time.Now().Add(30 * time.Second)
	for servedCN(t, sc) != "renewed.example" {
		if time.Now().After(deadline) {
			t.Fatal("the renewed certificate was never served")
		}
		writeKeyPair(t, dir, "renewed.example")
		time.Sleep(200 * time.Millisecond)
	}
}

func TestRunRefusesBeforeStarting(t *testing.T) {
	unreachable := &rest.Config{Host: "https://127.0.0.1:1"}
	bad := DefaultConfig(nil)
	bad.LogFormat = "xml"
	if err := Run(t.Context(), bad, unreachable, logr.Discard()); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Run(invalid) = %v, want ErrInvalidConfig", err)
	}
	if err := Run(t.Context(), DefaultConfig(nil), nil, logr.Discard()); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("Run(no rest config) = %v, want ErrInvalidConfig", err)
	}

	// A port in use fails Run with the flag's name, before the API server
	// is contacted.
	var lc net.ListenConfig
	busy, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := DefaultConfig(nil)
	cfg.WebhookAddr, cfg.MetricsAddr, cfg.ReceiverAddr = "127.0.0.1:0", busy.Addr().String(), ""
	cfg.AuditLog = filepath.Join(t.TempDir(), "audit.jsonl")
	err = Run(t.Context(), cfg, unreachable, logr.Discard())
	if err == nil || !strings.Contains(err.Error(), "--metrics-addr") {
		t.Errorf("Run(port in use) = %v, want an error naming --metrics-addr", err)
	}

	cfg.MetricsAddr = "127.0.0.1:0"
	cfg.AuditLog = filepath.Join(t.TempDir(), "missing", "audit.jsonl")
	if err := Run(t.Context(), cfg, unreachable, logr.Discard()); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "--audit-log") {
		t.Errorf("Run(unwritable audit log) = %v, want ErrInvalidConfig naming --audit-log", err)
	}
}
