package jsonmap

import (
	"math"
	"slices"
	"unsafe"
)

// An UPDATE carries the object twice, before and after, and the two differ
// in a few fields: a resourceVersion, an image, a replica count. Decoding
// the second like the first lets every value that did not change be the
// first's, already decoded, instead of a fresh copy: the allocations, not
// the parsing, are what decoding costs. Each object and array is decoded
// onto the stacks, and made only when it differs from its counterpart;
// the text is read once, as by Decode.

// DecodeLike is Decode for a document that resembles prev, a value that
// Decode or DecodeLike returned: wherever data holds, at the same place
// (the same keys, the same array index), a value equal to prev's, the
// result holds prev's. The value is the same as Decode's; only the
// sharing differs, so neither the result nor prev may be modified
// afterwards.
func DecodeLike(data []byte, prev any) (any, error) {
	return decode(data, string(data), func(d *Decoder) (any, error) { return d.ValueLike(prev) })
}

// DecodeLikeOwned is DecodeLike for data that the caller hands over and
// never modifies afterwards, as a request body read for this request
// alone: the strings of the result are substrings of data itself, not of
// a copy. The copy is a fifth of what decoding an admission request
// allocates, and allocation is what makes the collector run.
func DecodeLikeOwned(data []byte, prev any) (any, error) {
	return decodeOwned(data, func(d *Decoder) (any, error) { return d.ValueLike(prev) })
}

// decodeOwned is decode over data that the caller hands over (see
// DecodeLikeOwned).
func decodeOwned(data []byte, value func(*Decoder) (any, error)) (any, error) {
	// The caller's promise is what unsafe.String requires.
	str := unsafe.String(unsafe.SliceData(data), len(data)) //nolint:gosec // audited: data is never modified
	return decode(data, str, value)
}

// ReadOwned runs read on a pooled Decoder over data, which the caller
// hands over as for DecodeLikeOwned: the strings read are substrings of
// data. It then checks that nothing but whitespace follows. It is the
// streaming form of DecodeLikeOwned, for a caller that walks the outer
// levels itself (see stream.go) and decodes objects inside in the same
// pass.
func ReadOwned(data []byte, read func(d *Decoder) error) error {
	_, err := decodeOwned(data, func(d *Decoder) (any, error) { return nil, read(d) })
	return err
}

// ValueLike decodes the next value as DecodeLike does.
func (d *Decoder) ValueLike(prev any) (any, error) {
	v, _, err := d.valueLike(prev)
	return v, err
}

// valueLike decodes the next value and reports whether it is prev itself
// (equal, so prev was returned).
func (d *Decoder) valueLike(prev any) (v any, same bool, err error) {
	if prev == nil {
		// No counterpart, or a null one: the callers tell them apart.
		v, err = d.Value()
		return v, err == nil && v == nil, err
	}
	d.skipSpace()
	if d.pos >= len(d.data) {
		v, err = d.Value()
		return v, false, err
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		if m, ok := prev.(map[string]any); ok {
			if d.use != nil && len(m) > 0 {
				return d.containerLike(prev, mapID(m), func() (any, bool, error) { return d.objectLike(m) })
			}
			return d.objectLike(m)
		}
	case c == '[':
		if s, ok := prev.([]any); ok {
			if d.use != nil && len(s) > 0 {
				return d.containerLike(prev, sliceID(s), func() (any, bool, error) { return d.arrayLike(s) })
			}
			return d.arrayLike(s)
		}
	case c == '"':
		if p, ok := prev.(string); ok {
			s, err := d.string()
			if err != nil || s != p {
				return s, false, err
			}
			return prev, true, nil
		}
	case c == '-' || isDigit(c):
		n, err := d.readNumber()
		if err != nil {
			return nil, false, err
		}
		if sameNumber(n, prev) {
			return prev, true, nil
		}
		if n.isInt {
			return n.i, false, nil
		}
		return n.f, false, nil
	}
	v, err = d.Value()
	// Literals: true, false and null compare as interfaces.
	return v, err == nil && isLiteral(v) && v == prev, err
}

func isLiteral(v any) bool {
	switch v.(type) {
	case bool, nil:
		return true
	}
	return false
}

// sameNumber reports whether n decodes to prev: the same Go type and value,
// float64s to the bit (0 and -0 differ, as in a fresh decode).
func sameNumber(n number, prev any) bool {
	switch p := prev.(type) {
	case int64:
		return n.isInt && n.i == p
	case float64:
		return !n.isInt && math.Float64bits(n.f) == math.Float64bits(p)
	}
	return false
}

// objectLike decodes an object, each member like prev's member of the
// same key, and returns prev itself when every member is prev's and the
// keys are all of prev's.
func (d *Decoder) objectLike(prev map[string]any) (any, bool, error) {
	start := d.pos
	if err := d.enter(); err != nil {
		return nil, false, err
	}
	if d.empty('}') {
		if len(prev) == 0 {
			return prev, true, nil
		}
		return map[string]any{}, false, nil
	}
	keyBase, valBase := len(d.keys), len(d.vals)
	sp := d.openSpan(start)
	unchanged := true
	for {
		k, err := d.key()
		if err != nil {
			return nil, false, err
		}
		p, ok := prev[k]
		v, same, err := d.valueLike(p)
		if err != nil {
			return nil, false, err
		}
		unchanged = unchanged && ok && same
		d.keys = append(d.keys, k)
		d.vals = append(d.vals, v)
		if done, err := d.next('}'); err != nil {
			return nil, false, err
		} else if done {
			break
		}
	}
	// Every key is one of prev's: as many distinct keys as prev has are
	// all of them.
	if keys := d.keys[keyBase:]; unchanged && len(keys) == len(prev) && distinct(keys) {
		d.drop(keyBase, valBase)
		d.closeSpan(sp, mapID(prev))
		return prev, true, nil
	}
	m := d.makeMap(keyBase, valBase)
	d.closeSpan(sp, mapID(m))
	return m, false, nil
}

// arrayLike decodes an array, each element like prev's element at the
// same index, and returns prev itself when every element is prev's.
func (d *Decoder) arrayLike(prev []any) (any, bool, error) {
	start := d.pos
	if err := d.enter(); err != nil {
		return nil, false, err
	}
	if d.empty(']') {
		if len(prev) == 0 {
			return prev, true, nil
		}
		return []any{}, false, nil
	}
	base := len(d.vals)
	sp := d.openSpan(start)
	unchanged := true
	for i := 0; ; i++ {
		var p any
		if i < len(prev) {
			p = prev[i]
		}
		v, same, err := d.valueLike(p)
		if err != nil {
			return nil, false, err
		}
		unchanged = unchanged && same
		d.vals = append(d.vals, v)
		if done, err := d.next(']'); err != nil {
			return nil, false, err
		} else if done {
			break
		}
	}
	if unchanged && len(d.vals)-base == len(prev) {
		d.drop(len(d.keys), base)
		d.closeSpan(sp, sliceID(prev))
		return prev, true, nil
	}
	s := d.makeSlice(base)
	d.closeSpan(sp, sliceID(s))
	return s, false, nil
}

// drop pops the stacks to keyBase and valBase.
func (d *Decoder) drop(keyBase, valBase int) {
	d.keys, d.vals = d.keys[:keyBase], d.vals[:valBase]
}

// distinct reports whether keys holds no key twice. Objects are small, so
// comparing pairs beats a set; large ones are sorted (a copy: the order is
// the document's).
func distinct(keys []string) bool {
	if len(keys) > 32 {
		sorted := slices.Clone(keys)
		slices.Sort(sorted)
		return len(slices.Compact(sorted)) == len(keys)
	}
	for i, k := range keys {
		if slices.Contains(keys[:i], k) {
			return false
		}
	}
	return true
}
