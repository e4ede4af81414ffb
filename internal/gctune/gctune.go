// Package gctune sets the Go garbage collector for gitgate's processes
// where the environment does not.
//
// gitgate's live heap is small (compiled policies, an Index of manifests)
// beside what it allocates and drops at once: every admission request and
// every checked file is garbage a moment later. With Go's default GOGC of
// 100 such a process collects every few megabytes, and a request that meets
// a collection waits for it: on two cores the admission decision's p99 was
// half again its p50 at the default and within its 1 ms budget at 400
// (test/bench/README.md). Tune gives the heap 400 % headroom up to a floor,
// and, unless GOMEMLIMIT says otherwise, keeps it within twice the live
// heap above that floor, by moving the soft memory limit as the live heap
// grows: a fixed limit below the live heap would make the collector run
// without pause.
package gctune

import (
	"context"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

const (
	// Percent is the GOGC that Tune sets when GOGC is unset.
	Percent = 400
	// Floor is the soft memory limit below which the heap may grow by
	// Percent, when GOMEMLIMIT is unset.
	Floor = 64 << 20
)

// Tune sets what lookupEnv (os.LookupEnv) leaves unset: GOGC to Percent,
// and, when GOMEMLIMIT is unset too, a soft memory limit of Floor or twice
// the live heap, whichever is larger, until ctx ends or restore is called.
// restore puts the previous settings back.
func Tune(ctx context.Context, lookupEnv func(string) (string, bool)) (restore func()) {
	_, gogc := lookupEnv("GOGC")
	_, gomemlimit := lookupEnv("GOMEMLIMIT")
	if gogc {
		return func() {}
	}
	oldPercent := debug.SetGCPercent(Percent)
	if gomemlimit {
		return func() { debug.SetGCPercent(oldPercent) }
	}
	oldLimit := debug.SetMemoryLimit(Floor)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		followLiveHeap(ctx)
	}()
	return func() {
		cancel()
		<-done
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	}
}

// followLiveHeap moves the soft memory limit to twice the live heap, and
// not below Floor, every 200 ms until ctx ends.
func followLiveHeap(ctx context.Context) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 {
				live := int64(min(sample[0].Value.Uint64(), math.MaxInt64/2))
				debug.SetMemoryLimit(max(Floor, 2*live))
			}
		}
	}
}
