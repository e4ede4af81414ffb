package render_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gitgate.dev/gitgate/provenance/render"
)

// describe lists objects as "path#doc key" for comparisons.
func describe(objs []render.Object) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, fmt.Sprintf("%s#%d %s", o.Path, o.Doc, o.Key()))
	}
	return out
}

const (
	cmWeb  = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  namespace: demo\ndata:\n  a: \"1\"\n"
	nsDemo = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n"
	deploy = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
`
)

func TestRenderPlain(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		paths []string
		want  []string
	}{
		{
			name:  "one object",
			files: map[string]string{"apps/cm.yaml": cmWeb},
			paths: []string{"apps"},
			want:  []string{"apps/cm.yaml#1 ConfigMap demo/web"},
		},
		{
			name: "multi-document with empty and comment-only documents",
			files: map[string]string{"apps/all.yaml": "---\n" + nsDemo + "---\n# only a comment\n---\n\n---\n" + deploy +
				"---\n" + cmWeb + "...\n"},
			paths: []string{"apps"},
			want:  []string{"apps/all.yaml#1 Namespace demo", "apps/all.yaml#4 Deployment.apps demo/web", "apps/all.yaml#5 ConfigMap demo/web"},
		},
		{
			name: "lists are flattened",
			files: map[string]string{
				"apps/list.yaml": "apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(nsDemo, "\n", "\n  ") +
					"\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a, namespace: demo}\n",
				"apps/cmlist.yaml": "apiVersion: v1\nkind: ConfigMapList\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b, namespace: demo}}\n",
				"apps/empty.yaml":  "apiVersion: v1\nkind: List\nitems: []\n",
			},
			paths: []string{"apps"},
			want:  []string{"apps/cmlist.yaml#1 ConfigMap demo/b", "apps/list.yaml#1 Namespace demo", "apps/list.yaml#1 ConfigMap demo/a"},
		},
		{
			name:  "json",
			files: map[string]string{"apps/ns.json": `{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}}`},
			paths: []string{"apps"},
			want:  []string{"apps/ns.json#1 Namespace demo"},
		},
		{
			name: "folders are walked recursively and other files ignored",
			files: map[string]string{
				"apps/a/ns.yml":      nsDemo,
				"apps/a/b/cm.yaml":   cmWeb,
				"apps/README.md":     "# not a manifest: {{",
				"apps/a/script.sh":   "echo hi",
				"other/ignored.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n",
			},
			paths: []string{"apps"},
			want:  []string{"apps/a/b/cm.yaml#1 ConfigMap demo/web", "apps/a/ns.yml#1 Namespace demo"},
		},
		{
			name:  "a single file, whatever its extension",
			files: map[string]string{"apps/ns.txt": nsDemo, "apps/cm.yaml": cmWeb},
			paths: []string{"apps/ns.txt"},
			want:  []string{"apps/ns.txt#1 Namespace demo"},
		},
		{
			name:  "the repository root, as empty path or dot",
			files: map[string]string{"ns.yaml": nsDemo, "apps/cm.yaml": cmWeb},
			paths: []string{"."},
			want:  []string{"apps/cm.yaml#1 ConfigMap demo/web", "ns.yaml#1 Namespace demo"},
		},
		{
			name:  "overlapping paths render a file once",
			files: map[string]string{"apps/ns.yaml": nsDemo, "apps/web/cm.yaml": cmWeb},
			paths: []string{"apps/web", "apps", "apps/ns.yaml", "./apps/"},
			want:  []string{"apps/web/cm.yaml#1 ConfigMap demo/web", "apps/ns.yaml#1 Namespace demo"},
		},
		{
			name: "same name in another namespace, kind or group is another object",
			files: map[string]string{"apps/a.yaml": cmWeb + "---\n" + strings.Replace(cmWeb, "namespace: demo", "namespace: other", 1) +
				"---\napiVersion: v1\nkind: Secret\nmetadata: {name: web, namespace: demo}\n" +
				"---\napiVersion: example.com/v1\nkind: ConfigMap\nmetadata: {name: web, namespace: demo}\n"},
			paths: []string{"apps"},
			want: []string{"apps/a.yaml#1 ConfigMap demo/web", "apps/a.yaml#2 ConfigMap other/web",
				"apps/a.yaml#3 Secret demo/web", "apps/a.yaml#4 ConfigMap.example.com demo/web"},
		},
		{
			name:  "anchors and aliases within the limit",
			files: map[string]string{"apps/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: &l {app: web, tier: front}\n  annotations: *l\n"},
			paths: []string{"apps"},
			want:  []string{"apps/a.yaml#1 ConfigMap a"},
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

// TestRenderValues checks that values are decoded with kubectl's YAML
// semantics and unstructured's number types.
func TestRenderValues(t *testing.T) {
	src := `apiVersion: v1
kind: ConfigMap
metadata:
  name: v
  labels: &l {app: web}
  annotations:
    <<: *l
    app: overridden
    extra: "x"
data:
  int: "3"
spec:
  replicas: 3
  ratio: 0.5
  big: 9007199254740993
  on: yes
  empty:
  stamp: 2024-01-02T03:04:05Z
`
	objs, err := render.Render(t.Context(), tree(map[string]string{"a.yaml": src}), []string{""}, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := objs[0].Object.Object
	spec := o["spec"].(map[string]any)
	checks := []struct {
		field string
		got   any
		want  any
	}{
		{"replicas", spec["replicas"], int64(3)},
		{"ratio", spec["ratio"], 0.5},
		{"big", spec["big"], int64(9007199254740993)},
		// YAML 1.1 booleans, as kubectl reads them.
		{"on: yes", spec["true"], true},
		{"empty", spec["empty"], nil},
		{"stamp", spec["stamp"], "2024-01-02T03:04:05Z"},
		{"merge key", o["metadata"].(map[string]any)["labels"].(map[string]any)["app"], "web"},
		{"merge key overridden", o["metadata"].(map[string]any)["annotations"].(map[string]any)["app"], "overridden"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %#v, want %#v", c.field, c.got, c.want)
		}
	}
}

// wantError checks that err is an *render.Error for path (and document,
// when doc > 0) wrapping target, with every part of want in its message.
func wantError(t *testing.T, err, target error, path string, doc int, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", target)
	}
	var re *render.Error
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T) is not a *render.Error", err, err)
	}
	if !errors.Is(err, target) {
		t.Errorf("error %q does not wrap %q", err, target)
	}
	if re.Path != path || (doc > 0 && re.Doc != doc) {
		t.Errorf("error at %s document %d, want %s document %d: %v", re.Path, re.Doc, path, doc, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

// billionLaughs is the classic alias bomb: ten levels of nine aliases, a
// billion nodes when expanded, a few hundred bytes as text.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\nx0: &a0 [\"lol\"]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "x%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d,", i-1), 9), ","))
	}
	b.WriteString("data: *a9\n")
	return b.String()
}

func TestRenderErrors(t *testing.T) {
	deep := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: " + strings.Repeat("[", 200) + strings.Repeat("]", 200) + "\n"
	tests := []struct {
		name   string
		tree   *fakeTree
		paths  []string
		opts   render.Options
		target error
		path   string
		doc    int
		want   []string
	}{
		{
			name:   "invalid YAML",
			tree:   tree(map[string]string{"apps/bad.yaml": nsDemo + "---\napiVersion: v1\nkind: [unclosed\n"}),
			target: render.ErrSyntax, path: "apps/bad.yaml", doc: 2,
		},
		{
			name:   "bad document separator",
			tree:   tree(map[string]string{"apps/bad.yaml": nsDemo + "--- junk\n" + cmWeb}),
			target: render.ErrSyntax, path: "apps/bad.yaml",
		},
		{
			name:   "tab indentation",
			tree:   tree(map[string]string{"apps/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: x\n"}),
			target: render.ErrSyntax, path: "apps/bad.yaml", doc: 1,
		},
		{
			name:   "alias bomb",
			tree:   tree(map[string]string{"apps/lol.yaml": billionLaughs()}),
			target: render.ErrLimit, path: "apps/lol.yaml", doc: 1, want: []string{"aliases"},
		},
		{
			name:   "alias bomb through merge keys",
			tree:   tree(map[string]string{"apps/lol.yaml": "a: &a {x: 1, y: 2, z: 3}\nb: &b {<<: *a, a1: *a, a2: *a, a3: *a}\nc: &c {a1: *b, a2: *b, a3: *b, a4: *b}\nd: [*c, *c, *c, *c, *c, *c, *c, *c]\n"}),
			opts:   render.Options{MaxAliasNodes: 100},
			target: render.ErrLimit, path: "apps/lol.yaml", doc: 1,
		},
		{
			name:   "nesting too deep",
			tree:   tree(map[string]string{"apps/deep.yaml": deep}),
			target: render.ErrLimit, path: "apps/deep.yaml", doc: 1, want: []string{"deeper than 100"},
		},
		{
			name:   "nesting too deep through an alias",
			tree:   tree(map[string]string{"apps/deep.yaml": "a: &a [[[[[1]]]]]\nb: [[[*a]]]\n"}),
			opts:   render.Options{MaxDepth: 7},
			target: render.ErrLimit, path: "apps/deep.yaml", want: []string{"through an alias"},
		},
		{
			name:   "repeated mapping key",
			tree:   tree(map[string]string{"apps/dup.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: \"1\", k: \"2\"}\n"}),
			target: render.ErrSyntax, path: "apps/dup.yaml", doc: 1, want: []string{`"k" is repeated`},
		},
		{
			name:   "a 100 MB file",
			tree:   tree(map[string]string{"apps/ns.yaml": nsDemo}).huge("apps/huge.yaml", 100<<20),
			target: render.ErrLimit, path: "apps/huge.yaml", want: []string{"larger than 4194304 bytes"},
		},
		{
			name:   "total bytes",
			tree:   tree(map[string]string{"apps/a.yaml": cmWeb, "apps/b.yaml": nsDemo}),
			opts:   render.Options{MaxTotalBytes: int64(len(cmWeb) + 10)},
			target: render.ErrLimit, path: "apps/b.yaml",
		},
		{
			name:   "too many objects",
			tree:   tree(map[string]string{"apps/a.yaml": cmWeb + "---\n" + nsDemo + "---\n" + deploy}),
			opts:   render.Options{MaxObjects: 2},
			target: render.ErrLimit, path: "apps/a.yaml", doc: 3, want: []string{"more than 2 objects"},
		},
		{
			name:   "symlink to /etc/passwd",
			tree:   tree(map[string]string{"apps/ns.yaml": nsDemo}).symlink("apps/passwd.yaml", "/etc/passwd"),
			target: render.ErrNotRegular, path: "apps/passwd.yaml", want: []string{"symlink"},
		},
		{
			name:   "symlink without a manifest extension",
			tree:   tree(map[string]string{"apps/ns.yaml": nsDemo}).symlink("apps/link", "../secrets"),
			target: render.ErrNotRegular, path: "apps/link",
		},
		{
			name:   "configured path is a symlink",
			tree:   tree(map[string]string{"apps/ns.yaml": nsDemo}).symlink("apps/x.yaml", "/etc/passwd"),
			paths:  []string{"apps/x.yaml"},
			target: render.ErrNotRegular, path: "apps/x.yaml",
		},
		{
			name:   "submodule",
			tree:   tree(map[string]string{"apps/ns.yaml": nsDemo}).submodule("apps/vendor"),
			target: render.ErrNotRegular, path: "apps/vendor", want: []string{"submodule"},
		},
		{
			name:   "dot-dot path",
			tree:   tree(map[string]string{"apps/ns.yaml": nsDemo}),
			paths:  []string{"apps/../../etc"},
			target: render.ErrUnsafePath, path: "apps/../../etc",
		},
		{
			name:   "absolute path",
			tree:   tree(map[string]string{"apps/ns.yaml": nsDemo}),
			paths:  []string{"/etc/passwd"},
			target: render.ErrUnsafePath, path: "/etc/passwd",
		},
		{
			name:   "missing path",
			tree:   tree(map[string]string{"apps/ns.yaml": nsDemo}),
			paths:  []string{"clusters/prod"},
			target: render.ErrNotFound, path: "clusters/prod",
		},
		{
			name:   "missing kind",
			tree:   tree(map[string]string{"apps/a.yaml": nsDemo + "---\napiVersion: v1\nmetadata: {name: x}\n"}),
			target: render.ErrInvalidObject, path: "apps/a.yaml", doc: 2, want: []string{"kind is missing"},
		},
		{
			name:   "missing apiVersion",
			tree:   tree(map[string]string{"apps/a.yaml": "kind: ConfigMap\nmetadata: {name: x}\n"}),
			target: render.ErrInvalidObject, path: "apps/a.yaml", doc: 1, want: []string{"apiVersion is missing"},
		},
		{
			name:   "malformed apiVersion",
			tree:   tree(map[string]string{"apps/a.yaml": "apiVersion: a/b/c\nkind: ConfigMap\nmetadata: {name: x}\n"}),
			target: render.ErrInvalidObject, path: "apps/a.yaml", doc: 1,
		},
		{
			name:   "missing name",
			tree:   tree(map[string]string{"apps/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: x}\n"}),
			target: render.ErrInvalidObject, path: "apps/a.yaml", doc: 1, want: []string{"metadata.name"},
		},
		{
			name:   "generateName",
			tree:   tree(map[string]string{"apps/a.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: run-}\n"}),
			target: render.ErrInvalidObject, path: "apps/a.yaml", doc: 1, want: []string{"generateName"},
		},
		{
			name:   "numeric namespace",
			tree:   tree(map[string]string{"apps/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: 12}\n"}),
			target: render.ErrInvalidObject, path: "apps/a.yaml", doc: 1,
		},
		{
			name:   "a scalar document",
			tree:   tree(map[string]string{"apps/a.yaml": "just a string\n"}),
			target: render.ErrInvalidObject, path: "apps/a.yaml", doc: 1, want: []string{"string, not an object"},
		},
		{
			name:   "a list item that is not an object",
			tree:   tree(map[string]string{"apps/a.yaml": "apiVersion: v1\nkind: List\nitems: [3]\n"}),
			target: render.ErrInvalidObject, path: "apps/a.yaml", doc: 1, want: []string{"item 1"},
		},
		{
			name:   "duplicate objects across files",
			tree:   tree(map[string]string{"apps/a.yaml": nsDemo + "---\n" + cmWeb, "apps/b/cm.yaml": strings.Replace(cmWeb, `a: "1"`, `a: "2"`, 1)}),
			target: render.ErrDuplicate, path: "apps/b/cm.yaml", doc: 1, want: []string{"ConfigMap demo/web", "apps/a.yaml (document 2)"},
		},
		{
			name:   "duplicate through another version of the group",
			tree:   tree(map[string]string{"apps/a.yaml": deploy + "---\n" + strings.Replace(deploy, "apps/v1", "apps/v1beta2", 1)}),
			target: render.ErrDuplicate, path: "apps/a.yaml", doc: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			paths := tt.paths
			if paths == nil {
				paths = []string{"apps"}
			}
			objs, err := render.Render(t.Context(), tt.tree, paths, tt.opts)
			if objs != nil {
				t.Errorf("objects returned with an error: %v", describe(objs))
			}
			wantError(t, err, tt.target, tt.path, tt.doc, tt.want...)
		})
	}
}

func TestRenderCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := render.Render(ctx, tree(map[string]string{"apps/ns.yaml": nsDemo}), []string{"apps"}, render.Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Render = %v, want context.Canceled", err)
	}
}

func TestObjectsAreIndependent(t *testing.T) {
	// Two objects from one file must not share maps: the Index hands them
	// out to readers, the Builder may set a namespace.
	objs, err := render.Render(t.Context(), tree(map[string]string{"a.yaml": cmWeb + "---\n" + strings.Replace(cmWeb, "name: web", "name: web2", 1)}), []string{""}, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedField(objs[0].Object.Object, "changed", "data", "a"); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := unstructured.NestedString(objs[1].Object.Object, "data", "a"); v != "1" {
		t.Errorf("changing one object changed another: %q", v)
	}
}
