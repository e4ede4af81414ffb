package jsonmap

// The methods here let a caller that knows the shape of a document (an
// AdmissionReview) walk its outer levels itself and decode only the parts
// it wants as generic values, in the same pass.

// Kind is the type of the next value.
type Kind uint8

const (
	// Invalid: the input ends, or no value starts with the next byte.
	Invalid Kind = iota
	Null
	Bool
	Number
	String
	Array
	Object
)

// Peek returns the kind of the next value without consuming it.
func (d *Decoder) Peek() Kind {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return Invalid
	}
	switch c := d.data[d.pos]; c {
	case '{':
		return Object
	case '[':
		return Array
	case '"':
		return String
	case 't', 'f':
		return Bool
	case 'n':
		return Null
	default:
		if c == '-' || isDigit(c) {
			return Number
		}
		return Invalid
	}
}

// String reads the next value, which must be a string.
func (d *Decoder) String() (string, error) {
	if d.Peek() != String {
		return "", d.errorf("not a string")
	}
	return d.string()
}

// RawValueLike decodes the next value like prev (see DecodeLike; nil
// for none) and also returns its text, a slice of the input whose
// capacity ends with it (so appending to it copies).
func (d *Decoder) RawValueLike(prev any) (any, []byte, error) {
	d.skipSpace()
	start := d.pos
	v, err := d.ValueLike(prev)
	if err != nil {
		return nil, nil, err
	}
	return v, d.data[start:d.pos:d.pos], nil
}

// Skip validates the next value without decoding it and returns its
// text. As with encoding/json's skipping of a value it does not store, a
// number is checked against JSON's grammar but not converted. The text is
// a slice of the input, as RawValueLike's.
func (d *Decoder) Skip() ([]byte, error) {
	d.skipSpace()
	start := d.pos
	if err := d.skip(); err != nil {
		return nil, err
	}
	return d.data[start:d.pos:d.pos], nil
}

func (d *Decoder) skip() error {
	switch d.Peek() {
	case Object:
		return d.skipContainer('}')
	case Array:
		return d.skipContainer(']')
	case String:
		return d.skipString()
	case Number:
		end, _, ok := scanNumber(d.data, d.pos)
		d.pos = end
		if !ok {
			return d.errorf("invalid number")
		}
		return nil
	default:
		// Literals, and the error for anything else.
		_, err := d.Value()
		return err
	}
}

// skipContainer skips an object or array: Object and Array would make a
// string of every key.
func (d *Decoder) skipContainer(closing byte) error {
	if err := d.enter(); err != nil {
		return err
	}
	if d.empty(closing) {
		return nil
	}
	for {
		if closing == '}' {
			if err := d.skipKey(); err != nil {
				return err
			}
		}
		if err := d.skip(); err != nil {
			return err
		}
		if done, err := d.next(closing); err != nil || done {
			return err
		}
	}
}

// skipKey skips a member's key and the colon after it.
func (d *Decoder) skipKey() error {
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		return d.errorf("looking for beginning of object key string")
	}
	if err := d.skipString(); err != nil {
		return err
	}
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != ':' {
		return d.errorf("after object key")
	}
	d.pos++
	return nil
}

// Object reads the next value, which must be an object, calling member
// for each key in order. member must consume the member's value (with
// Value, ValueLike, RawValueLike, Skip, String, Object or Array) or return an error,
// which Object returns.
func (d *Decoder) Object(member func(key string) error) error {
	if d.Peek() != Object {
		return d.errorf("not an object")
	}
	if err := d.enter(); err != nil {
		return err
	}
	if d.empty('}') {
		return nil
	}
	for {
		k, err := d.key()
		if err != nil {
			return err
		}
		if err := member(k); err != nil {
			return err
		}
		if done, err := d.next('}'); err != nil || done {
			return err
		}
	}
}

// Array reads the next value, which must be an array, calling elem for
// each element; elem must consume it, as Object's member does.
func (d *Decoder) Array(elem func() error) error {
	if d.Peek() != Array {
		return d.errorf("not an array")
	}
	if err := d.enter(); err != nil {
		return err
	}
	if d.empty(']') {
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		if done, err := d.next(']'); err != nil || done {
			return err
		}
	}
}

// skipString validates the string at d.pos without unquoting it.
func (d *Decoder) skipString() error {
	i := plainPrefix(d.data, d.pos+1)
	if i < len(d.data) && d.data[i] == '"' {
		d.pos = i + 1
		return nil
	}
	end, _, err := d.scanString(i)
	if err != nil {
		return err
	}
	d.pos = end + 1
	return nil
}
