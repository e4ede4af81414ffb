package reconcile

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"gitgate.dev/gitgate/internal/promreg"
)

// metrics are the reconciler's metrics, all in this file. The drift
// metrics live with the drift watcher.
type metrics struct {
	duration *prometheus.HistogramVec
	total    *prometheus.CounterVec
	info     *prometheus.GaugeVec
	managed  *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	r := promreg.New(reg)
	m := &metrics{
		duration: promreg.Register(r, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gitgate_sync_duration_seconds",
			Help: "Time one sync of a GitSource took, from fetch to status.",
			// 50 ms (an unchanged local repository) to about 100 s (a
			// first clone and apply of a large repository).
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12),
		}, []string{"source"})),
		total: promreg.Register(r, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitgate_sync_total",
			Help: "Syncs of a GitSource by result: Succeeded or the reason of the failure.",
		}, []string{"source", "result"})),
		info: promreg.Register(r, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitgate_source_info",
			Help: "The commit each GitSource's published Index comes from (value 1).",
		}, []string{"source", "commit"})),
		managed: promreg.Register(r, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitgate_managed_objects",
			Help: "Objects the published Index of each GitSource declares.",
		}, []string{"source"})),
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	return m, nil
}

func (m *metrics) synced(source, result string, d time.Duration) {
	m.duration.WithLabelValues(source).Observe(d.Seconds())
	m.total.WithLabelValues(source, result).Inc()
}

func (m *metrics) published(source, commit string, objects int) {
	m.info.DeletePartialMatch(prometheus.Labels{"source": source})
	m.info.WithLabelValues(source, commit).Set(1)
	m.managed.WithLabelValues(source).Set(float64(objects))
}

func (m *metrics) forget(source string) {
	l := prometheus.Labels{"source": source}
	m.duration.DeletePartialMatch(l)
	m.total.DeletePartialMatch(l)
	m.info.DeletePartialMatch(l)
	m.managed.DeletePartialMatch(l)
}
