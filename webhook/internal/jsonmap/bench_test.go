package jsonmap

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	kjson "sigs.k8s.io/json"

	"gitgate.dev/gitgate/internal/benchobj"
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

// BenchmarkDecodeLikeUpdate reads an UPDATE's pair of Deployments as the
// webhook reads them from a review: the object like Git's manifest, then
// the oldObject (another generation and resourceVersion, one image
// changed) like the object. plain decodes both with RawValueLike; spans
// records the object's spans and decodes the oldObject with them.
func BenchmarkDecodeLikeUpdate(b *testing.B) {
	manifest, object, old := updatePair(b)
	body := slices.Concat([]byte(`{"object":`), object, []byte(`,"oldObject":`), old, []byte(`}`))
	for _, withSpans := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "spans"}[withSpans]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := readPair(body, manifest, withSpans); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// readPair reads body, {"object":...,"oldObject":...}, as the webhook
// does.
func readPair(body []byte, manifest any, withSpans bool) error {
	return ReadOwned(body, func(d *Decoder) error {
		var object any
		var spans *Spans
		return d.Object(func(key string) error {
			var err error
			switch {
			case key == "object" && withSpans:
				object, _, spans, err = d.RawValueLikeRecord(manifest)
			case key == "object":
				object, _, err = d.RawValueLike(manifest)
			default:
				_, _, err = d.RawValueLikeSpans(object, spans)
			}
			return err
		})
	})
}

// updatePair returns the big Deployment's manifest as decoded from Git
// and the JSON texts of an UPDATE's object and oldObject.
func updatePair(b *testing.B) (manifest any, object, old []byte) {
	b.Helper()
	text, err := json.Marshal(benchobj.Manifest("demo"))
	if err == nil {
		manifest, err = Decode(text)
	}
	if err == nil {
		object, err = json.Marshal(benchobj.Live("demo", 8, "981281"))
	}
	if err == nil {
		oldObj := benchobj.Live("demo", 7, "981280")
		containers := oldObj["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
		containers[1].(map[string]any)["image"] = "registry.example.com/shop/worker:3.2.0"
		old, err = json.Marshal(oldObj)
	}
	if err != nil {
		b.Fatal(err)
	}
	return manifest, object, old
}
