package reconcile

import (
	"context"
	"sync"
)

// forEach calls fn(ctx, i) for i in [0, count) on at most n goroutines and
// returns the errors, in index order. Every index is visited unless ctx
// ends: one failed apply must not keep the others from being tried, so the
// status can name all of them.
func forEach(ctx context.Context, count, n int, fn func(ctx context.Context, i int) error) []error {
	if n < 1 {
		n = 1
	}
	errs := make([]error, count)
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i := range count {
		if ctx.Err() != nil {
			errs[i] = ctx.Err()
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = fn(ctx, i)
		}()
	}
	wg.Wait()
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	return failed
}
