package chart

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"gitgate.dev/gitgate/webhook/config"
)

var update = flag.Bool("update", false, "rewrite the generated parts of charts/gitgate/values.schema.json")

// TestValuesSchemaFollowsCode checks the parts of values.schema.json that
// restate what the code defines, so that the schema cannot drift from it:
//
//   - definitions.gitSourceSpec is the GitSource CRD's spec schema (generated
//     from api/v1alpha1), turned into JSON Schema: objects refuse unknown
//     fields (the API server would silently prune them), integer-or-string
//     fields take both. CEL rules (x-kubernetes-validations) have no JSON
//     Schema form; the API server still checks them.
//   - the write subresources a managedResources entry may name are
//     config.WriteSubresources.
//
// With -update it rewrites the generated definition instead.
func TestValuesSchemaFollowsCode(t *testing.T) {
	schemaPath := filepath.Join(chartDir(t), "values.schema.json")
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("values.schema.json: %v", err)
	}
	defs, _ := doc["definitions"].(map[string]any)
	if defs == nil {
		t.Fatal("values.schema.json has no definitions")
	}

	want, err := gitSourceSpecSchema(filepath.Join(chartDir(t), "crds", "gitgate.dev_gitsources.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		defs["gitSourceSpec"] = want
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(schemaPath, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s", schemaPath)
		return
	}
	if diff := cmp.Diff(normalize(t, want), defs["gitSourceSpec"]); diff != "" {
		t.Errorf("definitions.gitSourceSpec is not the CRD's spec schema; run\n"+
			"  go test ./test/e2e/chart -run TestValuesSchemaFollowsCode -update\n(-crd +values.schema.json):\n%s", diff)
	}

	mr, _ := defs["managedResource"].(map[string]any)
	props, _ := mr["properties"].(map[string]any)
	subs, _ := props["subresources"].(map[string]any)
	items, _ := subs["items"].(map[string]any)
	var enum []string
	for _, v := range asSlice(items["enum"]) {
		s, _ := v.(string)
		enum = append(enum, s)
	}
	sort.Strings(enum)
	code := slices.Sorted(slices.Values(config.WriteSubresources))
	if !slices.Equal(enum, code) {
		t.Errorf("managedResource subresources enum = %v, config.WriteSubresources = %v", enum, code)
	}
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// normalize round-trips v through JSON, so numbers compare as the decoded
// file holds them (float64).
func normalize(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// gitSourceSpecSchema reads the GitSource CRD and returns the JSON Schema
// of its spec.
func gitSourceSpecSchema(crdPath string) (map[string]any, error) {
	b, err := os.ReadFile(crdPath)
	if err != nil {
		return nil, err
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(b, &crd); err != nil {
		return nil, fmt.Errorf("%s: %w", crdPath, err)
	}
	if len(crd.Spec.Versions) != 1 || crd.Spec.Versions[0].Schema == nil || crd.Spec.Versions[0].Schema.OpenAPIV3Schema == nil {
		return nil, fmt.Errorf("%s: want one version with a schema", crdPath)
	}
	spec, ok := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
	if !ok {
		return nil, fmt.Errorf("%s: no spec in the schema", crdPath)
	}
	return jsonSchemaOf(spec, ".spec")
}

// jsonSchemaOf turns one structural schema node into JSON Schema (draft-07).
// Constructs it has no rule for are an error, so that a CRD change can
// never be half-translated in silence.
func jsonSchemaOf(p apiextensionsv1.JSONSchemaProps, path string) (map[string]any, error) {
	if p.Ref != nil || len(p.AllOf) > 0 || len(p.AnyOf) > 0 || len(p.OneOf) > 0 || p.Not != nil ||
		p.PatternProperties != nil || p.Dependencies != nil || p.AdditionalItems != nil ||
		p.XEmbeddedResource || p.XListType != nil && *p.XListType == "map" {
		return nil, fmt.Errorf("%s: schema construct without a JSON Schema translation here", path)
	}
	out := map[string]any{}
	if p.Description != "" {
		out["description"] = p.Description
	}
	switch {
	case p.XIntOrString:
		out["anyOf"] = []any{map[string]any{"type": "integer"}, map[string]any{"type": "string"}}
	case p.Type != "" && p.Nullable:
		out["type"] = []any{p.Type, "null"}
	case p.Type != "":
		out["type"] = p.Type
	}
	if p.Pattern != "" {
		out["pattern"] = p.Pattern
	}
	for key, v := range map[string]*int64{
		"minLength": p.MinLength, "maxLength": p.MaxLength, "minItems": p.MinItems, "maxItems": p.MaxItems,
		"minProperties": p.MinProperties, "maxProperties": p.MaxProperties,
	} {
		if v != nil {
			out[key] = *v
		}
	}
	for key, v := range map[string]*float64{"minimum": p.Minimum, "maximum": p.Maximum} {
		if v != nil {
			out[key] = *v
		}
	}
	if p.ExclusiveMinimum || p.ExclusiveMaximum || p.MultipleOf != nil {
		return nil, fmt.Errorf("%s: exclusive bounds and multipleOf are not translated", path)
	}
	if len(p.Enum) > 0 {
		enum := make([]any, 0, len(p.Enum))
		for _, e := range p.Enum {
			var v any
			if err := json.Unmarshal(e.Raw, &v); err != nil {
				return nil, fmt.Errorf("%s: enum: %w", path, err)
			}
			enum = append(enum, v)
		}
		out["enum"] = enum
	}
	if p.Default != nil {
		var v any
		if err := json.Unmarshal(p.Default.Raw, &v); err != nil {
			return nil, fmt.Errorf("%s: default: %w", path, err)
		}
		out["default"] = v
	}
	if p.XListType != nil && *p.XListType == "set" || p.UniqueItems {
		out["uniqueItems"] = true
	}
	if p.Items != nil {
		if p.Items.Schema == nil {
			return nil, fmt.Errorf("%s: a list of item schemas is not translated", path)
		}
		items, err := jsonSchemaOf(*p.Items.Schema, path+"[]")
		if err != nil {
			return nil, err
		}
		out["items"] = items
	}
	if len(p.Properties) > 0 {
		props := map[string]any{}
		for name, sub := range p.Properties {
			s, err := jsonSchemaOf(sub, path+"."+name)
			if err != nil {
				return nil, err
			}
			props[name] = s
		}
		out["properties"] = props
	}
	if len(p.Required) > 0 {
		out["required"] = slices.Sorted(slices.Values(p.Required))
	}
	switch {
	case p.AdditionalProperties != nil && p.AdditionalProperties.Schema != nil:
		s, err := jsonSchemaOf(*p.AdditionalProperties.Schema, path+"[*]")
		if err != nil {
			return nil, err
		}
		out["additionalProperties"] = s
	case p.AdditionalProperties != nil:
		out["additionalProperties"] = p.AdditionalProperties.Allows
	case p.Type == "object" && !boolValue(p.XPreserveUnknownFields):
		// The API server prunes fields a structural schema does not
		// declare; refuse them in the values instead of losing them.
		out["additionalProperties"] = false
	}
	return out, nil
}

func boolValue(b *bool) bool { return b != nil && *b }
