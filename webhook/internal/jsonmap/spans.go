package jsonmap

import (
	"bytes"
	"unsafe"
)

// An UPDATE's oldObject is written by the same encoder as its object and
// differs from it in a few fields, so most of its text is the object's,
// byte for byte. Decoding it like the object (see like.go) shares the
// object's values but still parses every byte. Spans remember where each
// container of the object lies in its text; decoding the oldObject with
// them compares the text at each container against the object's text
// for that container and, where it is equal, returns the object's
// container and moves past the text without parsing it. Equal text is an
// equal value: the object's text was decoded without error, and an object
// or array text ends where its brackets close, so it cannot continue
// differently.

// Spans records where the containers of a decoded value lie in its text:
// DecodeLikeOwnedRecord and Decoder.RawValueLikeRecord make them,
// DecodeLikeOwnedSpans and Decoder.RawValueLikeSpans use them. Empty
// containers are not recorded: Go may give them all one address, and
// they cost nothing to decode.
type Spans struct {
	text []byte
	// list holds one span per container, in the order their texts start
	// (a container before its members), so that the members of the
	// container at i are the chain i+1, list[i+1].next, ... before
	// list[i].next.
	list []span
}

type span struct {
	// id is the container's identity (see mapID, sliceID); it also keeps
	// the container alive, so no later one can take its address.
	id unsafe.Pointer
	// start and end delimit the container's text; next is the index
	// after the spans of its members.
	start, end, next int
	// depth is the nesting depth outside the container: its text was
	// checked against maxDepth only that deep.
	depth int
}

// mapID and sliceID are the identities of a non-empty map and slice: the
// map's own pointer, the slice's array. Both stay the same wherever the
// container is stored. They are only compared and kept, never followed.
func mapID(m map[string]any) unsafe.Pointer {
	// A map value is one pointer, as reflect's Value.UnsafePointer reads it.
	return *(*unsafe.Pointer)(unsafe.Pointer(&m)) //nolint:gosec // audited: read as a pointer, never dereferenced
}

func sliceID(s []any) unsafe.Pointer {
	return unsafe.Pointer(unsafe.SliceData(s)) //nolint:gosec // audited: compared, never dereferenced
}

// DecodeLikeOwnedRecord is DecodeLikeOwned that records the spans of the
// result's containers into spans, for DecodeLikeOwnedSpans: the
// whole-text form of RawValueLikeRecord, for a caller that keeps its
// Spans (Reset them before reuse).
func DecodeLikeOwnedRecord(data []byte, prev any, spans *Spans) (any, error) {
	return decodeOwned(data, func(d *Decoder) (any, error) {
		d.startRecording(spans)
		v, err := d.ValueLike(prev)
		d.rec = nil
		return v, err
	})
}

// DecodeLikeOwnedSpans is DecodeLikeOwned with the spans of prev that
// DecodeLikeOwnedRecord recorded.
func DecodeLikeOwnedSpans(data []byte, prev any, spans *Spans) (any, error) {
	return decodeOwned(data, func(d *Decoder) (any, error) {
		v, _, err := d.RawValueLikeSpans(prev, spans)
		return v, err
	})
}

// Reset drops what s records, which keeps the recorded containers alive,
// and keeps its room for the next recording.
func (s *Spans) Reset() {
	clear(s.list)
	s.text, s.list = nil, s.list[:0]
}

// RawValueLikeRecord is RawValueLike that also returns the spans of the
// value's containers in the decoder's input. They belong to the Decoder:
// they are valid until the next RawValueLikeRecord or until the Decoder
// is released (the end of ReadOwned's read).
func (d *Decoder) RawValueLikeRecord(prev any) (any, []byte, *Spans, error) {
	d.startRecording(&d.own)
	v, text, err := d.RawValueLike(prev)
	d.rec = nil
	if err != nil {
		return nil, nil, nil, err
	}
	return v, text, &d.own, nil
}

// RawValueLikeSpans is RawValueLike for a prev that RawValueLikeRecord or
// DecodeLikeOwnedRecord recorded (nil for none): where the input
// holds the same text as prev's at the same place, it is not parsed
// again.
func (d *Decoder) RawValueLikeSpans(prev any, spans *Spans) (any, []byte, error) {
	if spans == nil {
		return d.RawValueLike(prev)
	}
	// The spans of the top level: prev's own, if it has one.
	d.use, d.lo, d.hi, d.hint = spans, 0, len(spans.list), 0
	v, text, err := d.RawValueLike(prev)
	d.use = nil
	return v, text, err
}

func (d *Decoder) startRecording(spans *Spans) {
	clear(spans.list)
	spans.text, spans.list = d.data, spans.list[:0]
	d.rec = spans
}

// openSpan starts the span of a non-empty container whose text starts at
// start, outside the container's depth; -1 when not recording.
func (d *Decoder) openSpan(start int) int {
	if d.rec == nil {
		return -1
	}
	d.rec.list = append(d.rec.list, span{start: start, depth: d.depth - 1})
	return len(d.rec.list) - 1
}

// closeSpan ends span i (from openSpan) at the end of its container, id.
func (d *Decoder) closeSpan(i int, id unsafe.Pointer) {
	if i < 0 {
		return
	}
	s := &d.rec.list[i]
	s.id, s.end, s.next = id, d.pos, len(d.rec.list)
}

// spanOf returns the index of the span of the container id among the
// members of the container being decoded like its counterpart (d.lo to
// d.hi), -1 when there is none. The member after the last one found is
// tried first: the texts usually hold the members in the same order.
func (d *Decoder) spanOf(id unsafe.Pointer) int {
	list := d.use.list
	if d.hint < d.hi && list[d.hint].id == id {
		return d.hint
	}
	for i := d.lo; i < d.hi; i = list[i].next {
		if list[i].id == id {
			return i
		}
	}
	return -1
}

// skipSame moves past the container at d.pos when its text is that of
// span i, and reports whether it did.
func (d *Decoder) skipSame(i int) bool {
	s := &d.use.list[i]
	n := s.end - s.start
	// Deeper than where it was checked, its text could exceed maxDepth.
	if d.depth > s.depth || len(d.data)-d.pos < n || !bytes.Equal(d.data[d.pos:d.pos+n], d.use.text[s.start:s.end]) {
		return false
	}
	d.pos += n
	d.skipped += n
	return true
}

// containerLike decodes the container at d.pos like prev, whose identity
// is id, with d.use's spans: prev itself without parsing when the text is
// prev's; otherwise decoded by like, with the spans of prev's members.
func (d *Decoder) containerLike(prev any, id unsafe.Pointer, like func() (any, bool, error)) (any, bool, error) {
	i := d.spanOf(id)
	if i < 0 {
		// No span for prev, none for its members either.
		lo, hi := d.lo, d.hi
		d.lo, d.hi = 0, 0
		v, same, err := like()
		d.lo, d.hi = lo, hi
		return v, same, err
	}
	next := d.use.list[i].next
	if d.skipSame(i) {
		d.hint = next
		return prev, true, nil
	}
	lo, hi := d.lo, d.hi
	d.lo, d.hi, d.hint = i+1, next, i+1
	v, same, err := like()
	d.lo, d.hi, d.hint = lo, hi, next
	return v, same, err
}
