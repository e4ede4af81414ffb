package main

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"gitgate.dev/gitgate/internal/benchobj"
	"gitgate.dev/gitgate/provenance/index"
)

// Names of the synthetic repository the Index is built from.
const (
	sourceName = "bench"
	repoURL    = "https://git.example.com/platform/bench.git"
	commitSHA  = "9d3c1e0b9a8d6c5e4f3a2b1c0d9e8f7a6b5c4d3e"
	bigNS      = "shop"
)

// roundTrip is obj after a trip through JSON as Kubernetes decodes it
// (whole numbers as int64), the shape the renderer and the server see.
func roundTrip(obj map[string]any) (map[string]any, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	out := map[string]any{}
	if err := utiljson.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("decode manifest: %w", err)
	}
	return out, nil
}

// manifest is a Git object and the repository path that declares it.
type manifest struct {
	obj  map[string]any
	path string
}

// repository is a source that declares namespaces namespaces, each with a
// Namespace, a Deployment, a Service and a ConfigMap, plus namespace shop
// with the big Deployment.
func repository(namespaces int) []manifest {
	ms := []manifest{
		{map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": bigNS}}, "apps/shop/namespace.yaml"},
		{benchobj.Manifest(bigNS), "apps/shop/big.yaml"},
	}
	labels := map[string]any{"app.kubernetes.io/name": "web"}
	for i := range namespaces {
		ns := fmt.Sprintf("team-%03d", i)
		dir := "apps/" + ns + "/"
		ms = append(ms,
			manifest{map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}, dir + "namespace.yaml"},
			manifest{map[string]any{
				"apiVersion": "apps/v1", "kind": "Deployment",
				"metadata": map[string]any{"name": "web", "namespace": ns, "labels": labels},
				"spec": map[string]any{
					"replicas": 2, "selector": map[string]any{"matchLabels": labels},
					"template": map[string]any{"metadata": map[string]any{"labels": labels}, "spec": map[string]any{
						"containers": []any{map[string]any{"name": "web", "image": "registry.example.com/web:1.0"}},
					}},
				},
			}, dir + "web.yaml"},
			manifest{map[string]any{
				"apiVersion": "v1", "kind": "Service",
				"metadata": map[string]any{"name": "web", "namespace": ns, "labels": labels},
				"spec":     map[string]any{"selector": labels, "ports": []any{map[string]any{"port": 80, "targetPort": 8080}}},
			}, dir + "service.yaml"},
			manifest{map[string]any{
				"apiVersion": "v1", "kind": "ConfigMap",
				"metadata": map[string]any{"name": "web-config", "namespace": ns, "labels": labels},
				"data":     map[string]any{"LOG_LEVEL": "info"},
			}, dir + "config.yaml"},
		)
	}
	return ms
}

// buildIndex publishes repository(namespaces) as the webhook's desired
// state: the Index a mid-sized cluster's webhook looks objects up in.
func buildIndex(namespaces int) (*index.Store, error) {
	b := index.NewBuilder()
	for _, m := range repository(namespaces) {
		origin := index.Origin{Source: sourceName, Commit: commitSHA, Path: m.path, Signers: []string{"alice", "bob"}}
		obj, err := roundTrip(m.obj)
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", m.path, err)
		}
		if _, err := b.Add(&unstructured.Unstructured{Object: obj}, origin); err != nil {
			return nil, fmt.Errorf("index %s: %w", m.path, err)
		}
	}
	store := index.NewStore()
	if err := store.Publish(sourceName, b.Build()); err != nil {
		return nil, fmt.Errorf("publish index: %w", err)
	}
	return store, nil
}
