package conform

import (
	"math"
	"slices"
)

// list compares a Git list with a live list. Lists of named items are
// matched by key and own their membership: an item the object adds (a
// container, an env var) is a difference, because Git declared the list.
func (c *comparer) list(s *shape, g, l []any) {
	elem := (*shape)(nil)
	if s != nil && s.kind == shapeList {
		elem = s.elem
	}
	if c.atomic > 0 {
		c.positional(elem, g, l)
		return
	}
	if s != nil && s.kind == shapeList {
		switch s.list {
		case listKeyed:
			if ok, _ := c.keyed(elem, s.keys, g, l); ok {
				return
			}
		case listSet:
			c.set(elem, g, l)
			return
		}
	} else if s == nil && c.keyedInOrder(g, l) {
		return
	}
	c.positional(elem, g, l)
}

var nameKey = []listKey{{name: "name"}}

// positional compares item by item; lists of different lengths differ as a
// whole.
func (c *comparer) positional(elem *shape, g, l []any) {
	if len(g) != len(l) {
		c.add(Changed, g, l)
		return
	}
	for i, gv := range g {
		c.push(segment{index: i, isIndex: true})
		if gv == nil {
			if l[i] != nil {
				c.add(Changed, nil, l[i])
			}
		} else {
			c.value(elem, gv, l[i])
		}
		c.pop()
	}
}

// keyed matches items by keys. It returns false, having reported nothing,
// when the lists cannot be keyed: an item is not a map, lacks a key with no
// default, or two Git items share a key (Kubernetes tolerates duplicate env
// names); the caller then compares positionally. Items the object repeats
// are differences like any item Git does not list. inOrder reports whether the
// matched items come in the same order in both lists.
//
// Git and the object almost always list items in the same order, so each
// Git item is first tried against the live item at its own index: matching
// is linear in the usual case and quadratic only for shuffled lists.
func (c *comparer) keyed(elem *shape, keys []listKey, g, l []any) (ok, inOrder bool) {
	if !keyable(keys, g) || !keyable(keys, l) || duplicateKeys(keys, g) {
		return false, false
	}
	var buf [32]bool
	matched := flags(buf[:], len(l))
	inOrder = true
	last := -1
	for i, gi := range g {
		gm := gi.(map[string]any)
		j := i
		if i >= len(l) || !sameKey(keys, gm, l[i].(map[string]any)) {
			j = findItem(keys, gm, l)
		}
		c.push(segment{keys: keys, item: gm})
		if j < 0 {
			c.add(Missing, gm, nil)
		} else {
			matched[j] = true
			inOrder = inOrder && j > last
			last = j
			c.mapping(elem, gm, l[j].(map[string]any))
		}
		c.pop()
	}
	for j, li := range l {
		if matched[j] {
			continue
		}
		lm := li.(map[string]any)
		c.push(segment{keys: keys, item: lm})
		c.add(Extra, nil, lm)
		c.pop()
	}
	return true, inOrder
}

// flags returns n cleared flags, in buf (on the caller's stack) when the
// list is short, as lists usually are.
func flags(buf []bool, n int) []bool {
	if n <= len(buf) {
		return buf[:n]
	}
	return make([]bool, n)
}

// keyedInOrder handles lists of unknown kinds (CRDs), where no schema names
// keys: a list whose items all carry a unique name is matched by name, as
// Kubernetes' own lists are, for precise differences. Unlike a built-in
// associative list, order may matter to a CRD (steps of a pipeline), so
// items Git and the object both have must come in the same order.
func (c *comparer) keyedInOrder(g, l []any) bool {
	ok, inOrder := c.keyed(nil, nameKey, g, l)
	if ok && !inOrder {
		c.add(Changed, g, l)
	}
	return ok
}

// keyable reports whether every item is a map with a scalar value (or a
// default) for every key.
func keyable(keys []listKey, items []any) bool {
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return false
		}
		for _, k := range keys {
			if v, ok := keyValue(k, m); !ok || !isScalar(v) {
				return false
			}
		}
	}
	return true
}

func keyValue(k listKey, m map[string]any) (any, bool) {
	if v, ok := m[k.name]; ok && v != nil {
		return v, true
	}
	return k.def, k.hasDef
}

func isScalar(v any) bool {
	switch v.(type) {
	case map[string]any, []any, nil:
		return false
	}
	return true
}

// findItem returns the index of the item of items with m's key, or -1.
// Lists are short, so a scan beats building a map.
func findItem(keys []listKey, m map[string]any, items []any) int {
	for j, it := range items {
		o, ok := it.(map[string]any)
		if !ok {
			continue
		}
		if sameKey(keys, m, o) {
			return j
		}
	}
	return -1
}

func sameKey(keys []listKey, a, b map[string]any) bool {
	for _, k := range keys {
		av, _ := keyValue(k, a)
		bv, _ := keyValue(k, b)
		if !scalarEqual(nil, av, bv) {
			return false
		}
	}
	return true
}

// set compares lists of scalars that Kubernetes treats as sets (finalizers):
// order is free, membership is not.
func (c *comparer) set(elem *shape, g, l []any) {
	var buf [32]bool
	matched := flags(buf[:], len(l))
	for _, gv := range g {
		if gv == nil {
			continue
		}
		found := false
		for j, lv := range l {
			if scalarEqual(elem, gv, lv) {
				matched[j], found = true, true
			}
		}
		if !found {
			c.push(segment{value: gv, isValue: true})
			c.add(Missing, gv, nil)
			c.pop()
		}
	}
	for j, lv := range l {
		if !matched[j] && lv != nil {
			c.push(segment{value: lv, isValue: true})
			c.add(Extra, nil, lv)
			c.pop()
		}
	}
}

// duplicateKeys reports whether two items share a key. It hashes each key
// and sorts the hashes, so long lists cost n log n; only equal hashes are
// compared exactly.
func duplicateKeys(keys []listKey, items []any) bool {
	if len(items) < 2 {
		return false
	}
	var buf [32]uint64
	hashes := buf[:0]
	if len(items) > len(buf) {
		hashes = make([]uint64, 0, len(items))
	}
	for _, it := range items {
		hashes = append(hashes, keyHash(keys, it.(map[string]any)))
	}
	slices.Sort(hashes)
	for i := 1; i < len(hashes); i++ {
		if hashes[i] == hashes[i-1] {
			return exactDuplicate(keys, items)
		}
	}
	return false
}

func exactDuplicate(keys []listKey, items []any) bool {
	for i, it := range items {
		if findItem(keys, it.(map[string]any), items[:i]) >= 0 {
			return true
		}
	}
	return false
}

// keyHash is FNV-1a over the key values; numbers hash by value, so 80 and
// 80.0 collide as they compare equal.
func keyHash(keys []listKey, m map[string]any) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	mix := func(b byte) { h = (h ^ uint64(b)) * prime }
	for _, k := range keys {
		v, _ := keyValue(k, m)
		switch x := v.(type) {
		case string:
			mix('s')
			for i := range len(x) {
				mix(x[i])
			}
		case bool:
			mix('b')
			if x {
				mix(1)
			}
		default:
			mix('n')
			if n, ok := toNumber(v); ok {
				// Integers hash through their float value: exact for the
				// small numbers keys are, and equal numbers hash equal.
				bits := math.Float64bits(n.f)
				for range 8 {
					mix(byte(bits))
					bits >>= 8
				}
			}
		}
		mix(0)
	}
	return h
}
