package jsonmap

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	kjson "sigs.k8s.io/json"

	"gitgate.dev/gitgate/test/e2e/corpus"
)

// FuzzAgreesWithKJSON checks Decode against the decoder it replaces,
// sigs.k8s.io/json's UnmarshalCaseSensitivePreserveInts into an `any`: for
// every input both fail, or both succeed with the same value, with the
// same Go types (int64 against float64) and the same float bits. Skip
// must accept exactly the texts encoding/json calls valid, since the
// webhook uses it where the general decoder only validates.
func FuzzAgreesWithKJSON(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Decode(data)
		var want any
		wantErr := kjson.UnmarshalCaseSensitivePreserveInts(data, &want)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("error %v, sigs.k8s.io/json's error %v, for %q", err, wantErr, data)
		}
		if err == nil {
			if path, ok := same(got, want, "$"); !ok {
				t.Fatalf("at %s: %#v, sigs.k8s.io/json has %#v, for %q", path, got, want, data)
			}
		}
		d := NewDecoder(data)
		_, err = d.Skip()
		if err == nil {
			err = d.Finish()
		}
		if valid := json.Valid(data); (err == nil) != valid {
			t.Fatalf("Skip: error %v, encoding/json's Valid %v, for %q", err, valid, data)
		}
	})
}

// FuzzDecodeLike checks that decoding a document like another changes
// nothing but sharing: the value and the error are Decode's, and the
// other document's value is left as it was.
func FuzzDecodeLike(f *testing.F) {
	deployment, err := os.ReadFile("testdata/deployment.json")
	if err != nil {
		f.Fatal(err)
	}
	changed := bytes.Replace(deployment, []byte(`"replicas":3`), []byte(`"replicas":4`), 1)
	renamed := bytes.Replace(deployment, []byte(`"name":"worker"`), []byte(`"name":"w\u006frker"`), 1)
	for _, pair := range [][2][]byte{
		{deployment, deployment}, {changed, deployment}, {deployment, changed}, {renamed, deployment},
		{[]byte(`{"a":1,"a":1}`), []byte(`{"a":1,"b":1}`)}, {[]byte(`{"a":[1,2]}`), []byte(`{"a":[1,2,3]}`)},
		{[]byte(`[0.0,-0.0]`), []byte(`[-0.0,0.0]`)}, {[]byte(`{"a":{"b":1}}`), []byte(`{"a":{"b":1.0}}`)},
		{[]byte(`{"a":"\u00e9","b":[{}]}`), []byte(`{"a":"é","b":[{}]}`)}, {[]byte(`[[1e999]]`), []byte(`[[1]]`)},
		{[]byte(`{"a":[true,null,"x"],"b":{}}`), []byte(`{"b":{},"a":[true,null,"x"]}`)}, {[]byte(`[[[[1]]],2`), []byte(`[[[[1]]],2]`)},
	} {
		f.Add(pair[0], pair[1])
	}
	f.Fuzz(func(t *testing.T, data, likeText []byte) {
		like, err := Decode(likeText)
		if err != nil {
			like = nil
		}
		got, err := DecodeLike(data, like)
		want, wantErr := Decode(data)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("error %v, Decode's error %v, for %q like %q", err, wantErr, data, likeText)
		}
		if p, ok := same(got, want, "$"); err == nil && !ok {
			t.Fatalf("at %s: %#v, Decode has %#v, for %q like %q", p, got, want, data, likeText)
		}
		owned, err := DecodeLikeOwned(bytes.Clone(data), like)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("owned: error %v, Decode's error %v, for %q like %q", err, wantErr, data, likeText)
		}
		if p, ok := same(owned, want, "$"); err == nil && !ok {
			t.Fatalf("owned, at %s: %#v, Decode has %#v, for %q like %q", p, owned, want, data, likeText)
		}
		if like != nil {
			again, _ := Decode(likeText)
			if p, ok := same(like, again, "$"); !ok {
				t.Fatalf("at %s: the other document's value changed", p)
			}
		}
	})
}

// same compares two decoded values exactly, returning the path of the
// first difference.
func same(a, b any, path string) (string, bool) {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return path, false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok {
				return path + "." + k, false
			}
			if p, ok := same(v, w, path+"."+k); !ok {
				return p, false
			}
		}
		return "", true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return path, false
		}
		for i := range x {
			if p, ok := same(x[i], y[i], path+"[]"); !ok {
				return p, false
			}
		}
		return "", true
	case float64:
		y, ok := b.(float64)
		return path, ok && math.Float64bits(x) == math.Float64bits(y)
	case nil, string, int64, bool:
		return path, a == b
	default:
		return path, false
	}
}

// seeds are real manifests (the benchmark's Deployment, the shared corpus
// when it is present, compact and indented) and malformed or unusual
// texts.
func seeds(tb testing.TB) [][]byte {
	tb.Helper()
	deployment, err := os.ReadFile("testdata/deployment.json")
	if err != nil {
		tb.Fatal(err)
	}
	out := [][]byte{deployment}
	for _, s := range []string{
		``, ` `, `null`, `true`, `false`, `0`, `-0`, `-0.0`, `1`, `-1`, `01`, `1.`, `.5`, `1e`, `1e+`, `-`, `+1`,
		`1.5`, `1e5`, `1E-5`, `2.5e+3`, `9223372036854775807`, `9223372036854775808`, `-9223372036854775808`,
		`-9223372036854775809`, `123456789012345678`, `1234567890123456789`, `1e999`, `-1e999`, `1e-999`,
		`100000000000000000000000000000`, `0.1e1`, `"a"`, `""`, `"\u00e9\ud83d\ude00"`, `"\ud800"`, `"\ud800\u0041"`,
		`"\udc00\ud800"`, `"\ud800\ud800\udc00"`, `"\u12"`, `"\x"`, `"\'"`, `"\/\b\f\n\r\t\"\\"`, "\"\xff\xfe\"",
		"\"a\xc3\"", "\"\xed\xa0\x80\"", "\"\xef\xbf\xbd\"", "\"tab\there\"", "\"\x7f\"", `"unterminated`, `"\`,
		`{}`, `[]`, `{ }`, `[ ]`, `{"a":1,"a":2}`, `{"a":{"b":1},"a":null}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{"a" 1}`,
		`{"a":}`, `{1:2}`, `{"a":1}}`, `[[[]]]`, `[[[]]`, `{"a":[1,{"b":[true,false,null]}]}`, `nul`, `truex`, `[tru]`,
		`{"a":1} x`, `{"a":1} `, "\t\r\n{\"a\":\t1\n}\r\n", `{"ké":"v","k\u00e9":"w"}`, `[1,2,3,-4.5e-1,"x"]`,
		strings.Repeat("[", 100) + strings.Repeat("]", 100),
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","object":{"metadata":{"name":"x"}}}}`,
	} {
		out = append(out, []byte(s))
	}
	return append(out, corpusSeeds(tb)...)
}

// corpusSeeds encodes each object of ../shared/corpus as JSON, compact
// and indented; none when the corpus is not there.
func corpusSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	dir, err := corpus.Dir()
	if err != nil {
		return nil
	}
	if _, err := os.Stat(dir); err != nil {
		return nil
	}
	objs, _, err := corpus.Load(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for _, o := range objs {
		compact, err := json.Marshal(o.Manifest)
		if err != nil {
			tb.Fatal(err)
		}
		indented, err := json.MarshalIndent(o.Manifest, "", "  ")
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, compact, indented)
	}
	return out
}

// FuzzDecodeLikeSpans checks that the spans of the value decoded from
// likeText change nothing but sharing when data is decoded like it: the
// value is Decode's, the error is DecodeLike's to the message and offset,
// and the other value is left as it was. likeText is decoded like data's
// own value, so that its spans cover containers it shares as well as its
// own.
func FuzzDecodeLikeSpans(f *testing.F) {
	deployment, err := os.ReadFile("testdata/deployment.json")
	if err != nil {
		f.Fatal(err)
	}
	changed := bytes.Replace(deployment, []byte(`"replicas":3`), []byte(`"replicas":4`), 1)
	deep := bytes.Replace(deployment, []byte(`"value-1-17"`), []byte(`"value-1-1"`), 1)
	for _, pair := range [][2][]byte{
		{deployment, deployment}, {changed, deployment}, {deployment, changed}, {deep, deployment}, {deployment, deep},
		{[]byte(`{"a":{"c":1},"b":[1],}`), []byte(`{"a":{"c":1},"b":[1]}`)}, {[]byte(`{"a":{"c":1}`), []byte(`{"a":{"c":1}}`)},
		{[]byte(`{"a":{"c":1},"a":{"c":1}}`), []byte(`{"a":{"c":1}}`)}, {[]byte(`{"b":[1],"a":{"c":1}}`), []byte(`{"a":{"c":1},"b":[1]}`)},
		{[]byte(`[[1,[2]],[[3]]]`), []byte(`[[1,[2]],[[2]]]`)}, {[]byte(` { "a" : {"c":1} } `), []byte(`{"a":{"c":1}}`)},
		{[]byte(`{"a":[[[1]]],"b":[[[1]]]}`), []byte(`{"b":[[[1]]],"a":[[[1]]]}`)},
	} {
		f.Add(pair[0], pair[1])
	}
	f.Fuzz(func(t *testing.T, data, likeText []byte) {
		base, err := Decode(data)
		if err != nil {
			base = nil
		}
		like, spans, err := record(likeText, base)
		if err != nil {
			like, spans = nil, nil
		}
		got, err := DecodeLikeOwnedSpans(data, like, spans)
		_, likeErr := DecodeLike(data, like)
		if (err != nil) != (likeErr != nil) || err != nil && err.Error() != likeErr.Error() {
			t.Fatalf("error %v, DecodeLike's error %v, for %q like %q", err, likeErr, data, likeText)
		}
		if p, ok := same(got, base, "$"); err == nil && !ok {
			t.Fatalf("at %s: %#v, Decode has %#v, for %q like %q", p, got, base, data, likeText)
		}
		if like != nil {
			again, _ := Decode(likeText)
			if p, ok := same(like, again, "$"); !ok {
				t.Fatalf("at %s: the other document's value changed", p)
			}
		}
	})
}
