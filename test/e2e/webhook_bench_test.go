package e2e

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"gitgate.dev/gitgate/internal/gctune"
	"gitgate.dev/gitgate/policies"
	"gitgate.dev/gitgate/policy"
	"gitgate.dev/gitgate/webhook/certs"
	"gitgate.dev/gitgate/webhook/config"
)

// apiserverWebhookMetric is the API server's own histogram of each
// webhook call: from sending the review to having the answer, TLS,
// network and (de)serialisation of the review included.
const apiserverWebhookMetric = "apiserver_admission_webhook_admission_duration_seconds"

// BenchmarkWebhookThroughAPIServer is issue 4's benchmark (c): the share
// of the webhook in the latency of real writes through kube-apiserver. Each
// iteration patches an annotation of a managed ConfigMap (a change Git
// allows, so both the mutating and the validating webhook are called and
// admit). It reports, from the API server's histogram, the mean and the
// estimated p99 of each webhook call and the fraction within the 5 ms
// bucket; the handler time inside gitgate's server; the whole request as
// the client sees it; the webhooks' share of it; and the same writes
// without the webhooks (baseline), with the difference of the percentiles.
// The whole policy library is on, as a GitSource that names it configures
// the webhook: every request is also evaluated against it. The server runs
// as gitgate serve runs it: served by webhook.Server (HTTP/1.1), with
// serve's garbage-collector setting (internal/gctune; the writing client
// shares the process and the setting).
//
//	test/bench/webhook-apiserver.sh (or: go test ./test/e2e -run '^$' -bench WebhookThroughAPIServer -benchtime 2000x)
func BenchmarkWebhookThroughAPIServer(b *testing.B) {
	b.Cleanup(gctune.Tune(b.Context(), os.LookupEnv))
	s := newWebhookSuite(b, e2eRepo(b), certs.Options{})
	s.register(b)
	s.waitCalled(b, "a Namespace create", s.probeNamespace(b), func(c admissionCall) bool {
		return c.Resource.Resource == "namespaces" && c.Name == "gg-probe"
	})
	s.mustKubectl(b, "apply", "-f", filepath.Join(s.repo, "apps", "namespace.yaml"), "-f", filepath.Join(s.repo, "apps", "config.yaml"))
	s.server.SetPolicy(libraryEngine(b))
	cms := s.client.CoreV1().ConfigMaps(gitNamespace)
	ctx := b.Context()

	before := s.scrapeWebhookHistograms(b)
	mark := s.rec.mark()
	var latencies []time.Duration
	n := 0
	for b.Loop() {
		patch := fmt.Appendf(nil, `{"metadata":{"annotations":{"bench.gitgate.dev/n":"%d"}}}`, n)
		n++
		start := time.Now()
		if _, err := cms.Patch(ctx, "web-config", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			b.Fatal(err)
		}
		latencies = append(latencies, time.Since(start))
	}
	b.StopTimer()
	after := s.scrapeWebhookHistograms(b)

	var handled []time.Duration
	for _, c := range s.rec.since(mark) {
		handled = append(handled, c.Handled)
	}
	var total time.Duration
	for _, l := range latencies {
		total += l
	}
	var webhookSeconds float64
	for _, name := range []string{config.MutateNamespacedWebhook, config.ValidateNamespacedWebhook} {
		h := after[name].minus(before[name])
		if h.count == 0 {
			b.Fatalf("the API server recorded no call of %s", name)
		}
		short := "validate"
		if name == config.MutateNamespacedWebhook {
			short = "mutate"
		}
		webhookSeconds += h.sum
		b.ReportMetric(h.sum/float64(h.count)*1e3, short+"-mean-ms")
		b.ReportMetric(h.quantile(0.99)*1e3, short+"-p99-ms")
		b.ReportMetric(h.fractionWithin(0.005)*100, short+"-le5ms-%")
	}
	b.ReportMetric(ms(percentile(handled, 0.99)), "handler-p99-ms")
	b.ReportMetric(ms(percentile(latencies, 0.50)), "request-p50-ms")
	b.ReportMetric(ms(percentile(latencies, 0.99)), "request-p99-ms")
	b.ReportMetric(webhookSeconds/total.Seconds()*100, "webhook-share-%")

	// Baseline: the same writes with the configurations removed. The
	// difference of the percentiles is what the webhooks add, measured
	// finer than the API server's buckets allow.
	s.deregister(b)
	baseline := make([]time.Duration, 0, len(latencies))
	for range len(latencies) {
		patch := fmt.Appendf(nil, `{"metadata":{"annotations":{"bench.gitgate.dev/n":"%d"}}}`, n)
		n++
		start := time.Now()
		if _, err := cms.Patch(ctx, "web-config", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			b.Fatal(err)
		}
		baseline = append(baseline, time.Since(start))
	}
	b.ReportMetric(ms(percentile(baseline, 0.50)), "baseline-p50-ms")
	b.ReportMetric(ms(percentile(baseline, 0.99)), "baseline-p99-ms")
	b.ReportMetric(ms(percentile(latencies, 0.50)-percentile(baseline, 0.50)), "added-p50-ms")
	b.ReportMetric(ms(percentile(latencies, 0.99)-percentile(baseline, 0.99)), "added-p99-ms")
}

// deregister deletes both configurations and waits until the API server
// stops calling the (still running) server.
func (s *webhookSuite) deregister(t testing.TB) {
	t.Helper()
	api := s.client.AdmissionregistrationV1()
	if err := api.ValidatingWebhookConfigurations().Delete(t.Context(), configName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := api.MutatingWebhookConfigurations().Delete(t.Context(), configName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	quiet := 0
	err := poll(t.Context(), 30*time.Second, func() (bool, error) {
		mark := s.rec.mark()
		if err := s.probeNamespace(t)(); err != nil {
			return false, err
		}
		if len(s.rec.since(mark)) == 0 {
			quiet++
		} else {
			quiet = 0
		}
		return quiet == 3, nil
	})
	if err != nil {
		t.Fatalf("the API server still calls the removed webhooks: %v", err)
	}
}

// probeNamespace makes a dry-run create of a Namespace Git does not
// declare: it reaches the cluster webhooks and changes nothing.
func (s *webhookSuite) probeNamespace(t testing.TB) func() error {
	return func() error {
		_, err := s.client.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gg-probe"}},
			metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// percentile returns the q-quantile of ds (nearest rank).
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(i, 0)]
}

// histogram is one webhook's admitted UPDATE calls as the API server counts
// them: cumulative bucket counts by upper bound, count and sum.
type histogram struct {
	bounds []float64
	counts []uint64
	count  uint64
	sum    float64
}

func (h histogram) minus(o histogram) histogram {
	d := histogram{bounds: h.bounds, counts: slices.Clone(h.counts), count: h.count - o.count, sum: h.sum - o.sum}
	for i := range d.counts {
		if i < len(o.counts) {
			d.counts[i] -= o.counts[i]
		}
	}
	return d
}

// quantile estimates the q-quantile as Prometheus' histogram_quantile does:
// linear interpolation inside the bucket that holds it. The API server's
// buckets are coarse (5 ms, 25 ms, 100 ms, ...), so this is an estimate;
// fractionWithin gives the exact share under a bound.
func (h histogram) quantile(q float64) float64 {
	if h.count == 0 {
		return math.NaN()
	}
	rank := q * float64(h.count)
	lower, below := 0.0, uint64(0)
	for i, b := range h.bounds {
		if float64(h.counts[i]) >= rank {
			inBucket := h.counts[i] - below
			if inBucket == 0 {
				return b
			}
			return lower + (b-lower)*(rank-float64(below))/float64(inBucket)
		}
		lower, below = b, h.counts[i]
	}
	return lower
}

// fractionWithin returns the share of calls that took at most bound
// seconds; bound must be one of the bucket bounds.
func (h histogram) fractionWithin(bound float64) float64 {
	i := slices.Index(h.bounds, bound)
	if i < 0 || h.count == 0 {
		return math.NaN()
	}
	return float64(h.counts[i]) / float64(h.count)
}

// scrapeWebhookHistograms reads the API server's /metrics as the admin and
// returns the histogram of admitted UPDATE calls per webhook name.
func (s *webhookSuite) scrapeWebhookHistograms(t testing.TB) map[string]histogram {
	t.Helper()
	raw, err := s.client.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(t.Context())
	if err != nil {
		t.Fatalf("scrape the API server's metrics: %v", err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse the API server's metrics: %v", err)
	}
	out := map[string]histogram{}
	fam := families[apiserverWebhookMetric]
	if fam == nil {
		return out
	}
	for _, m := range fam.GetMetric() {
		labels := labelMap(m)
		if labels["operation"] != "UPDATE" || labels["rejected"] != "false" {
			continue
		}
		hm := m.GetHistogram()
		h := histogram{count: hm.GetSampleCount(), sum: hm.GetSampleSum()}
		for _, b := range hm.GetBucket() {
			if math.IsInf(b.GetUpperBound(), 1) {
				continue
			}
			h.bounds = append(h.bounds, b.GetUpperBound())
			h.counts = append(h.counts, b.GetCumulativeCount())
		}
		out[labels["name"]] = h
	}
	return out
}

func labelMap(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// libraryEngine compiles the whole policy library as the reconciler does
// for the webhook. The test repository's objects carry no
// app.kubernetes.io/name label, so required_labels is told to check
// Deployments only (it still runs on every request).
func libraryEngine(tb testing.TB) *policy.Engine {
	tb.Helper()
	mods, err := policy.ReadModulesFS(policies.FS())
	if err != nil {
		tb.Fatal(err)
	}
	data := map[string]any{"gitgate": map[string]any{"parameters": map[string]any{
		"metadata": map[string]any{"required_labels": map[string]any{"kinds": []any{"Deployment"}}},
	}}}
	e, err := policy.Compile(tb.Context(), policy.Source{Modules: mods, Data: data},
		policy.WithProfile(policy.ProfileAdmission), policy.WithAllNamespaces(), policy.WithMessagesOnly())
	if err != nil {
		tb.Fatal(err)
	}
	return e
}
