package devenv

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"gitgate.dev/gitgate/cmd/gitgate/internal/server"
	"gitgate.dev/gitgate/webhook/certs"
	"gitgate.dev/gitgate/webhook/config"
)

// gitgateNamespace is gitgate's own namespace in the dev cluster.
const gitgateNamespace = server.DefaultNamespace

// runningServer is `gitgate serve` running in this process.
type runningServer struct {
	addrs  server.Addresses
	cancel context.CancelFunc
	// stopped is closed when Run has returned, with err its error.
	stopped chan struct{}
	err     error
}

// startServer runs server.Run in a goroutine until stop. Its context is
// not ctx's: the dev environment stops gitgate itself, before the control
// plane, so that nothing talks to a stopped API server.
func startServer(ctx context.Context, cfg server.Config, restCfg *rest.Config, log logr.Logger) (*runningServer, error) {
	listening := make(chan server.Addresses, 1)
	cfg.OnListen = func(a server.Addresses) { listening <- a }
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &runningServer{cancel: cancel, stopped: make(chan struct{})}
	go func() {
		s.err = server.Run(runCtx, cfg, restCfg, log)
		close(s.stopped)
	}()
	select {
	case s.addrs = <-listening:
		return s, nil
	case <-s.stopped:
		cancel()
		return nil, fmt.Errorf("gitgate serve: %w", s.err)
	case <-ctx.Done():
		cancel()
		<-s.stopped
		return nil, fmt.Errorf("start gitgate serve: %w", errors.Join(context.Cause(ctx), s.err))
	}
}

// stop shuts gitgate down and returns Run's error, if any.
func (s *runningServer) stop() error {
	s.cancel()
	<-s.stopped
	if s.err != nil {
		return fmt.Errorf("gitgate serve: %w", s.err)
	}
	return nil
}

// failed returns why Run stopped on its own; nil while it runs.
func (s *runningServer) failed() error {
	select {
	case <-s.stopped:
		if s.err == nil {
			return errors.New("gitgate serve stopped")
		}
		return fmt.Errorf("gitgate serve: %w", s.err)
	default:
		return nil
	}
}

// webhookURL is the base URL the API server calls.
func (s *runningServer) webhookURL() string { return "https://" + s.addrs.Webhook.String() }

// serverConfig is `gitgate serve` for one process on loopback: ports
// picked free, a certificate for 127.0.0.1 from files the dev environment
// writes, no leader election (one replica), no push receiver (the source
// polls), and breakglassUser exempt.
func serverConfig(dir, logDir string) server.Config {
	cfg := server.DefaultConfig(nil)
	cfg.Namespace = gitgateNamespace
	cfg.WebhookAddr = "127.0.0.1:0"
	cfg.MetricsAddr = "127.0.0.1:0"
	cfg.ReceiverAddr = ""
	cfg.CertSource = server.CertFiles
	cfg.CertDir = filepath.Join(dir, "certs")
	cfg.WebhookConfigName = ""
	cfg.LeaderElect = false
	cfg.CacheDir = filepath.Join(dir, "cache")
	cfg.ExemptUsers = []string{breakglassUser}
	cfg.AuditLog = filepath.Join(logDir, "audit.log")
	// Nothing is in flight at the end of the demo; a user's Ctrl-C should
	// not wait long.
	cfg.ShutdownTimeout = 10 * time.Second
	return cfg
}

// serviceAccountUser is the user name of gitgate's service account.
func serviceAccountUser(cfg server.Config) string {
	return "system:serviceaccount:" + cfg.Namespace + ":" + cfg.ServiceAccount
}

// writeServingCert makes a CA and a serving certificate for 127.0.0.1
// (webhook/certs), writes them where CertFiles reads them, and returns
// the CA bundle the webhook configurations need.
func writeServingCert(ctx context.Context, certDir string) ([]byte, error) {
	m, err := certs.New(ctx, certs.Options{IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		return nil, fmt.Errorf("webhook certificate: %w", err)
	}
	cert, err := m.GetCertificate(nil)
	if err != nil {
		return nil, fmt.Errorf("webhook certificate: %w", err)
	}
	var chain []byte
	for _, der := range cert.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("webhook certificate key: %w", err)
	}
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return nil, fmt.Errorf("certificate folder: %w", err)
	}
	if err := os.WriteFile(filepath.Join(certDir, "tls.crt"), chain, 0o600); err != nil {
		return nil, fmt.Errorf("write certificate: %w", err)
	}
	if err := os.WriteFile(filepath.Join(certDir, "tls.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600); err != nil {
		return nil, fmt.Errorf("write certificate key: %w", err)
	}
	return m.CABundle(), nil
}

// createNamespace creates gitgate's namespace (its leader Lease, Events
// and Secrets live there).
func createNamespace(ctx context.Context, cs kubernetes.Interface, name string) error {
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

// registerWebhooks creates gitgate's validating and mutating webhook
// configurations for the demo's kinds, calling url with caBundle, as
// webhook/config generates them for the chart (there with a Service).
func registerWebhooks(ctx context.Context, cs kubernetes.Interface, disc discovery.ServerResourcesInterface, url string, caBundle []byte) error {
	rs, missing, err := config.ResourcesFor(disc, demoKinds)
	if err != nil {
		return fmt.Errorf("webhook resources: %w", err)
	}
	if len(missing) > 0 {
		return fmt.Errorf("webhook resources: the API server does not serve %v", missing)
	}
	sc := config.Scope{Name: config.DefaultName, Namespace: gitgateNamespace, Resources: rs, URL: url, CABundle: caBundle}
	vwc, err := sc.Validating()
	if err != nil {
		return fmt.Errorf("validating webhook configuration: %w", err)
	}
	mwc, err := sc.Mutating()
	if err != nil {
		return fmt.Errorf("mutating webhook configuration: %w", err)
	}
	api := cs.AdmissionregistrationV1()
	if _, err := api.ValidatingWebhookConfigurations().Create(ctx, vwc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("register validating webhook: %w", err)
	}
	if _, err := api.MutatingWebhookConfigurations().Create(ctx, mwc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("register mutating webhook: %w", err)
	}
	return nil
}

// waitWebhooksCalled waits until the API server calls both webhooks: it
// picks new configurations up through a watch, a moment after they are
// created. A server-side dry-run create of a Namespace is the probe (both
// webhooks see it, nothing is stored); gitgate's metrics count the calls.
func waitWebhooksCalled(ctx context.Context, cs kubernetes.Interface, metricsAddr string, timeout time.Duration) error {
	probe := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "gitgate-dev-probe-"}}
	metricsURL := "http://" + metricsAddr + "/metrics"
	return waitFor(ctx, timeout, 100*time.Millisecond, "the API server calling gitgate's webhooks", func(ctx context.Context) (bool, string, error) {
		_, probeErr := cs.CoreV1().Namespaces().Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		counts, err := scrapeWebhookCalls(ctx, metricsURL)
		if err != nil {
			return false, "", err
		}
		seen := fmt.Sprintf("validate called %d times, mutate %d times", counts["validate"], counts["mutate"])
		if probeErr != nil {
			seen += "; probe: " + probeErr.Error()
		}
		return counts["validate"] > 0 && counts["mutate"] > 0, seen, nil
	})
}

// callsMetric counts the answers of each webhook (label webhook).
const callsMetric = "gitgate_admission_duration_seconds_count"

// scrapeWebhookCalls reads the call counts per webhook from gitgate's
// metrics endpoint.
func scrapeWebhookCalls(ctx context.Context, url string) (map[string]int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
	if err != nil {
		return nil, fmt.Errorf("metrics request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics: %s", resp.Status)
	}
	return parseWebhookCalls(io.LimitReader(resp.Body, 4<<20))
}

// parseWebhookCalls reads callsMetric's samples from the Prometheus text
// format: lines like `name{webhook="validate"} 3`.
func parseWebhookCalls(r io.Reader) (map[string]int, error) {
	counts := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), callsMetric+"{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		hook := labelValue(labels, "webhook")
		n, err := strconv.ParseFloat(strings.Fields(value + " ")[0], 64)
		if hook == "" || err != nil {
			continue
		}
		counts[hook] += int(n)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	return counts, nil
}

// labelValue returns the value of label name in `a="x",b="y"`; the values
// gitgate writes here hold no quotes or commas.
func labelValue(labels, name string) string {
	for kv := range strings.SplitSeq(labels, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if ok && k == name {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}
