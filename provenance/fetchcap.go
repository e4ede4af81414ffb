package provenance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// capPollInterval is how often a running fetch's packfile is measured. A
// remote can send at most what the link carries in that time past the cap,
// which on a 10 Gbit/s link is about 60 MiB: an overshoot bounded by time
// rather than by the remote.
const capPollInterval = 50 * time.Millisecond

// capFetch returns a context that is cancelled with ErrFetchTooLarge as its
// cause once the packfiles under dir/objects/pack grow by more than max
// bytes, and a finish function to call when the fetch returned: it stops the
// watch and reports the cap's error if the fetch went over it, also when it
// completed between two measurements. go-git streams a received pack into a
// temporary file there before it indexes it, so the growth of that folder is
// what the remote has sent. The cap is enforced by measuring instead of by
// wrapping the transport because go-git's file and ssh transports give no
// hook on the byte stream.
func capFetch(ctx context.Context, dir string, max int64) (context.Context, func() error) {
	if max == 0 {
		max = DefaultMaxFetchBytes
	}
	if max < 0 {
		return ctx, func() error { return nil }
	}
	ctx, cancel := context.WithCancelCause(ctx)
	packs := filepath.Join(dir, "objects", "pack")
	base := folderSize(packs)
	tooLarge := fmt.Errorf("%w: more than %d bytes received", ErrFetchTooLarge, max)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(capPollInterval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				if folderSize(packs)-base > max {
					cancel(tooLarge)
					return
				}
			}
		}
	}()
	return ctx, func() error {
		close(done)
		<-stopped
		over := errors.Is(context.Cause(ctx), ErrFetchTooLarge) || folderSize(packs)-base > max
		cancel(nil)
		if over {
			return tooLarge
		}
		return nil
	}
}

// folderSize sums the sizes of the regular files directly in dir; a folder
// that does not exist yet is empty.
func folderSize(dir string) int64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
	}
	return n
}
