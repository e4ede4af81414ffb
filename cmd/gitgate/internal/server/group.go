package server

import (
	"context"
	"errors"
	"fmt"
)

// group runs components, each in its own goroutine with its own context,
// so that Run can stop them one by one in the order shutdown needs rather
// than all at once.
type group struct {
	base context.Context
	// exited receives each component that returns, whether or not it was
	// asked to stop; it is buffered so no component ever blocks on it.
	exited chan *component
}

func newGroup(base context.Context) *group {
	return &group{base: base, exited: make(chan *component, 8)}
}

// component is one running part of the process.
type component struct {
	name     string
	cancel   context.CancelFunc
	done     chan struct{}
	err      error
	reported bool // failure already returned err
}

// start runs fn until its context is cancelled by stop.
func (g *group) start(name string, fn func(ctx context.Context) error) *component {
	ctx, cancel := context.WithCancel(g.base)
	c := &component{name: name, cancel: cancel, done: make(chan struct{})}
	go func() {
		c.err = fn(ctx)
		close(c.done)
		select {
		case g.exited <- c:
		default:
		}
	}()
	return c
}

// stop cancels the component, waits for it and returns its error, if it
// is more than the cancellation itself and failure has not returned it
// already. A nil component is a no-op.
func (c *component) stop() error {
	if c == nil {
		return nil
	}
	c.cancel()
	<-c.done
	if c.reported || c.err == nil || errors.Is(c.err, context.Canceled) {
		return nil
	}
	return fmt.Errorf("%s: %w", c.name, c.err)
}

// failure describes a component that returned before it was asked to:
// with its error, or as an unexpected stop.
func (c *component) failure() error {
	c.reported = true
	if c.err != nil {
		return fmt.Errorf("%s: %w", c.name, c.err)
	}
	return fmt.Errorf("%s stopped unexpectedly", c.name)
}
