package index_test

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gitgate.dev/gitgate/provenance/index"
)

// The reconciler builds an Index from the objects a verified commit renders
// to and publishes it; the webhook looks requests up in Current.
func Example() {
	deployment := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1",
		"kind":       "Deployment",
		"metadata":   map[string]any{"name": "web", "namespace": "demo"},
		"spec":       map[string]any{"replicas": int64(2)},
	}}
	origin := index.Origin{
		Source:  "demo",
		Commit:  "4f7c1e0b9a8d6c5e4f3a2b1c0d9e8f7a6b5c4d3e",
		Path:    "apps/web/deployment.yaml",
		Signers: []string{"alice", "bob"},
	}

	b := index.NewBuilder()
	if _, err := b.Add(deployment, origin); err != nil {
		fmt.Println(err)
		return
	}
	store := index.NewStore()
	if err := store.Publish("demo", b.Build()); err != nil {
		fmt.Println(err)
		return
	}

	// An admission request for apps/v1beta2 Deployment demo/web: the version
	// is not part of the key.
	key := index.Key{Group: "apps", Kind: "Deployment", Namespace: "demo", Name: "web"}
	if e, ok := store.Current().Lookup(key); ok {
		replicas, _, _ := unstructured.NestedInt64(e.Object.Object, "spec", "replicas")
		fmt.Printf("%s: replicas %d from %s at %s, signed by %v\n",
			e.Key, replicas, e.Origin.Path, e.Origin.Commit[:7], e.Origin.Signers)
	}

	// The next commit removes it: the webhook may let the prune delete it.
	if err := store.Publish("demo", index.NewBuilder().Build()); err != nil {
		fmt.Println(err)
		return
	}
	_, declared := store.Current().Lookup(key)
	_, withdrawn := store.Current().Withdrawn(key)
	fmt.Println("declared:", declared, "withdrawn:", withdrawn)
	// Output:
	// Deployment.apps demo/web: replicas 2 from apps/web/deployment.yaml at 4f7c1e0, signed by [alice bob]
	// declared: false withdrawn: true
}
