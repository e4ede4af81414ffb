package jsonmap

import (
	"os"
	"testing"

	kjson "sigs.k8s.io/json"
)

// BenchmarkDecode decodes the webhook benchmark's Deployment (9.7 KB, as
// the API server sends it: defaults, managedFields, status);
// BenchmarkKJSON is the decoder it replaces on the same input.
func BenchmarkDecode(b *testing.B) {
	data := benchInput(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKJSON(b *testing.B) {
	data := benchInput(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var v any
		if err := kjson.UnmarshalCaseSensitivePreserveInts(data, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func benchInput(b *testing.B) []byte {
	b.Helper()
	data, err := os.ReadFile("testdata/deployment.json")
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkDecodeLike decodes the Deployment like an earlier decode of
// itself, as the webhook decodes an UPDATE's oldObject like its object
// when nothing but metadata changed.
func BenchmarkDecodeLike(b *testing.B) {
	data := benchInput(b)
	prev, err := Decode(data)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeLike(data, prev); err != nil {
			b.Fatal(err)
		}
	}
}
