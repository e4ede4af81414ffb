package index

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// Store holds the current Index of every source. Readers call Current,
// which is one atomic load; publishers are serialized by a mutex and build
// the combined Index before swapping it in, so a reader sees either the
// whole old state or the whole new one. The zero Store is not usable; use
// NewStore.
type Store struct {
	cur atomic.Pointer[Index]

	mu        sync.Mutex
	sources   map[string]*Index
	withdrawn map[string]map[Key]*Entry // per source; see Index.Withdrawn
}

// NewStore returns a Store whose Current is an empty Index.
func NewStore() *Store {
	s := &Store{sources: map[string]*Index{}, withdrawn: map[string]map[Key]*Entry{}}
	s.cur.Store(newIndex(map[Key]*Entry{}, nil))
	return s
}

// Current returns the combined Index of every published source. It never
// returns nil and never blocks.
func (s *Store) Current() *Index { return s.cur.Load() }

// Source returns the Index last published for source, or nil.
func (s *Store) Source(source string) *Index {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sources[source]
}

// Publish makes ix the Index of source. Every entry of ix must have that
// source in its origin. When another source already declares one of its
// keys, Publish returns the *ConflictError and nothing changes: the last
// good state stays current. Keys the previous Index of source declared and
// ix does not become withdrawn (Index.Withdrawn) until a later Index of the
// source declares them again or Forget drops them.
func (s *Store) Publish(source string, ix *Index) error {
	for _, src := range ix.Sources() {
		if src != source {
			return fmt.Errorf("publish index of source %q: it holds entries of source %q", source, src)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next := maps.Clone(s.sources)
	next[source] = ix
	combined, err := Merge(sortedIndexes(next)...)
	if err != nil {
		return fmt.Errorf("publish index of source %q: %w", source, err)
	}
	w := maps.Clone(s.withdrawn[source])
	if w == nil {
		w = map[Key]*Entry{}
	}
	if prev := s.sources[source]; prev != nil {
		for k, e := range prev.entries {
			if _, kept := ix.Lookup(k); !kept {
				w[k] = e
			}
		}
	}
	for k := range w {
		if _, ok := ix.Lookup(k); ok {
			delete(w, k)
		}
	}
	s.sources = next
	s.withdrawn[source] = w
	s.swap(combined)
	return nil
}

// Remove drops source and what it withdrew; its objects are no longer
// desired state.
func (s *Store) Remove(source string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sources[source]; !ok {
		return
	}
	next := maps.Clone(s.sources)
	delete(next, source)
	delete(s.withdrawn, source)
	// The remaining sources merged without conflict before, so they still do.
	combined, err := Merge(sortedIndexes(next)...)
	if err != nil {
		return
	}
	s.sources = next
	s.swap(combined)
}

// Forget drops keys from the withdrawn set of source, for instance once the
// reconciler has pruned them.
func (s *Store) Forget(source string, keys ...Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := maps.Clone(s.withdrawn[source])
	for _, k := range keys {
		delete(w, k)
	}
	s.withdrawn[source] = w
	s.swap(s.cur.Load())
}

// swap publishes combined with the union of the withdrawn sets, leaving
// out keys that some source declares. Callers hold s.mu.
func (s *Store) swap(combined *Index) {
	withdrawn := map[Key]*Entry{}
	for _, name := range slices.Sorted(maps.Keys(s.withdrawn)) {
		for k, e := range s.withdrawn[name] {
			if _, declared := combined.entries[k]; declared {
				continue
			}
			if _, seen := withdrawn[k]; !seen {
				withdrawn[k] = e
			}
		}
	}
	next := *combined
	next.withdrawn = withdrawn
	s.cur.Store(&next)
}

func sortedIndexes(m map[string]*Index) []*Index {
	out := make([]*Index, 0, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[name])
	}
	return out
}
