package render_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gitgate.dev/gitgate/provenance/render"
)

// baseAndOverlay is a kustomize base with two overlays, one per cluster.
func baseAndOverlay() map[string]string {
	return map[string]string{
		"base/kustomization.yaml": "resources:\n- deployment.yaml\n- ns.yaml\n",
		"base/deployment.yaml":    deploy,
		"base/ns.yaml":            nsDemo,
		"clusters/prod/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namePrefix: prod-
resources:
- ../../base
patches:
- path: replicas.yaml
configMapGenerator:
- name: settings
  namespace: demo
  files:
  - config/app.properties
labels:
- pairs: {env: prod}
`,
		"clusters/prod/replicas.yaml":         "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: demo}\nspec: {replicas: 5}\n",
		"clusters/prod/config/app.properties": "color=blue\n",
		// Not listed in the kustomization: not rendered.
		"clusters/prod/unused/cm.yaml": cmWeb,
	}
}

func TestKustomize(t *testing.T) {
	files := baseAndOverlay()
	objs, err := render.Render(t.Context(), tree(files), []string{"clusters"}, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := describe(objs)
	want := []string{
		"clusters/prod/kustomization.yaml#0 Deployment.apps demo/prod-web",
		// kustomize does not prefix Namespaces.
		"clusters/prod/kustomization.yaml#0 Namespace demo",
	}
	if len(got) != 3 || !slices.Equal(got[:2], want) || !strings.HasPrefix(got[2], "clusters/prod/kustomization.yaml#0 ConfigMap demo/prod-settings-") {
		t.Fatalf("got %q", got)
	}
	d := objs[0].Object.Object
	if r, _, _ := unstructured.NestedInt64(d, "spec", "replicas"); r != 5 {
		t.Errorf("replicas = %d, want the overlay's 5", r)
	}
	if env, _, _ := unstructured.NestedString(d, "metadata", "labels", "env"); env != "prod" {
		t.Errorf("label env = %q", env)
	}
	if img, _ := d["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["image"]; img != "nginx:1.27" {
		t.Errorf("image = %v", img)
	}
	if v, _, _ := unstructured.NestedString(objs[2].Object.Object, "data", "app.properties"); v != "color=blue\n" {
		t.Errorf("generated ConfigMap data = %q", v)
	}
}

func TestKustomizeLayout(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		paths []string
		want  []string
	}{
		{
			name: "a kustomization in a subfolder of a plain folder",
			files: map[string]string{
				"apps/ns.yaml":                 nsDemo,
				"apps/web/kustomization.yaml":  "resources: [cm.yaml]\nnamespace: web\n",
				"apps/web/cm.yaml":             cmWeb,
				"apps/web/extra/unlisted.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n",
			},
			paths: []string{"apps"},
			want:  []string{"apps/ns.yaml#1 Namespace demo", "apps/web/kustomization.yaml#0 ConfigMap web/web"},
		},
		{
			name: "nested kustomizations are built through the outer one only",
			files: map[string]string{
				"apps/kustomization.yaml":     "resources: [web]\nnamePrefix: x-\n",
				"apps/web/kustomization.yaml": "resources: [cm.yaml]\n",
				"apps/web/cm.yaml":            cmWeb,
			},
			paths: []string{"apps"},
			want:  []string{"apps/kustomization.yaml#0 ConfigMap demo/x-web"},
		},
		{
			name: "a kustomization at the repository root",
			files: map[string]string{
				"kustomization.yml": "resources: [apps/cm.yaml]\n",
				"apps/cm.yaml":      cmWeb,
			},
			paths: []string{""},
			want:  []string{"kustomization.yml#0 ConfigMap demo/web"},
		},
		{
			name: "the kustomization file named as the path",
			files: map[string]string{
				"apps/Kustomization": "resources: [cm.yaml]\n",
				"apps/cm.yaml":       cmWeb,
			},
			paths: []string{"apps/Kustomization", "apps"},
			want:  []string{"apps/Kustomization#0 ConfigMap demo/web"},
		},
		{
			name: "builtin transformer configuration from a file",
			files: map[string]string{
				"apps/kustomization.yaml": "resources: [cm.yaml]\ntransformers: [labels.yaml]\n",
				"apps/labels.yaml":        "apiVersion: builtin\nkind: LabelTransformer\nmetadata: {name: l}\nlabels: {team: a}\nfieldSpecs: [{path: metadata/labels, create: true}]\n",
				"apps/cm.yaml":            cmWeb,
			},
			paths: []string{"apps"},
			want:  []string{"apps/kustomization.yaml#0 ConfigMap demo/web"},
		},
		{
			name: "components",
			files: map[string]string{
				"apps/kustomization.yaml":     "resources: [cm.yaml]\ncomponents: [../comp]\n",
				"apps/cm.yaml":                cmWeb,
				"comp/kustomization.yaml":     "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [secret.yaml]\n",
				"comp/secret.yaml":            "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: demo}\n",
				"comp/unrelated/huge.bin.txt": "not read unless comp is built",
			},
			paths: []string{"apps"},
			want:  []string{"apps/kustomization.yaml#0 ConfigMap demo/web", "apps/kustomization.yaml#0 Secret demo/s"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := render.Render(t.Context(), tree(tt.files), tt.paths, render.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(objs); !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestKustomizeReadsOnlyWhatItNeeds: the in-memory file system gets the
// folders of the kustomizations a build loads, nothing else of the
// repository.
func TestKustomizeReadsOnlyWhatItNeeds(t *testing.T) {
	files := baseAndOverlay()
	files["docs/big.md"] = "unrelated"
	files["other/kustomization.yaml"] = "resources: [cm.yaml]\n"
	files["other/cm.yaml"] = cmWeb
	tr := tree(files)
	if _, err := render.Render(t.Context(), tr, []string{"clusters/prod"}, render.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"docs/big.md", "other/kustomization.yaml", "other/cm.yaml"} {
		if tr.reads[p] != 0 {
			t.Errorf("%s was read", p)
		}
	}
	if tr.reads["base/deployment.yaml"] != 1 {
		t.Errorf("base/deployment.yaml read %d times, want once", tr.reads["base/deployment.yaml"])
	}
}

func TestKustomizeErrors(t *testing.T) {
	kust := func(body string, extra map[string]string) *fakeTree {
		files := map[string]string{"apps/kustomization.yaml": body, "apps/cm.yaml": cmWeb}
		for k, v := range extra {
			files[k] = v
		}
		return tree(files)
	}
	const kfile = "apps/kustomization.yaml"
	tests := []struct {
		name   string
		tree   *fakeTree
		opts   render.Options
		target error
		path   string
		want   []string
	}{
		{
			name:   "a base outside the repository",
			tree:   kust("resources: [../../../etc]\n", nil),
			target: render.ErrUnsafePath, path: kfile, want: []string{`"../../../etc"`},
		},
		{
			name:   "an absolute resource",
			tree:   kust("resources: [/etc/passwd]\n", nil),
			target: render.ErrUnsafePath, path: kfile, want: []string{"absolute"},
		},
		{
			name:   "a file outside the kustomization folder",
			tree:   kust("resources: [cm.yaml]\npatches: [{path: ../common/patch.yaml}]\n", map[string]string{"common/patch.yaml": cmWeb}),
			target: render.ErrUnsafePath, path: kfile, want: []string{"outside the kustomization's folder"},
		},
		{
			name:   "a remote resource URL",
			tree:   kust("resources:\n- cm.yaml\n- https://raw.githubusercontent.com/org/repo/main/deploy.yaml\n", nil),
			target: render.ErrDisabled, path: kfile, want: []string{"remote", "https://raw.githubusercontent.com"},
		},
		{
			name:   "a remote git base",
			tree:   kust("resources:\n- github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v3.3.1\n", nil),
			target: render.ErrDisabled, path: kfile,
		},
		{
			name:   "an scp-style git base",
			tree:   kust("resources:\n- git@github.com:org/repo.git//base\n", nil),
			target: render.ErrDisabled, path: kfile,
		},
		{
			name:   "a forced git protocol",
			tree:   kust("bases:\n- git::example.com/org/repo//base\n", nil),
			target: render.ErrDisabled, path: kfile,
		},
		{
			name:   "a remote patch",
			tree:   kust("resources: [cm.yaml]\npatches:\n- path: http://example.com/patch.yaml\n", nil),
			target: render.ErrDisabled, path: kfile,
		},
		{
			name:   "a remote configMapGenerator file",
			tree:   kust("configMapGenerator:\n- name: x\n  files: [key=https://example.com/x]\n", nil),
			target: render.ErrDisabled, path: kfile,
		},
		{
			name:   "helm charts",
			tree:   kust("helmCharts:\n- name: nginx\n  repo: https://charts.example.com\n", nil),
			target: render.ErrDisabled, path: kfile, want: []string{"helm"},
		},
		{
			name: "an exec KRM function",
			tree: kust("resources: [cm.yaml]\ntransformers: [fn.yaml]\n", map[string]string{
				"apps/fn.yaml": "apiVersion: example.com/v1\nkind: Exec\nmetadata:\n  name: fn\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: /bin/sh\n",
			}),
			target: render.ErrDisabled, path: "apps/fn.yaml", want: []string{"not one of kustomize's builtins", "used by apps/kustomization.yaml"},
		},
		{
			name:   "an inline container function",
			tree:   kust("resources: [cm.yaml]\ngenerators:\n- |\n  apiVersion: example.com/v1\n  kind: Gen\n  metadata:\n    name: g\n    annotations:\n      config.kubernetes.io/function: '{container: {image: evil}}'\n", nil),
			target: render.ErrDisabled, path: kfile,
		},
		{
			name: "a builtin transformer that loads a remote patch",
			tree: kust("resources: [cm.yaml]\ntransformers: [patch.yaml]\n", map[string]string{
				"apps/patch.yaml": "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: p}\npath: https://example.com/patch.yaml\n",
			}),
			target: render.ErrDisabled, path: "apps/patch.yaml",
		},
		{
			name: "plugin configurations from a kustomization folder",
			tree: kust("resources: [cm.yaml]\ntransformers: [../plugins]\n", map[string]string{
				"plugins/kustomization.yaml": "resources: [helm.yaml]\n",
				"plugins/helm.yaml":          "apiVersion: builtin\nkind: HelmChartInflationGenerator\nmetadata: {name: h}\nname: x\n",
			}),
			target: render.ErrDisabled, path: "plugins/helm.yaml", want: []string{"helm"},
		},
		{
			name:   "a symlink in the kustomization folder",
			tree:   kust("resources: [cm.yaml]\n", nil).symlink("apps/secret.yaml", "/etc/passwd"),
			target: render.ErrNotRegular, path: "apps/secret.yaml",
		},
		{
			name:   "a symlink in a base",
			tree:   kust("resources: [../base]\n", map[string]string{"base/kustomization.yaml": "resources: [x.yaml]\n"}).symlink("base/x.yaml", "/etc/passwd"),
			target: render.ErrNotRegular, path: "base/x.yaml",
		},
		{
			name:   "an alias bomb in a resource",
			tree:   kust("resources: [cm.yaml, lol.yaml]\n", map[string]string{"apps/lol.yaml": billionLaughs()}),
			target: render.ErrLimit, path: "apps/lol.yaml",
		},
		{
			name:   "an alias bomb in an inline patch",
			tree:   kust("resources: [cm.yaml]\npatches:\n- patch: |\n"+indent(billionLaughs(), "    "), nil),
			target: render.ErrLimit, path: kfile,
		},
		{
			name:   "an alias bomb in the kustomization",
			tree:   kust(strings.Replace(billionLaughs(), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\n", "resources: [cm.yaml]\n", 1), nil),
			target: render.ErrLimit, path: kfile,
		},
		{
			name:   "a missing resource",
			tree:   kust("resources: [cm.yaml, missing.yaml]\n", nil),
			target: render.ErrKustomize, path: kfile, want: []string{"missing.yaml"},
		},
		{
			name:   "an unknown field",
			tree:   kust("resources: [cm.yaml]\nresourcez: [x]\n", nil),
			target: render.ErrKustomize, path: kfile,
		},
		{
			name: "a cycle",
			tree: kust("resources: [../b]\n", map[string]string{
				"b/kustomization.yaml": "resources: [../apps]\n",
			}),
			target: render.ErrKustomize, path: "b/kustomization.yaml", want: []string{"cycle"},
		},
		{
			name:   "too many kustomization loads",
			tree:   diamonds(12),
			opts:   render.Options{MaxKustomizations: 1000},
			target: render.ErrLimit, path: "l8/kustomization.yaml", want: []string{"more than 1000 kustomizations"},
		},
		{
			name:   "more than one kustomization file",
			tree:   kust("resources: [cm.yaml]\n", map[string]string{"apps/kustomization.yml": "resources: [cm.yaml]\n"}),
			target: render.ErrKustomize, path: "apps",
		},
		{
			name:   "a kustomization output without a name",
			tree:   kust("resources: [cm.yaml]\nnamespace: demo\n", map[string]string{"apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: x-}\n"}),
			target: render.ErrKustomize, path: kfile,
		},
		{
			name: "duplicates between a kustomization and a plain file",
			tree: tree(map[string]string{
				"apps/web/kustomization.yaml": "resources: [cm.yaml]\n",
				"apps/web/cm.yaml":            cmWeb,
				"apps/zz.yaml":                cmWeb,
			}),
			target: render.ErrDuplicate, path: "apps/zz.yaml", want: []string{"apps/web/kustomization.yaml"},
		},
	}
	// Nothing may be fetched or cloned, even on the way to an error.
	outside := watchOutside(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if what := outside(); what != "" {
					t.Errorf("kustomize reached outside the repository: %s", what)
				}
			}()
			paths := []string{"apps"}
			if tt.name == "too many kustomization loads" {
				paths = []string{"l11"}
			}
			objs, err := render.Render(t.Context(), tt.tree, paths, tt.opts)
			if objs != nil {
				t.Errorf("objects returned with an error: %v", describe(objs))
			}
			wantError(t, err, tt.target, tt.path, 0, tt.want...)
		})
	}
}

// diamonds builds levels of kustomizations where each refers twice to the
// one below (through two folders), so a build of the top loads 2^levels
// kustomizations while the repository holds 3 per level.
func diamonds(levels int) *fakeTree {
	files := map[string]string{
		"l0/kustomization.yaml": "resources: [cm.yaml]\n",
		"l0/cm.yaml":            cmWeb,
	}
	for i := 1; i < levels; i++ {
		for _, side := range []string{"a", "b"} {
			files[fmt.Sprintf("l%d%s/kustomization.yaml", i, side)] = fmt.Sprintf("resources: [../l%d]\nnamePrefix: %s-\n", i-1, side)
		}
		files[fmt.Sprintf("l%d/kustomization.yaml", i)] = fmt.Sprintf("resources: [../l%da, ../l%db]\n", i, i)
	}
	return tree(files)
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n") + "\n"
}
