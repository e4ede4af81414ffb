package webhook

import (
	"github.com/prometheus/client_golang/prometheus"

	"gitgate.dev/gitgate/internal/promreg"
)

// Metric label values of the decision label.
const (
	decisionAllowed = "allowed"
	decisionDenied  = "denied"
	decisionMutated = "mutated"
	decisionErrored = "errored"
)

// otherLabel stands in for an operation or kind that gitgate neither
// manages nor expects, so that a client that is not the API server cannot
// grow the metrics without bound.
const otherLabel = "other"

// metrics are the server's metrics, all in this one place:
//
//	gitgate_admission_requests_total{operation,kind,decision,reason}
//	    requests answered; decision is allowed, denied, mutated (every
//	    /mutate answer) or errored; reason is a Reason; kind is "Kind.group"
//	    of a kind gitgate manages, or "other"
//	gitgate_admission_duration_seconds{webhook}
//	    time to answer, from the request read to the response written,
//	    per webhook (validate, mutate)
//	gitgate_policy_evaluation_duration_seconds
//	    time Rego took on one request
//	gitgate_admission_panics_total
//	    panics recovered while answering (each answered 500)
type metrics struct {
	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	policyDuration prometheus.Histogram
	panics         prometheus.Counter
}

// latencyBuckets spread from 0.5 ms to 1 s: the decision takes well under a
// millisecond, and anything near the API server's timeout (≤ 3 s) is a
// failure worth seeing in the top bucket.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	r := promreg.New(reg)
	m := &metrics{
		requests: promreg.Register(r, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitgate_admission_requests_total",
			Help: "Admission requests answered, by operation, kind, decision and reason.",
		}, []string{"operation", "kind", "decision", "reason"})),
		duration: promreg.Register(r, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gitgate_admission_duration_seconds",
			Help:    "Time to answer an admission request, by webhook.",
			Buckets: latencyBuckets,
		}, []string{"webhook"})),
		policyDuration: promreg.Register(r, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gitgate_policy_evaluation_duration_seconds",
			Help:    "Time Rego policy evaluation took on one admission request.",
			Buckets: latencyBuckets,
		})),
		panics: promreg.Register(r, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gitgate_admission_panics_total",
			Help: "Panics recovered while answering admission requests.",
		})),
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return m, nil
}
