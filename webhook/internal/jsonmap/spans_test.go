package jsonmap

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// decodeWithSpans decodes data like prev with spans, as the webhook does
// an oldObject, and returns how many bytes the spans let it skip.
func decodeWithSpans(data []byte, prev any, spans *Spans) (any, int, error) {
	d := NewDecoder(data)
	v, _, err := d.RawValueLikeSpans(prev, spans)
	if err == nil {
		err = d.Finish()
	}
	return v, d.skipped, err
}

// record decodes data like prev and records its spans, as the webhook
// does an object.
func record(data []byte, prev any) (any, *Spans, error) {
	spans := new(Spans)
	v, err := DecodeLikeOwnedRecord(data, prev, spans)
	if err != nil {
		return nil, nil, err
	}
	return v, spans, nil
}

// identity is a non-empty container's identity, nil for anything else.
func identity(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) > 0 {
			return reflect.ValueOf(x).UnsafePointer()
		}
	case []any:
		if len(x) > 0 {
			return reflect.ValueOf(x).UnsafePointer()
		}
	}
	return nil
}

// checkSharing walks v and prev together: a non-empty container of v is
// prev's at the same place exactly when the two are equal.
func checkSharing(t *testing.T, v, prev any, path string) {
	t.Helper()
	id := identity(v)
	if id == nil {
		return
	}
	_, equal := same(v, prev, path)
	if shared := id == identity(prev); shared != equal {
		t.Errorf("at %s: shared %v, equal %v", path, shared, equal)
	}
	switch x := v.(type) {
	case map[string]any:
		if p, ok := prev.(map[string]any); ok {
			for k, w := range x {
				checkSharing(t, w, p[k], path+"."+k)
			}
		}
	case []any:
		if p, ok := prev.([]any); ok {
			for i, w := range x {
				if i < len(p) {
					checkSharing(t, w, p[i], path+"[]")
				}
			}
		}
	}
}

// TestSpansSkipEqualText: an oldObject's text that is the object's, byte
// for byte, is skipped whole; one that differs deep inside is skipped
// around the difference; one that differs only in whitespace is parsed.
// The values are Decode's in every case, shared where they are equal.
func TestSpansSkipEqualText(t *testing.T) {
	object, err := os.ReadFile("testdata/deployment.json")
	if err != nil {
		t.Fatal(err)
	}
	object = bytes.TrimSpace(object)
	var indented bytes.Buffer
	if err := json.Indent(&indented, object, "", "  "); err != nil {
		t.Fatal(err)
	}
	deep := bytes.Replace(object, []byte(`"value-1-17"`), []byte(`"value-1-18"`), 1)
	longer := bytes.Replace(object, []byte(`"replicas":3`), []byte(`"replicas":31`), 1)
	for _, tc := range []struct {
		name     string
		old      []byte
		min, max int // bytes skipped
	}{
		{"identical", object, len(object), len(object)},
		{"one byte deep inside", deep, len(object) * 9 / 10, len(object) - 20},
		{"a number one digit longer", longer, len(object) * 8 / 10, len(object) - 20},
		{"indented", indented.Bytes(), 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name != "identical" && bytes.Equal(tc.old, object) {
				t.Fatal("the replacement found nothing")
			}
			prev, spans, err := record(object, nil)
			if err != nil {
				t.Fatal(err)
			}
			v, skipped, err := decodeWithSpans(tc.old, prev, spans)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := Decode(tc.old)
			if p, ok := same(v, want, "$"); !ok {
				t.Fatalf("at %s: %#v, Decode has %#v", p, v, want)
			}
			checkSharing(t, v, prev, "$")
			if skipped < tc.min || skipped > tc.max {
				t.Errorf("skipped %d bytes of %d, want %d to %d", skipped, len(tc.old), tc.min, tc.max)
			}
		})
	}
}

// TestSpansSmallTexts: texts that start alike but differ, as values or
// only as text, and errors after a skipped container.
func TestSpansSmallTexts(t *testing.T) {
	for _, tc := range []struct {
		name, object, old string
		skipped           int
	}{
		{"same", `{"a":{"b":[1,2]},"c":[{"d":1}]}`, `{"a":{"b":[1,2]},"c":[{"d":1}]}`, 31},
		{"a longer array", `{"a":[1,2],"b":{"c":1}}`, `{"a":[1,2,3],"b":{"c":1}}`, len(`{"c":1}`)},
		{"a longer number", `{"a":{"c":1},"b":{"c":1}}`, `{"a":{"c":12},"b":{"c":1}}`, len(`{"c":1}`)},
		{"a shorter text", `{"a":{"c":12},"b":[true]}`, `{"a":{"c":1},"b":[true]}`, len(`[true]`)},
		{"the same value in other text", `{"a":{"c":1.0},"b":[1]}`, `{"a":{"c":1.00},"b":[1]}`, len(`[1]`)},
		{"whitespace inside", `{"a":{"c":1},"b":[1]}`, `{"a":{"c": 1},"b":[ 1]}`, 0},
		{"whitespace around", `{"a":{"c":1},"b":[1]}`, ` { "a" : {"c":1} , "b" :[1] } `, len(`{"c":1}[1]`)},
		{"reordered members", `{"a":{"c":1},"b":[1]}`, `{"b":[1],"a":{"c":1}}`, len(`{"c":1}[1]`)},
		{"a member more", `{"a":{"c":1}}`, `{"a":{"c":1},"x":{"c":1}}`, len(`{"c":1}`)},
		{"a member fewer", `{"a":{"c":1},"x":{"c":1}}`, `{"x":{"c":1}}`, len(`{"c":1}`)},
		{"a duplicate key", `{"a":{"c":1}}`, `{"a":{"c":1},"a":{"c":1}}`, 2 * len(`{"c":1}`)},
		{"a type changed", `{"a":{"c":1},"b":[1]}`, `{"a":[1],"b":{"c":1}}`, 0},
		{"nested arrays", `[[1,[2]],[[2]]]`, `[[1,[2]],[[3]]]`, len(`[1,[2]]`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prev, spans, err := record([]byte(tc.object), nil)
			if err != nil {
				t.Fatal(err)
			}
			v, skipped, err := decodeWithSpans([]byte(tc.old), prev, spans)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := Decode([]byte(tc.old))
			if p, ok := same(v, want, "$"); !ok {
				t.Fatalf("at %s: %#v, Decode has %#v", p, v, want)
			}
			if skipped != tc.skipped {
				t.Errorf("skipped %d bytes, want %d", skipped, tc.skipped)
			}
		})
	}
	// A text that is the object's up to a point and then malformed fails
	// as Decode fails, at the same offset.
	object := `{"a":{"c":1},"b":[1]}`
	for _, old := range []string{`{"a":{"c":1},"b":[1],}`, `{"a":{"c":1}`, `{"a":{"c":1} x`, `{"a":{"c":1}}}`, `{"a":{"c":1`, `[{"c":1},]`} {
		prev, spans, err := record([]byte(object), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = decodeWithSpans([]byte(old), prev, spans)
		_, want := Decode([]byte(old))
		if err == nil || want == nil || err.Error() != want.Error() {
			t.Errorf("%s: error %v, Decode's %v", old, err, want)
		}
	}
}

// TestSpansKeepDepthLimit: a container checked at one depth is not
// skipped deeper down, where its text may exceed the nesting limit.
func TestSpansKeepDepthLimit(t *testing.T) {
	inner := []byte(strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth))
	prev, spans, err := record(inner, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(append(append([]byte(`{"k":`), inner...), '}'))
	err = d.Object(func(string) error {
		_, _, err := d.RawValueLikeSpans(prev, spans)
		return err
	})
	if err == nil {
		t.Fatalf("decoded %d levels inside an object (skipped %d bytes)", maxDepth, d.skipped)
	}
}

// TestSpansOfSharedContainers: the object's containers that come from
// the manifest it was decoded like are recorded at their place in the
// object's text, and the oldObject's equal text is skipped to them.
func TestSpansOfSharedContainers(t *testing.T) {
	manifest, err := Decode([]byte(`{"spec":{"template":{"x":[1,2]}},"metadata":{"name":"a"}}`))
	if err != nil {
		t.Fatal(err)
	}
	object := []byte(`{"metadata":{"name":"a","resourceVersion":"2"},"spec":{"template":{"x":[1,2]}}}`)
	prev, spans, err := record(object, manifest)
	if err != nil {
		t.Fatal(err)
	}
	spec := prev.(map[string]any)["spec"]
	if identity(spec) != identity(manifest.(map[string]any)["spec"]) {
		t.Fatal("the object does not share the manifest's spec")
	}
	old := []byte(`{"metadata":{"name":"a","resourceVersion":"1"},"spec":{"template":{"x":[1,2]}}}`)
	v, skipped, err := decodeWithSpans(old, prev, spans)
	if err != nil {
		t.Fatal(err)
	}
	if identity(v.(map[string]any)["spec"]) != identity(spec) || skipped != len(`{"template":{"x":[1,2]}}`) {
		t.Fatalf("spec shared %v, skipped %d bytes", identity(v.(map[string]any)["spec"]) == identity(spec), skipped)
	}
}

// TestSpansRandomEdits decodes copies of the Deployment with a few random
// bytes changed, inserted or deleted, like the Deployment with its spans:
// the values and errors are DecodeLike's, whatever the edits break or
// keep. It reaches many more pairs of nearly equal texts than the fuzzer,
// whose mutations of two 10 KB inputs are slow.
func TestSpansRandomEdits(t *testing.T) {
	object, err := os.ReadFile("testdata/deployment.json")
	if err != nil {
		t.Fatal(err)
	}
	prev, spans, err := record(object, nil)
	if err != nil {
		t.Fatal(err)
	}
	alphabet := []byte(`{}[]",:0123456789 .-eatrufnl\`)
	r := rand.New(rand.NewPCG(3, 4))
	for range 3000 {
		old := bytes.Clone(object)
		for range 1 + r.IntN(3) {
			i, c := r.IntN(len(old)), alphabet[r.IntN(len(alphabet))]
			switch r.IntN(3) {
			case 0:
				old[i] = c
			case 1:
				old = slices.Insert(old, i, c)
			default:
				old = slices.Delete(old, i, i+1)
			}
		}
		got, err := DecodeLikeOwnedSpans(old, prev, spans)
		want, wantErr := DecodeLike(old, prev)
		if (err != nil) != (wantErr != nil) || err != nil && err.Error() != wantErr.Error() {
			t.Fatalf("error %v, DecodeLike's %v, for %q", err, wantErr, old)
		}
		if p, ok := same(got, want, "$"); err == nil && !ok {
			t.Fatalf("at %s: %#v, DecodeLike has %#v, for %q", p, got, want, old)
		}
	}
}

// TestOwnedSpansReused: the whole-text forms the webhook's fallback path
// uses give DecodeLike's values and share exactly the equal containers,
// with one Spans reset and reused across pairs of texts.
func TestOwnedSpansReused(t *testing.T) {
	pairs := [][2]string{
		{`{"a":{"b":[1,2,{"c":"d"}]},"e":{"f":1}}`, `{"a":{"b":[1,2,{"c":"d"}]},"e":{"f":2}}`},
		{`{"x":[{"y":1},{"y":2}],"z":{}}`, `{"x":[{"y":1},{"y":3}],"z":{}}`},
		{`{"a":{"b":[1,2,{"c":"d"}],"k":[3]}}`, `{"a":{"b":[1,2,{"c":"D"}],"k":[3]}}`},
	}
	spans := new(Spans)
	for _, p := range pairs {
		obj, err := DecodeLikeOwnedRecord([]byte(p[0]), nil, spans)
		if err != nil {
			t.Fatal(err)
		}
		old, err := DecodeLikeOwnedSpans([]byte(p[1]), obj, spans)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Decode([]byte(p[1]))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(old, want) {
			t.Fatalf("%s: decoded %v, want %v", p[1], old, want)
		}
		checkSharing(t, old, obj, p[1])
		// The recording is what lets the equal text be skipped.
		if _, skipped, err := decodeWithSpans([]byte(p[1]), obj, spans); err != nil || skipped == 0 {
			t.Fatalf("%s: skipped %d bytes, error %v; want some skipped", p[1], skipped, err)
		}
		spans.Reset()
		if len(spans.list) != 0 || spans.text != nil {
			t.Fatalf("Reset kept %d spans", len(spans.list))
		}
	}
}
