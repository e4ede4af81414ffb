package render_test

import (
	"errors"
	"strings"
	"testing"

	"gitgate.dev/gitgate/provenance/index"
	"gitgate.dev/gitgate/provenance/render"
)

// fuzzOptions keep each input cheap: small limits hit the same code paths.
var fuzzOptions = render.Options{MaxFileSize: 1 << 20, MaxObjects: 200, MaxAliasNodes: 1000, MaxDepth: 50, MaxKustomizations: 20}

func seeds(f *testing.F) {
	for _, s := range []string{
		cmWeb, nsDemo, deploy,
		"---\n" + nsDemo + "---\n# comment\n---\n" + cmWeb + "...\n",
		"apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(nsDemo, "\n", "\n  ") + "\n",
		`{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}}`,
		billionLaughs(),
		"a: &a {x: 1}\nb: {<<: *a, y: *a}\n",
		strings.Repeat("[", 60) + strings.Repeat("]", 60),
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: \"1\", k: \"2\"}\n",
		"--- junk\n",
		"apiVersion: v1\nkind: [unclosed\n",
		"\tbad: indent\n",
		"apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: x-}\n",
		"resources: [cm.yaml]\nnamePrefix: p-\n",
		"resources: [../../etc]\n",
		"resources: [https://example.com/x.yaml]\n",
		"! !!binary AAAA\n",
		"*unknown\n",
		"? [complex, key]\n: value\n",
		"",
	} {
		f.Add([]byte(s))
	}
}

// checkRendered holds for every successful Render.
func checkRendered(t *testing.T, objs []render.Object, err error) {
	t.Helper()
	if err != nil {
		var re *render.Error
		if !errors.As(err, &re) {
			t.Fatalf("error %v (%T) is not a *render.Error", err, err)
		}
		return
	}
	if len(objs) > fuzzOptions.MaxObjects {
		t.Fatalf("%d objects, over the limit", len(objs))
	}
	seen := map[index.Key]bool{}
	for _, o := range objs {
		k, kerr := index.KeyOf(o.Object)
		if kerr != nil {
			t.Fatalf("rendered an object without identity: %v", kerr)
		}
		if seen[k] {
			t.Fatalf("rendered %s twice", k)
		}
		seen[k] = true
		if o.Path == "" {
			t.Fatalf("%s has no path", k)
		}
	}
}

// FuzzRender feeds arbitrary bytes as a manifest file. Render must never
// panic: every input renders or fails with an *Error.
func FuzzRender(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := tree(map[string]string{"apps/a.yaml": string(data), "apps/ns.yaml": nsDemo})
		objs, err := render.Render(t.Context(), tr, []string{"apps"}, fuzzOptions)
		checkRendered(t, objs, err)
	})
}

// FuzzRenderKustomization feeds arbitrary bytes as a kustomization file,
// next to a base and a resource, through the checks and kustomize.
func FuzzRenderKustomization(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := tree(map[string]string{
			"apps/kustomization.yaml": string(data),
			"apps/cm.yaml":            cmWeb,
			"base/kustomization.yaml": "resources: [ns.yaml]\n",
			"base/ns.yaml":            nsDemo,
		})
		objs, err := render.Render(t.Context(), tr, []string{"apps"}, fuzzOptions)
		checkRendered(t, objs, err)
	})
}
