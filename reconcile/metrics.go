package reconcile

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
	m := &metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gitgate_sync_duration_seconds",
			Help: "Time one sync of a GitSource took, from fetch to status.",
			// 50 ms (an unchanged local repository) to about 100 s (a
			// first clone and apply of a large repository).
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12),
		}, []string{"source"}),
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitgate_sync_total",
			Help: "Syncs of a GitSource by result: Succeeded or the reason of the failure.",
		}, []string{"source", "result"}),
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitgate_source_info",
			Help: "The commit each GitSource's published Index comes from (value 1).",
		}, []string{"source", "commit"}),
		managed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitgate_managed_objects",
			Help: "Objects the published Index of each GitSource declares.",
		}, []string{"source"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.duration, err = register(reg, m.duration)
	if err != nil {
		return nil, err
	}
	if m.total, err = register(reg, m.total); err != nil {
		return nil, err
	}
	if m.info, err = register(reg, m.info); err != nil {
		return nil, err
	}
	if m.managed, err = register(reg, m.managed); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector registered before under
// the same name, so that a second Reconciler in one process (a restart in
// tests, a re-created manager) shares the series instead of failing.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	if err != nil {
		return c, fmt.Errorf("register metrics: %w", err)
	}
	return c, nil
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
