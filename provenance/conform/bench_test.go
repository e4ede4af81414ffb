package conform

import (
	"encoding/json"
	"os"
	"testing"
)

// BenchmarkConforms measures the admission hot path: a 10 KB Deployment
// from Git against the object the API server returned for it (with all its
// defaults, captured from the envtest kube-apiserver into testdata).
func BenchmarkConforms(b *testing.B) {
	desired, live := benchPair(b)
	if ok, diffs := Conforms(desired, live); !ok {
		b.Fatalf("fixture does not conform: %v", diffs)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Conforms(desired, live)
	}
}

// BenchmarkConformsDiff measures a denial: one changed image and replicas.
func BenchmarkConformsDiff(b *testing.B) {
	desired, live := benchPair(b)
	spec := live["spec"].(map[string]any)
	spec["replicas"] = int64(7)
	c := spec["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[1].(map[string]any)
	c["image"] = "evil:latest"
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if ok, _ := Conforms(desired, live); ok {
			b.Fatal("conforms")
		}
	}
}

func benchPair(b *testing.B) (desired, live map[string]any) {
	b.Helper()
	y, err := os.ReadFile("testdata/deployment-10k.yaml")
	if err != nil {
		b.Fatal(err)
	}
	desired = obj(b, string(y))
	l, err := os.ReadFile("testdata/deployment-10k.live.json")
	if err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(l, &live); err != nil {
		b.Fatal(err)
	}
	return desired, live
}
