package promreg

import (
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func counter(name string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: "A test counter."})
}

func TestRegisterShares(t *testing.T) {
	reg := prometheus.NewRegistry()
	first := Register(New(reg), counter("gitgate_test_total"))
	r := New(reg)
	second := Register(r, counter("gitgate_test_total"))
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	if second != first {
		t.Error("the second registration did not return the registered collector")
	}
}

func TestRegisterKeepsFirstError(t *testing.T) {
	reg := prometheus.NewRegistry()
	Register(New(reg), counter("gitgate_test_total"))
	r := New(reg)
	// The same name as another type is a conflict, not a collector to share.
	Register(r, prometheus.NewGauge(prometheus.GaugeOpts{Name: "gitgate_test_total", Help: "A test counter."}))
	first := r.Err()
	var are prometheus.AlreadyRegisteredError
	if !errors.As(first, &are) {
		t.Fatalf("Err() = %v, want the AlreadyRegisteredError of the conflict", first)
	}
	later := counter("gitgate_later_total")
	Register(r, later)
	if !errors.Is(r.Err(), first) {
		t.Errorf("Err() = %v, want the first error %v", r.Err(), first)
	}
	if reg.Unregister(later) {
		t.Error("a collector was registered after an error")
	}
}

func TestRegisterNil(t *testing.T) {
	r := New(nil)
	c := counter("gitgate_test_total")
	if got := Register(r, c); got != c || r.Err() != nil {
		t.Errorf("Register with no registry = %v, %v; want the collector, no error", got, r.Err())
	}
}
