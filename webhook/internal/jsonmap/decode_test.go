package jsonmap

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	kjson "sigs.k8s.io/json"
)

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     any
	}{
		{"int", `42`, int64(42)},
		{"negative zero is the int 0", `-0`, int64(0)},
		{"max int64", `9223372036854775807`, int64(math.MaxInt64)},
		{"min int64", `-9223372036854775808`, int64(math.MinInt64)},
		{"beyond int64 is a float", `9223372036854775808`, float64(1 << 63)},
		{"exponent without a dot is a float", `1e3`, float64(1000)},
		{"fraction", `2.50`, 2.5},
		{"underflow is zero", `1e-400`, float64(0)},
		{"string", `"web"`, "web"},
		{"escapes", `"a\"b\\c\/d\n\u00e9"`, "a\"b\\c/d\né"},
		{"surrogate pair", `"\ud83d\ude00"`, "😀"},
		{"lone high surrogate", `"\ud800x"`, "\uFFFDx"},
		{"high surrogate then a letter escape", `"\ud800\u0041"`, "\uFFFDA"},
		{"invalid UTF-8 byte by byte", "\"a\xff\xfeb\"", "a\uFFFD\uFFFDb"},
		{"truncated UTF-8", "\"\xe2\x82\"", "\uFFFD\uFFFD"},
		{"encoded surrogate", "\"\xed\xa0\x80\"", "\uFFFD\uFFFD\uFFFD"},
		{"last duplicate wins", `{"a":1,"b":2,"a":3}`, map[string]any{"a": int64(3), "b": int64(2)}},
		{"empty containers", ` { "o" : { } , "a" : [ ] } `, map[string]any{"o": map[string]any{}, "a": []any{}}},
		{"nested", `[null,true,false,[1.5,{"x":"y"}]]`, []any{nil, true, false, []any{1.5, map[string]any{"x": "y"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if p, ok := same(got, tc.want, "$"); !ok {
				t.Fatalf("at %s: got %#v, want %#v", p, got, tc.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, in := range []string{
		``, `   `, `{`, `}`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `[1 2]`, `01`, `1.`, `-`, `+1`, `.5`, `1e`,
		`NaN`, `Infinity`, `nul`, `truex`, `"abc`, `"a\x"`, `"\u12"`, `"\u12g4"`, "\"a\nb\"", "\"\x00\"", `"\'"`,
		`1 2`, `{} {}`, `[]]`, `1e999`, `-1e999`, `[1e400]`, `{"a":[1,2,{"b":1e309}]}`,
	} {
		t.Run(in, func(t *testing.T) {
			if v, err := Decode([]byte(in)); err == nil {
				t.Fatalf("decoded %#v, want an error", v)
			}
			var v any
			if kjson.UnmarshalCaseSensitivePreserveInts([]byte(in), &v) == nil {
				t.Fatal("sigs.k8s.io/json accepts it: the case is wrong")
			}
		})
	}
}

// TestDepthLimit: encoding/json refuses the 10,001st level of nesting, and
// so must Decode and Skip, in objects and arrays.
func TestDepthLimit(t *testing.T) {
	nest := func(n int, open, close string) []byte {
		return []byte(strings.Repeat(open, n) + "0" + strings.Repeat(close, n))
	}
	for _, tc := range []struct{ open, close string }{{"[", "]"}, {`{"k":`, "}"}} {
		for _, n := range []int{maxDepth, maxDepth + 1} {
			data := nest(n, tc.open, tc.close)
			var want any
			wantErr := kjson.UnmarshalCaseSensitivePreserveInts(data, &want) != nil
			if wantErr != (n > maxDepth) {
				t.Fatalf("sigs.k8s.io/json at depth %d: error %v", n, wantErr)
			}
			if _, err := Decode(data); (err != nil) != wantErr {
				t.Errorf("Decode %s at depth %d: error %v", tc.open, n, err)
			}
			if _, err := NewDecoder(data).Skip(); (err != nil) != wantErr {
				t.Errorf("Skip %s at depth %d: error %v", tc.open, n, err)
			}
		}
	}
}

// TestStringsShareInput: plain strings are substrings of one copy of the
// input, so changing the input afterwards changes nothing decoded.
func TestStringsShareInput(t *testing.T) {
	data := []byte(`{"name":"web","note":"caf\u00e9"}`)
	v, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range data {
		data[i] = 'x'
	}
	m := v.(map[string]any)
	if m["name"] != "web" || m["note"] != "café" {
		t.Fatalf("decoded values changed with the input: %#v", m)
	}
}

func TestStream(t *testing.T) {
	data := []byte(` {"kind":"Review","skip":{"a":[1e999,"\u0041"]},"obj":{"n":1},"list":["x","y"]} `)
	d := NewDecoder(data)
	var kind string
	var skipped, raw []byte
	var obj any
	var list []string
	err := d.Object(func(key string) error {
		var err error
		switch key {
		case "kind":
			kind, err = d.String()
		case "skip":
			skipped, err = d.Skip()
		case "obj":
			obj, raw, err = d.RawValueLike(nil)
		case "list":
			err = d.Array(func() error {
				s, err := d.String()
				list = append(list, s)
				return err
			})
		default:
			t.Fatalf("unexpected key %q", key)
		}
		return err
	})
	if err == nil {
		err = d.Finish()
	}
	if err != nil {
		t.Fatal(err)
	}
	if kind != "Review" || string(skipped) != `{"a":[1e999,"\u0041"]}` || string(raw) != `{"n":1}` || strings.Join(list, ",") != "x,y" {
		t.Fatalf("kind %q skipped %s raw %s list %v", kind, skipped, raw, list)
	}
	if p, ok := same(obj, map[string]any{"n": int64(1)}, "$"); !ok {
		t.Fatalf("at %s: %#v", p, obj)
	}
	if err := NewDecoder([]byte(`5`)).Object(func(string) error { return nil }); err == nil {
		t.Fatal("Object accepted a number")
	}
	if _, err := NewDecoder([]byte(`null`)).String(); err == nil {
		t.Fatal("String accepted null")
	}
	var e *SyntaxError
	if _, err := NewDecoder([]byte(`[1,,]`)).Skip(); !errors.As(err, &e) || e.Offset != 3 {
		t.Fatalf("Skip error %v, want a SyntaxError at offset 3", err)
	}
}

// TestDecodeLikeShares: what did not change is the other value's own map
// or slice; what changed, and every object on the way to it, is new.
func TestDecodeLikeShares(t *testing.T) {
	prev, err := Decode([]byte(`{"metadata":{"name":"web","resourceVersion":"7"},"spec":{"replicas":2,"template":{"containers":[{"name":"a"}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	v, err := DecodeLike([]byte(`{"metadata":{"name":"web","resourceVersion":"8"},"spec":{"template":{"containers":[{"name":"a"}]},"replicas":3}}`), prev)
	if err != nil {
		t.Fatal(err)
	}
	sameMap := func(a, b any) bool { return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer() }
	p, m := prev.(map[string]any), v.(map[string]any)
	pSpec, mSpec := p["spec"].(map[string]any), m["spec"].(map[string]any)
	switch {
	case sameMap(p, m), sameMap(p["metadata"], m["metadata"]), sameMap(pSpec, mSpec):
		t.Error("a changed object is shared")
	case !sameMap(pSpec["template"], mSpec["template"]):
		t.Error("the unchanged template is not shared")
	case mSpec["replicas"] != int64(3) || m["metadata"].(map[string]any)["resourceVersion"] != "8":
		t.Errorf("decoded %#v", m)
	}
}

// TestPlainPrefix: the word-at-a-time scan stops where the byte-at-a-time
// one does, for every byte value at every position of a word.
func TestPlainPrefix(t *testing.T) {
	for c := range 256 {
		for at := range 20 {
			data := []byte(strings.Repeat("a", 20))
			data[at] = byte(c)
			want := 20
			if !plain[c] {
				want = at
			}
			if got := plainPrefix(data, 0); got != want {
				t.Fatalf("byte %#x at %d: %d, want %d", c, at, got, want)
			}
		}
	}
	// Several marks in a word, where borrows set marks above the first.
	alphabet := []byte{'a', ' ', 0x1f, 0x00, 0x01, '"', '\\', 0x7f, 0x80, 0xff, 0x21, 0x5b, 0x5d}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		data := make([]byte, r.IntN(40))
		for i := range data {
			data[i] = alphabet[r.IntN(len(alphabet))]
		}
		start := 0
		if len(data) > 0 {
			start = r.IntN(len(data))
		}
		want := start
		for want < len(data) && plain[data[want]] {
			want++
		}
		if got := plainPrefix(data, start); got != want {
			t.Fatalf("%q from %d: %d, want %d", data, start, got, want)
		}
	}
}
