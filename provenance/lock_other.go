//go:build !unix

package provenance

import (
	"context"
	"sync"
)

var dirLocks sync.Map

// lockDir serializes fetches into one clone within this process; platforms
// without flock get no cross-process lock.
func lockDir(_ context.Context, path string) (unlock func(), err error) {
	m, _ := dirLocks.LoadOrStore(path, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock, nil
}
