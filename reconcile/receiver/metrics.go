package receiver

import (
	"github.com/prometheus/client_golang/prometheus"

	"gitgate.dev/gitgate/internal/promreg"
)

// Values of the result label, a fixed set so that no sender can grow the
// metric.
const (
	resultAccepted         = "accepted"
	resultPing             = "ping"
	resultUnauthorized     = "unauthorized"
	resultNotFound         = "not_found"
	resultMethodNotAllowed = "method_not_allowed"
	resultTooLarge         = "too_large"
	resultBadRequest       = "bad_request"
	resultError            = "error"
)

var results = []string{
	resultAccepted, resultPing, resultUnauthorized, resultNotFound,
	resultMethodNotAllowed, resultTooLarge, resultBadRequest, resultError,
}

// newRequestsMetric returns gitgate_receiver_requests_total{result}, the
// receiver's one metric, with every result at zero so that a rate of
// refusals can be graphed before the first one. A registry that already
// holds it (a second handler in one process) shares it.
func newRequestsMetric(reg prometheus.Registerer) (*prometheus.CounterVec, error) {
	r := promreg.New(reg)
	c := promreg.Register(r, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gitgate_receiver_requests_total",
		Help: "Push webhook requests answered by the receiver, by result.",
	}, []string{"result"}))
	if err := r.Err(); err != nil {
		return nil, err
	}
	for _, result := range results {
		c.WithLabelValues(result)
	}
	return c, nil
}
