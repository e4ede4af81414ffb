// Package promreg registers gitgate's Prometheus collectors. Each component
// (webhook, reconciler, drift watcher, push receiver) builds its metrics in
// one place and registers them here, so that two instances of a component in
// one process (tests, a restart in-process, a re-created manager) share the
// series of one registry instead of failing on the second registration.
package promreg

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Registrar registers collectors with one registry and keeps the first
// error, so that a component registers all its metrics in one expression
// and checks once.
type Registrar struct {
	reg prometheus.Registerer
	err error
}

// New returns a Registrar for reg; with a nil reg, Register registers
// nothing and returns each collector as it is.
func New(reg prometheus.Registerer) *Registrar {
	return &Registrar{reg: reg}
}

// Register registers c, or returns the collector already registered under
// its name when it is of c's type. After an error it registers nothing
// more: Err reports the first.
func Register[C prometheus.Collector](r *Registrar, c C) C {
	if r.reg == nil || r.err != nil {
		return c
	}
	err := r.reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	r.err = err
	return c
}

// Err is the first error Register met, nil if none.
func (r *Registrar) Err() error {
	return r.err
}
