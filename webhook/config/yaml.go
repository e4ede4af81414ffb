package config

import (
	"bytes"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// Marshal writes objs as one YAML stream, each document after a "---" line,
// in the order given. The objects must carry their apiVersion and kind (the
// ones Scope returns do).
func Marshal(objs ...runtime.Object) ([]byte, error) {
	var b bytes.Buffer
	for _, o := range objs {
		gvk := o.GetObjectKind().GroupVersionKind()
		if gvk.Kind == "" || gvk.Version == "" {
			return nil, fmt.Errorf("marshal %T: no apiVersion or kind", o)
		}
		y, err := yaml.Marshal(o)
		if err != nil {
			return nil, fmt.Errorf("marshal %s: %w", gvk.Kind, err)
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	return b.Bytes(), nil
}
