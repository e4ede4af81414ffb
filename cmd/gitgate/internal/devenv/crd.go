package devenv

import (
	_ "embed"
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

// gitSourceCRD is a copy of charts/gitgate/crds/gitgate.dev_gitsources.yaml,
// embedded so that `gitgate dev` needs nothing from a checkout but the
// control plane binaries. TestEmbeddedCRDIsCurrent fails when the two differ
// (after `make generate`, copy the file here).
//
//go:embed gitsource-crd.yaml
var gitSourceCRD []byte

// crds returns the CRDs the control plane installs at start.
func crds() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(gitSourceCRD, &crd); err != nil {
		return nil, fmt.Errorf("embedded GitSource CRD: %w", err)
	}
	return []*apiextensionsv1.CustomResourceDefinition{&crd}, nil
}
