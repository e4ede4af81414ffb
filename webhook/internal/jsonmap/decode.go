package jsonmap

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"
	"sync"
	"unicode/utf8"
)

// maxDepth is encoding/json's nesting limit: the 10,001st open bracket is
// an error.
const maxDepth = 10000

// SyntaxError is an input that is not one JSON value, or a number out of
// float64's range.
type SyntaxError struct {
	msg string
	// Offset is the byte offset in the input where the error was found.
	Offset int
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("json: %s (at offset %d)", e.msg, e.Offset)
}

// Decode decodes data, one JSON value with optional whitespace around it.
func Decode(data []byte) (any, error) { return decode(data, string(data), (*Decoder).Value) }

// decode runs value on a pooled Decoder over data, whose strings are
// substrings of str (data as a string), and checks that nothing but
// whitespace follows.
func decode(data []byte, str string, value func(*Decoder) (any, error)) (any, error) {
	d := decoders.Get().(*Decoder)
	d.reset(data, str)
	v, err := value(d)
	if err == nil {
		err = d.Finish()
	}
	d.release()
	if err != nil {
		return nil, err
	}
	return v, nil
}

// decoders keeps Decoders (and their stacks) across calls to Decode.
var decoders = sync.Pool{New: func() any { return new(Decoder) }}

// Decoder reads one JSON text value by value; see Decode for the whole
// text at once. The zero Decoder is not usable; make one with NewDecoder.
type Decoder struct {
	data []byte
	// str is data as a string: strings without escapes are substrings of
	// it, which costs one copy of the input instead of one per string.
	// NewDecoder leaves it empty and copies each string it returns: its
	// callers read a few strings of a document and skip the rest.
	str   string
	pos   int
	depth int
	// keys and vals hold the members of the objects and the elements of
	// the arrays being decoded, so that each map and slice is made once,
	// at its final size.
	keys []string
	vals []any
	// rec, when set, records the spans of the containers decoded (see
	// spans.go); own is the Spans RawValueLikeRecord records into, kept
	// with the Decoder.
	rec *Spans
	own Spans
	// use, when set, holds the spans of the value being decoded like
	// (RawValueLikeSpans): those of the members of the container being
	// decoded are the chain from lo to hi, hint the one tried first.
	use          *Spans
	lo, hi, hint int
	// skipped counts the bytes the spans let through unparsed, for tests.
	skipped int
}

// NewDecoder returns a Decoder that reads data.
func NewDecoder(data []byte) *Decoder {
	return &Decoder{data: data}
}

func (d *Decoder) reset(data []byte, str string) {
	d.data, d.str, d.pos, d.depth, d.skipped = data, str, 0, 0, 0
}

// release returns d to the pool; stacks grown by a huge document are
// dropped rather than kept. What the stacks held is cleared here, once,
// rather than at every pop: the values popped are the document's, alive
// until the caller drops them anyway.
func (d *Decoder) release() {
	d.data, d.str = nil, ""
	d.rec, d.use = nil, nil
	// The spans hold the containers they record and the text.
	clear(d.own.list)
	d.own.text, d.own.list = nil, d.own.list[:0]
	if cap(d.own.list) > 1<<12 {
		d.own.list = nil
	}
	if cap(d.vals) > 1<<12 || cap(d.keys) > 1<<12 {
		d.keys, d.vals = nil, nil
	}
	clear(d.keys[:cap(d.keys)])
	clear(d.vals[:cap(d.vals)])
	d.keys, d.vals = d.keys[:0], d.vals[:0]
	decoders.Put(d)
}

// Value decodes the next value.
func (d *Decoder) Value() (any, error) {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return nil, d.errorf("unexpected end of JSON input")
	}
	switch c := d.data[d.pos]; c {
	case '{':
		return d.object()
	case '[':
		return d.array()
	case '"':
		s, err := d.string()
		if err != nil {
			return nil, err
		}
		return s, nil
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.literal("null")
	default:
		if c == '-' || isDigit(c) {
			return d.number()
		}
		return nil, d.errorf("invalid character %q looking for beginning of value", c)
	}
}

// Finish checks that only whitespace follows the values read.
func (d *Decoder) Finish() error {
	d.skipSpace()
	if d.pos < len(d.data) {
		return d.errorf("invalid character %q after top-level value", d.data[d.pos])
	}
	return nil
}

func (d *Decoder) object() (any, error) {
	start := d.pos
	if err := d.enter(); err != nil {
		return nil, err
	}
	keyBase, valBase := len(d.keys), len(d.vals)
	if d.empty('}') {
		return map[string]any{}, nil
	}
	sp := d.openSpan(start)
	for {
		k, err := d.key()
		if err != nil {
			return nil, err
		}
		v, err := d.Value()
		if err != nil {
			return nil, err
		}
		d.keys = append(d.keys, k)
		d.vals = append(d.vals, v)
		if done, err := d.next('}'); err != nil {
			return nil, err
		} else if done {
			break
		}
	}
	m := d.makeMap(keyBase, valBase)
	d.closeSpan(sp, mapID(m))
	return m, nil
}

// makeMap makes the map of the members on the stacks from keyBase and
// valBase, and pops them.
func (d *Decoder) makeMap(keyBase, valBase int) map[string]any {
	keys, vals := d.keys[keyBase:], d.vals[valBase:]
	m := make(map[string]any, len(keys))
	for i, k := range keys {
		// In order, so that of duplicate keys the last wins.
		m[k] = vals[i]
	}
	d.keys, d.vals = d.keys[:keyBase], d.vals[:valBase]
	return m
}

func (d *Decoder) array() (any, error) {
	start := d.pos
	if err := d.enter(); err != nil {
		return nil, err
	}
	base := len(d.vals)
	if d.empty(']') {
		return []any{}, nil
	}
	sp := d.openSpan(start)
	for {
		v, err := d.Value()
		if err != nil {
			return nil, err
		}
		d.vals = append(d.vals, v)
		if done, err := d.next(']'); err != nil {
			return nil, err
		} else if done {
			break
		}
	}
	s := d.makeSlice(base)
	d.closeSpan(sp, sliceID(s))
	return s, nil
}

// makeSlice makes the slice of the elements on the stack from base, and
// pops them.
func (d *Decoder) makeSlice(base int) []any {
	vals := d.vals[base:]
	out := make([]any, len(vals))
	copy(out, vals)
	d.vals = d.vals[:base]
	return out
}

// enter consumes an open bracket, one level deeper.
func (d *Decoder) enter() error {
	d.depth++
	if d.depth > maxDepth {
		return d.errorf("exceeded max depth")
	}
	d.pos++
	return nil
}

// empty consumes the closing bracket of an empty object or array and
// reports whether it did.
func (d *Decoder) empty(closing byte) bool {
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == closing {
		d.pos++
		d.depth--
		return true
	}
	return false
}

// next consumes the comma before another member or element, or the
// closing bracket (done).
func (d *Decoder) next(closing byte) (done bool, err error) {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return false, d.errorf("unexpected end of JSON input")
	}
	switch c := d.data[d.pos]; c {
	case ',':
		d.pos++
		return false, nil
	case closing:
		d.pos++
		d.depth--
		return true, nil
	default:
		return false, d.errorf("invalid character %q after %s", c, containerName(closing))
	}
}

func containerName(closing byte) string {
	if closing == '}' {
		return "object key:value pair"
	}
	return "array element"
}

// key reads a member's key and the colon after it.
func (d *Decoder) key() (string, error) {
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return "", d.errorf("looking for beginning of object key string")
	}
	k, err := d.string()
	if err != nil {
		return "", err
	}
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != ':' {
		return "", d.errorf("after object key")
	}
	d.pos++
	return k, nil
}

func (d *Decoder) literal(word string) error {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return d.errorf("invalid literal, want %s", word)
	}
	d.pos += len(word)
	return nil
}

// number converts as sigs.k8s.io/json does with PreserveInts: a literal
// without a '.' that parses as an int64 is one; anything else is the
// float64 strconv.ParseFloat makes of it.
func (d *Decoder) number() (any, error) {
	n, err := d.readNumber()
	if err != nil {
		return nil, err
	}
	if n.isInt {
		return n.i, nil
	}
	return n.f, nil
}

// number is a decoded number before it is boxed in an interface.
type number struct {
	i     int64
	f     float64
	isInt bool
}

func (d *Decoder) readNumber() (number, error) {
	start := d.pos
	end, integer, ok := scanNumber(d.data, start)
	if !ok {
		d.pos = end
		return number{}, d.errorf("invalid number")
	}
	d.pos = end
	if integer {
		if i, ok := smallInt(d.data[start:end]); ok {
			return number{i: i, isInt: true}, nil
		}
	}
	s := d.text(start, end)
	if integer {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return number{i: i, isInt: true}, nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		d.pos = start
		return number{}, d.errorf("number %s out of range", s)
	}
	return number{f: f}, nil
}

// scanNumber returns the end of the number at data[i:] (JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?), whether it has neither
// fraction nor exponent, and whether it is well formed.
func scanNumber(data []byte, i int) (end int, integer, ok bool) {
	if data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && isDigit(data[i]):
		i = digits(data, i)
	default:
		return i, false, false
	}
	integer = true
	if i < len(data) && data[i] == '.' {
		integer = false
		if i++; i >= len(data) || !isDigit(data[i]) {
			return i, false, false
		}
		i = digits(data, i)
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		integer = false
		if i++; i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !isDigit(data[i]) {
			return i, false, false
		}
		i = digits(data, i)
	}
	return i, integer, true
}

func digits(data []byte, i int) int {
	for i < len(data) && isDigit(data[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// smallInt converts an integer literal of at most 18 digits, which cannot
// overflow int64, without strconv's generality.
func smallInt(s []byte) (int64, bool) {
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := range len(s) {
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// plain marks the bytes a string can hold as they are: printable ASCII
// other than the quote and the backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainPrefix returns the end of the plain bytes from data[i:], eight at a
// time while it can: a word holds a byte that is not plain when one is
// below 0x20, at or above 0x80, a quote or a backslash.
func plainPrefix(data []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for i+8 <= len(data) {
		w := binary.LittleEndian.Uint64(data[i:])
		quote, backslash := w^(ones*'"'), w^(ones*'\\')
		// (x - ones*n) &^ x & highs marks the bytes of x below n (the
		// classic test for a zero byte, with n = 1): the lowest mark is
		// exact, marks above it may be borrows. w's own high bits are
		// its bytes at or above 0x80.
		control := (w - ones*0x20) &^ w
		quotes := (quote - ones) &^ quote
		backslashes := (backslash - ones) &^ backslash
		if marks := (control | quotes | backslashes | w) & highs; marks != 0 {
			return i + bits.TrailingZeros64(marks)/8
		}
		i += 8
	}
	for i < len(data) && plain[data[i]] {
		i++
	}
	return i
}

// string reads the string at d.pos. Most strings are plain ASCII and
// come back as substrings of the input; others are validated and then
// unquoted as encoding/json does.
func (d *Decoder) string() (string, error) {
	start := d.pos + 1
	i := plainPrefix(d.data, start)
	if i < len(d.data) && d.data[i] == '"' {
		d.pos = i + 1
		return d.text(start, i), nil
	}
	end, escaped, err := d.scanString(i)
	if err != nil {
		return "", err
	}
	d.pos = end + 1
	if !escaped && utf8.Valid(d.data[start:end]) {
		return d.text(start, end), nil
	}
	return unquote(d.data[start:end]), nil
}

// scanString validates the rest of a string from i and returns the
// offset of its closing quote and whether it has escapes.
func (d *Decoder) scanString(i int) (end int, escaped bool, err error) {
	data := d.data
	for ; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			return i, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(data) {
				break
			}
			i++
			switch data[i] {
			case 'b', 'f', 'n', 'r', 't', '\\', '/', '"':
			case 'u':
				if i+4 >= len(data) || hexValue(data[i+1:i+5]) < 0 {
					d.pos = i
					return 0, false, d.errorf("invalid \\u escape in string literal")
				}
				i += 4
			default:
				d.pos = i
				return 0, false, d.errorf("invalid character %q in string escape code", data[i])
			}
		case c < 0x20:
			d.pos = i
			return 0, false, d.errorf("invalid character %q in string literal", c)
		}
	}
	d.pos = len(data)
	return 0, false, d.errorf("unexpected end of JSON input")
}

// text returns data[start:end] as a string: a substring of str, or a copy
// when there is none.
func (d *Decoder) text(start, end int) string {
	if d.str != "" {
		return d.str[start:end]
	}
	return string(d.data[start:end])
}

func (d *Decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *Decoder) errorf(format string, args ...any) error {
	return &SyntaxError{msg: fmt.Sprintf(format, args...), Offset: d.pos}
}
