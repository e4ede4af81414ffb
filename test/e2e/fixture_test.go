package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"gitgate.dev/gitgate/provenance/conform"
	"gitgate.dev/gitgate/test/e2e/testenv"
)

// TestBenchmarkFixtureConforms applies the 10 KB Deployment that
// provenance/conform benchmarks with, and checks that what the API server
// stores conforms to it. With GITGATE_UPDATE_TESTDATA=1 it also writes the
// stored object as the benchmark's live fixture, so the benchmark compares
// against real server defaulting rather than a hand-made copy.
func TestBenchmarkFixtureConforms(t *testing.T) {
	env := testenv.Require(t)
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	testdata := filepath.Join(root, "provenance", "conform", "testdata")
	y, err := os.ReadFile(filepath.Join(testdata, "deployment-10k.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		t.Fatal(err)
	}
	var desired map[string]any
	if err := json.Unmarshal(j, &desired); err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: desired}
	ensureNamespace(t, env, u.GetNamespace())
	gvr := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	r := env.Dynamic.Resource(gvr).Namespace(u.GetNamespace())
	if _, err := r.Apply(t.Context(), u.GetName(), u.DeepCopy(), metav1.ApplyOptions{FieldManager: fieldManager, Force: true}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	live, err := r.Get(t.Context(), u.GetName(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ok, diffs := conform.Conforms(desired, live.Object); !ok {
		t.Fatalf("stored Deployment does not conform:\n%s", diffList(diffs))
	}
	if os.Getenv("GITGATE_UPDATE_TESTDATA") != "1" {
		return
	}
	out, err := json.MarshalIndent(live.Object, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(testdata, "deployment-10k.live.json"), append(out, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
}
