package provenance

import (
	"sync"
)

// lru is a small mutex-guarded cache that keeps roughly the most recently
// used entries. Object hashes are the keys, so entries never go stale; the
// bound only caps memory.
//
// It is generational rather than a linked list: entries go into the current
// generation, and when that holds half the bound it becomes the old one and
// the previous old one is dropped; a hit in the old generation moves the
// entry back into the current one. So at most max entries are held, and at
// least the max/2 most recently used. A verification puts several entries
// per commit; a list node per entry cost an allocation each and showed in
// profiles, while this costs only map inserts.
type lru[K comparable, V any] struct {
	mu       sync.Mutex
	half     int
	cur, old map[K]V
}

func newLRU[K comparable, V any](maxEntries int) *lru[K, V] {
	half := max(maxEntries/2, 1)
	return &lru[K, V]{half: half, cur: make(map[K]V)}
}

func (c *lru[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.cur[k]; ok {
		return v, true
	}
	if v, ok := c.old[k]; ok {
		c.insert(k, v)
		return v, true
	}
	var zero V
	return zero, false
}

func (c *lru[K, V]) put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.insert(k, v)
}

func (c *lru[K, V]) insert(k K, v V) {
	if _, ok := c.cur[k]; !ok && len(c.cur) >= c.half {
		c.old, c.cur = c.cur, make(map[K]V, len(c.cur))
	}
	c.cur[k] = v
}
