package conform

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"maps"
	"math"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// scalarEqual compares two scalars. Numbers compare by value whatever their
// decoded Go type (1, int64(1), 1.0 and json.Number("1") are equal); strings
// and numbers never equal each other, because the API server keeps an
// int-or-string's JSON type. Quantities, times, durations and bytes compare
// by what they denote, because the server rewrites them to a canonical form.
func scalarEqual(s *shape, a, b any) bool {
	if x, ok := a.(string); ok {
		// The usual case, and equal text denotes an equal quantity, time
		// or byte string too: skip parsing.
		if y, ok := b.(string); ok && x == y {
			return true
		}
	}
	if s != nil {
		switch s.scalar {
		case scalarQuantity:
			if eq, ok := quantityEqual(a, b); ok {
				return eq
			}
		case scalarTime:
			if eq, ok := timeEqual(a, b); ok {
				return eq
			}
		case scalarBytes:
			if eq, ok := bytesEqual(a, b); ok {
				return eq
			}
		}
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	}
	na, ok := toNumber(a)
	if !ok {
		return false
	}
	nb, ok := toNumber(b)
	return ok && na.equal(nb)
}

// number is a decoded JSON number: exact when it is an integer that fits
// int64, a float otherwise.
type number struct {
	i     int64
	f     float64
	isInt bool
}

func (n number) isZero() bool { return (n.isInt && n.i == 0) || (!n.isInt && n.f == 0) }

func (n number) equal(o number) bool {
	if n.isInt && o.isInt {
		return n.i == o.i
	}
	return n.f == o.f
}

func intNumber(i int64) number { return number{i: i, f: float64(i), isInt: true} }

func floatNumber(f float64) number {
	if f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64 {
		return intNumber(int64(f))
	}
	return number{f: f}
}

func toNumber(v any) (number, bool) {
	switch x := v.(type) {
	case float64:
		return floatNumber(x), true
	case int64:
		return intNumber(x), true
	case int:
		return intNumber(int64(x)), true
	case int32:
		return intNumber(int64(x)), true
	case float32:
		return floatNumber(float64(x)), true
	case uint64:
		if x > math.MaxInt64 {
			return number{f: float64(x)}, true
		}
		return intNumber(int64(x)), true
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return intNumber(i), true
		}
		if f, err := x.Float64(); err == nil {
			return floatNumber(f), true
		}
	}
	return number{}, false
}

// quantityEqual compares two resource quantities ("1000m" == "1",
// "1Gi" == "1073741824", 0.5 == "500m"); ok is false when either side is not
// a quantity, so the caller compares the raw values.
func quantityEqual(a, b any) (eq, ok bool) {
	qa, ok := toQuantity(a)
	if !ok {
		return false, false
	}
	qb, ok := toQuantity(b)
	if !ok {
		return false, false
	}
	return qa.Cmp(qb) == 0, true
}

func toQuantity(v any) (resource.Quantity, bool) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	default:
		n, ok := toNumber(v)
		if !ok {
			return resource.Quantity{}, false
		}
		if n.isInt {
			s = strconv.FormatInt(n.i, 10)
		} else {
			s = strconv.FormatFloat(n.f, 'f', -1, 64)
		}
	}
	q, err := resource.ParseQuantity(s)
	return q, err == nil
}

// timeEqual compares two timestamps by the instant they name (the server
// rewrites fractions and zones).
func timeEqual(a, b any) (eq, ok bool) {
	sa, okA := a.(string)
	sb, okB := b.(string)
	if !okA || !okB {
		return false, false
	}
	pa, err := time.Parse(time.RFC3339Nano, sa)
	if err != nil {
		return false, false
	}
	pb, err := time.Parse(time.RFC3339Nano, sb)
	if err != nil {
		return false, false
	}
	return pa.Equal(pb), true
}

// bytesEqual compares base64 text by the bytes it encodes: the server
// re-encodes a Secret's data without the line breaks a manifest may have.
func bytesEqual(a, b any) (eq, ok bool) {
	sa, okA := a.(string)
	sb, okB := b.(string)
	if !okA || !okB {
		return false, false
	}
	da, err := base64.StdEncoding.DecodeString(sa)
	if err != nil {
		return false, false
	}
	db, err := base64.StdEncoding.DecodeString(sb)
	if err != nil {
		return false, false
	}
	return bytes.Equal(da, db), true
}

// withStringData folds a Secret's write-only stringData into data, as the
// API server does on write (stringData wins over data for the same key), so
// the manifest compares with what the server keeps. desired is not modified.
func withStringData(desired map[string]any) map[string]any {
	sd, ok := desired["stringData"].(map[string]any)
	if !ok || len(sd) == 0 {
		return desired
	}
	out := maps.Clone(desired)
	delete(out, "stringData")
	data := map[string]any{}
	if d, ok := desired["data"].(map[string]any); ok {
		maps.Copy(data, d)
	}
	rest := map[string]any{}
	for k, v := range sd {
		if s, ok := v.(string); ok {
			data[k] = base64.StdEncoding.EncodeToString([]byte(s))
		} else {
			// Not a string: the server would refuse it; keep it where it
			// was so it is compared (and reported) as written.
			rest[k] = v
		}
	}
	out["data"] = data
	if len(rest) > 0 {
		out["stringData"] = rest
	}
	return out
}
