package devenv

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"gitgate.dev/gitgate/api/v1alpha1"
)

// The embedded CRD must be the generated one in the chart.
func TestEmbeddedCRDIsCurrent(t *testing.T) {
	chart, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "charts", "gitgate", "crds", "gitgate.dev_gitsources.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(chart, gitSourceCRD) {
		t.Fatal("cmd/gitgate/internal/devenv/gitsource-crd.yaml differs from charts/gitgate/crds/gitgate.dev_gitsources.yaml: copy the chart's file over it")
	}
	defs, err := crds()
	if err != nil {
		t.Fatal(err)
	}
	if len(defs) != 1 || defs[0].Spec.Group != v1alpha1.GroupVersion.Group || defs[0].Spec.Names.Kind != "GitSource" {
		t.Fatalf("unexpected CRDs %+v", defs)
	}
}
