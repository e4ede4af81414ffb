package index_test

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gitgate.dev/gitgate/provenance/index"
)

// benchIndex builds an index of n objects spread over kinds and namespaces,
// and returns keys to look up (all present).
func benchIndex(b *testing.B, n int) (*index.Index, []index.Key) {
	b.Helper()
	kinds := []struct{ apiVersion, kind string }{
		{"apps/v1", "Deployment"}, {"v1", "Service"}, {"v1", "ConfigMap"}, {"networking.k8s.io/v1", "Ingress"},
	}
	bl := index.NewBuilder()
	keys := make([]index.Key, 0, n)
	for i := range n {
		k := kinds[i%len(kinds)]
		o := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": k.apiVersion, "kind": k.kind,
			"metadata": map[string]any{"name": fmt.Sprintf("object-%06d", i), "namespace": fmt.Sprintf("team-%03d", i%100)},
		}}
		key, err := bl.Add(o, index.Origin{Source: "bench", Path: "apps/x.yaml"})
		if err != nil {
			b.Fatal(err)
		}
		keys = append(keys, key)
	}
	return bl.Build(), keys
}

// BenchmarkLookup is the webhook's hot path: one atomic load and one map
// lookup, which must not allocate.
func BenchmarkLookup(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			ix, keys := benchIndex(b, n)
			s := index.NewStore()
			if err := s.Publish("bench", ix); err != nil {
				b.Fatal(err)
			}
			miss := index.Key{Group: "apps", Kind: "Deployment", Namespace: "team-001", Name: "not-declared"}
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				cur := s.Current()
				if _, ok := cur.Lookup(keys[i%len(keys)]); !ok {
					b.Fatal("miss")
				}
				if _, ok := cur.Lookup(miss); ok {
					b.Fatal("hit")
				}
				i++
			}
		})
	}
}

// BenchmarkLookupBaseline is the same work on a map keyed by one string,
// the cheapest map lookup Go has, as a yardstick for BenchmarkLookup on a
// noisy machine.
func BenchmarkLookupBaseline(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			_, keys := benchIndex(b, n)
			m := make(map[string]*index.Entry, n)
			flat := make([]string, len(keys))
			for i, k := range keys {
				flat[i] = k.Group + "/" + k.Kind + "/" + k.Namespace + "/" + k.Name
				m[flat[i]] = &index.Entry{Key: k}
			}
			miss := "apps/Deployment/team-001/not-declared"
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				if _, ok := m[flat[i%len(flat)]]; !ok {
					b.Fatal("miss")
				}
				if _, ok := m[miss]; ok {
					b.Fatal("hit")
				}
				i++
			}
		})
	}
}

// BenchmarkPublish measures a reconciler publishing a new index of one
// source next to another, which re-merges both.
func BenchmarkPublish(b *testing.B) {
	ix, _ := benchIndex(b, 10_000)
	other := index.NewBuilder()
	if _, err := other.Add(&unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "other"},
	}}, index.Origin{Source: "other"}); err != nil {
		b.Fatal(err)
	}
	s := index.NewStore()
	if err := s.Publish("other", other.Build()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Publish("bench", ix); err != nil {
			b.Fatal(err)
		}
	}
}
