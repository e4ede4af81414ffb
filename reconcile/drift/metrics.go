package drift

import (
	"github.com/prometheus/client_golang/prometheus"

	"gitgate.dev/gitgate/internal/promreg"
)

// metrics are the Watcher's metrics, all in this one place:
//
//	gitgate_drift_detected_total{source,kind}
//	    drifts found: an object stopped conforming, what differs changed,
//	    or a managed object was deleted; kind is "Kind.group"
//	gitgate_drift_reverted_total{source,kind}
//	    drifts put back (revert mode)
//	gitgate_drift_revert_seconds
//	    time from the edit to the successful revert (see editTime)
//	gitgate_drift_watches
//	    informers running, one per watched group/kind
type metrics struct {
	detected *prometheus.CounterVec
	reverted *prometheus.CounterVec
	latency  prometheus.Histogram
	watches  prometheus.Gauge
}

// revertBuckets spread from 10 ms to 5 min: a revert takes tens of
// milliseconds when the watch is live; edits made while nobody watched
// (before a leader took over) are reverted minutes after the edit and
// belong in the top buckets.
var revertBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	r := promreg.New(reg)
	m := &metrics{
		detected: promreg.Register(r, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitgate_drift_detected_total",
			Help: "Drifts of managed objects from Git found, by source and kind.",
		}, []string{"source", "kind"})),
		reverted: promreg.Register(r, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitgate_drift_reverted_total",
			Help: "Drifts of managed objects put back to Git, by source and kind.",
		}, []string{"source", "kind"})),
		latency: promreg.Register(r, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gitgate_drift_revert_seconds",
			Help:    "Time from an edit outside Git to its revert.",
			Buckets: revertBuckets,
		})),
		watches: promreg.Register(r, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gitgate_drift_watches",
			Help: "Informers watching managed objects, one per group/kind.",
		})),
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return m, nil
}
