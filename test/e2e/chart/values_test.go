package chart

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"gitgate.dev/gitgate/webhook/config"
)

// managedResource is one entry of the chart's managedResources value.
type managedResource struct {
	Group        string   `json:"group"`
	Version      string   `json:"version"`
	Kind         string   `json:"kind"`
	Resource     string   `json:"resource"`
	Namespaced   bool     `json:"namespaced"`
	Subresources []string `json:"subresources,omitempty"`
	ExtraVerbs   []string `json:"extraVerbs,omitempty"`
}

func (m managedResource) gvk() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: m.Group, Version: m.Version, Kind: m.Kind}
}

// fromResource is the managedResources entry of a resource as the API
// server serves it.
func fromResource(r config.Resource) managedResource {
	return managedResource{
		Group: r.Group, Version: r.Version, Kind: r.Kind, Resource: r.Resource,
		Namespaced: r.Namespaced, Subresources: r.Subresources,
	}
}

// chartValues are the values the tests reason about. Decoding values files
// one after the other into one chartValues merges them as helm does for
// these fields: maps field by field, lists replaced whole.
type chartValues struct {
	FullnameOverride string `json:"fullnameOverride"`
	Webhook          struct {
		FailurePolicy    string   `json:"failurePolicy"`
		TimeoutSeconds   int32    `json:"timeoutSeconds"`
		ExemptNamespaces []string `json:"exemptNamespaces"`
	} `json:"webhook"`
	Certificates struct {
		Mode              string `json:"mode"`
		BuiltinSecretName string `json:"builtinSecretName"`
	} `json:"certificates"`
	ManagedResources []managedResource `json:"managedResources"`
	RBAC             struct {
		SecretNames []string `json:"secretNames"`
	} `json:"rbac"`
}

// valuesOf merges the chart's values.yaml with r's values files.
func valuesOf(t testing.TB, r release) chartValues {
	t.Helper()
	var v chartValues
	for _, f := range append([]string{filepath.Join(chartDir(t), "values.yaml")}, r.values...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// encoding/json decodes a list of structs into the elements
		// already there (merging them); helm replaces a list whole.
		var top map[string]any
		if err := yaml.Unmarshal(b, &top); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, ok := top["managedResources"]; ok {
			v.ManagedResources = nil
		}
		if err := yaml.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	return v
}
