package render

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"gitgate.dev/gitgate/provenance/index"
)

// Object is one rendered object.
type Object struct {
	// Object is the manifest, as JSON-compatible values (int64 and float64
	// numbers), the way the API server would receive it from kubectl.
	Object *unstructured.Unstructured
	// Path is the repository path of the file that declares the object;
	// for kustomize output, the path of the kustomization file.
	Path string
	// Doc is the 1-based position of the YAML document in Path, 0 for
	// kustomize output.
	Doc int
}

// Key returns the object's identity. Render has checked that it exists.
func (o Object) Key() index.Key {
	k, _ := index.KeyOf(o.Object)
	return k
}

// where describes the object's place for error messages.
func (o Object) where() string {
	if o.Doc > 0 {
		return fmt.Sprintf("%s (document %d)", o.Path, o.Doc)
	}
	return o.Path
}

// objectsOf turns a decoded document into objects, flattening a List.
func objectsOf(v any) ([]*unstructured.Unstructured, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: the document is a %s, not an object", ErrInvalidObject, jsonType(v))
	}
	if isList(m) {
		items, _ := m["items"].([]any)
		out := make([]*unstructured.Unstructured, 0, len(items))
		for i, it := range items {
			im, ok := it.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%w: %s item %d is a %s, not an object", ErrInvalidObject, m["kind"], i+1, jsonType(it))
			}
			if isList(im) {
				return nil, fmt.Errorf("%w: %s item %d is itself a list", ErrInvalidObject, m["kind"], i+1)
			}
			if err := checkObject(im); err != nil {
				return nil, fmt.Errorf("%s item %d: %w", m["kind"], i+1, err)
			}
			out = append(out, &unstructured.Unstructured{Object: im})
		}
		return out, nil
	}
	if err := checkObject(m); err != nil {
		return nil, err
	}
	return []*unstructured.Unstructured{{Object: m}}, nil
}

// isList reports whether m is a List kind (kind List, or a kind ending in
// List, such as ConfigMapList) with an items array, as kubectl reads it.
func isList(m map[string]any) bool {
	kind, _ := m["kind"].(string)
	if kind != "List" && !strings.HasSuffix(kind, "List") {
		return false
	}
	_, ok := m["items"].([]any)
	return ok
}

// checkObject enforces what an object of the desired state must have.
func checkObject(m map[string]any) error {
	av, ok := m["apiVersion"].(string)
	if !ok || av == "" {
		return fmt.Errorf("%w: apiVersion is missing", ErrInvalidObject)
	}
	if gv, err := schema.ParseGroupVersion(av); err != nil || gv.Version == "" {
		return fmt.Errorf("%w: apiVersion %q is not group/version or version", ErrInvalidObject, av)
	}
	kind, ok := m["kind"].(string)
	if !ok || kind == "" {
		return fmt.Errorf("%w: kind is missing", ErrInvalidObject)
	}
	meta, ok := m["metadata"].(map[string]any)
	if !ok {
		return fmt.Errorf("%w: %s has no metadata", ErrInvalidObject, kind)
	}
	if _, ok := meta["generateName"]; ok {
		return fmt.Errorf("%w: %s uses metadata.generateName; Git must name the objects it declares", ErrInvalidObject, kind)
	}
	name, ok := meta["name"].(string)
	if !ok || name == "" {
		return fmt.Errorf("%w: %s has no metadata.name", ErrInvalidObject, kind)
	}
	if ns, ok := meta["namespace"]; ok {
		if _, isString := ns.(string); !isString {
			return fmt.Errorf("%w: %s %s: metadata.namespace is a %s, not a string", ErrInvalidObject, kind, name, jsonType(ns))
		}
	}
	return nil
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "mapping"
	case []any:
		return "list"
	case string:
		return "string"
	case bool:
		return "boolean"
	case int64, float64:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}
