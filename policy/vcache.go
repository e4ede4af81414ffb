package policy

import (
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// virtualCache is the cache of rule values (virtual documents) of one
// evaluation, in place of OPA's default. OPA's is a trie with a hash map
// per path element, made anew for every evaluation: each policy's
// data.gitgate.<group>.<policy>.deny adds a node and a map for each
// element, and for the policy library that was a fifth of the allocations
// of an admission evaluation. This one keys whole references by their
// hash in one map per frame and is reused, cleared, from evaluation to
// evaluation (cachePool), so a warm engine allocates nothing for caching.
//
// It keeps the trie's semantics exactly: Get finds only the reference that
// was Put (not a prefix or an extension of it); Put of a nil value marks
// the reference undefined, and that mark wins over a later value; Push
// opens an empty frame (for `with`), Get and Put see only the top frame,
// Pop drops it. It is used by one evaluation at a time.
type virtualCache struct {
	frames []*cacheFrame // frames[len-1] is the top
	spare  []*cacheFrame // popped frames, kept for reuse
}

var _ topdown.VirtualCache = (*virtualCache)(nil)

type cacheFrame struct {
	first   map[uint64]int32 // reference hash → index of its first entry
	entries []cacheEntry
	terms   []*ast.Term // the cached references, entry after entry
}

type cacheEntry struct {
	start, end int32 // the reference is terms[start:end]
	next       int32 // next entry with the same hash, or -1
	value      *ast.Term
	undefined  bool
}

func newCacheFrame() *cacheFrame {
	return &cacheFrame{first: make(map[uint64]int32, 64)}
}

// reset empties f, dropping its references to terms so that a pooled
// frame does not keep the last evaluation's values alive.
func (f *cacheFrame) reset() {
	clear(f.first)
	clear(f.entries)
	f.entries = f.entries[:0]
	clear(f.terms)
	f.terms = f.terms[:0]
}

func refHash(ref ast.Ref) uint64 {
	h := uint64(14695981039346656037)
	for _, t := range ref {
		h = (h ^ uint64(t.Value.Hash())) * 1099511628211 //nolint:gosec // a hash, wrapping is intended
	}
	return h
}

// find returns the index of ref's entry in f, or -1.
func (f *cacheFrame) find(ref ast.Ref, h uint64) int32 {
	i, ok := f.first[h]
	if !ok {
		return -1
	}
	for ; i >= 0; i = f.entries[i].next {
		e := &f.entries[i]
		if int(e.end-e.start) != len(ref) {
			continue
		}
		same := true
		for j, t := range f.terms[e.start:e.end] {
			if !t.Equal(ref[j]) {
				same = false
				break
			}
		}
		if same {
			return i
		}
	}
	return -1
}

func (c *virtualCache) top() *cacheFrame { return c.frames[len(c.frames)-1] }

// Push opens an empty frame.
func (c *virtualCache) Push() {
	var f *cacheFrame
	if n := len(c.spare); n > 0 {
		f, c.spare = c.spare[n-1], c.spare[:n-1]
	} else {
		f = newCacheFrame()
	}
	c.frames = append(c.frames, f)
}

// Pop drops the top frame.
func (c *virtualCache) Pop() {
	n := len(c.frames)
	if n == 0 {
		return
	}
	f := c.frames[n-1]
	c.frames = c.frames[:n-1]
	f.reset()
	c.spare = append(c.spare, f)
}

// Get returns ref's value; (nil, true) when ref was cached as undefined,
// (nil, false) when it was not cached.
func (c *virtualCache) Get(ref ast.Ref) (*ast.Term, bool) { return c.get(ref, refHash(ref)) }

func (c *virtualCache) get(ref ast.Ref, h uint64) (*ast.Term, bool) {
	f := c.top()
	i := f.find(ref, h)
	if i < 0 {
		return nil, false
	}
	e := &f.entries[i]
	if e.undefined {
		return nil, true
	}
	return e.value, false
}

// Put caches ref's value, or marks ref undefined when value is nil.
func (c *virtualCache) Put(ref ast.Ref, value *ast.Term) { c.put(ref, refHash(ref), value) }

// put is Put with the hash given, so that tests can make collisions.
func (c *virtualCache) put(ref ast.Ref, h uint64, value *ast.Term) {
	f := c.top()
	i := f.find(ref, h)
	if i < 0 {
		// An evaluation caches far fewer than 2^31 references and terms.
		start := int32(len(f.terms)) //nolint:gosec // see above
		f.terms = append(f.terms, ref...)
		end := int32(len(f.terms)) //nolint:gosec // see above
		next := int32(-1)
		if j, ok := f.first[h]; ok {
			next = j
		}
		i = int32(len(f.entries)) //nolint:gosec // see above
		f.entries = append(f.entries, cacheEntry{start: start, end: end, next: next})
		f.first[h] = i
	}
	e := &f.entries[i]
	if value != nil {
		e.value = value
	} else {
		e.undefined = true
	}
}

// Keys returns the references of the top frame that hold a value.
func (c *virtualCache) Keys() []ast.Ref {
	f := c.top()
	var keys []ast.Ref
	for _, e := range f.entries {
		if e.value != nil {
			keys = append(keys, append(ast.Ref(nil), f.terms[e.start:e.end]...))
		}
	}
	return keys
}

// cachePool holds virtual caches between evaluations.
var cachePool = sync.Pool{New: func() any {
	c := &virtualCache{}
	c.Push()
	return c
}}

// getCache returns an empty cache with one frame.
func getCache() *virtualCache { return cachePool.Get().(*virtualCache) } //nolint:forcetypeassert // the pool holds nothing else

// putCache empties c and returns it to the pool.
func putCache(c *virtualCache) {
	for len(c.frames) > 1 {
		c.Pop()
	}
	if len(c.frames) == 0 {
		c.Push()
	}
	c.frames[0].reset()
	cachePool.Put(c)
}
