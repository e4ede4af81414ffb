package index_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"gitgate.dev/gitgate/provenance/index"
)

// obj builds a minimal manifest.
func obj(apiVersion, kind, namespace, name string) *unstructured.Unstructured {
	meta := map[string]any{"name": name}
	if namespace != "" {
		meta["namespace"] = namespace
	}
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": meta}}
}

func origin(source, path string) index.Origin {
	return index.Origin{Source: source, Commit: strings.Repeat("ab", 20), Path: path, Signers: []string{"alice"}}
}

func TestKeyOf(t *testing.T) {
	tests := []struct {
		name    string
		obj     *unstructured.Unstructured
		want    index.Key
		wantErr bool
	}{
		{"core", obj("v1", "ConfigMap", "web", "cfg"), index.Key{Kind: "ConfigMap", Namespace: "web", Name: "cfg"}, false},
		{"grouped", obj("apps/v1", "Deployment", "web", "frontend"), index.Key{Group: "apps", Kind: "Deployment", Namespace: "web", Name: "frontend"}, false},
		{"cluster-scoped", obj("rbac.authorization.k8s.io/v1", "ClusterRole", "", "view"), index.Key{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "view"}, false},
		{"no apiVersion", obj("", "ConfigMap", "web", "cfg"), index.Key{}, true},
		{"too many slashes", obj("a/b/v1", "X", "", "x"), index.Key{}, true},
		{"group without version", obj("apps/", "Deployment", "", "x"), index.Key{}, true},
		{"no kind", obj("v1", "", "web", "cfg"), index.Key{}, true},
		{"no name", obj("v1", "ConfigMap", "web", ""), index.Key{}, true},
		{"nil", nil, index.Key{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := index.KeyOf(tt.obj)
			if tt.wantErr {
				if !errors.Is(err, index.ErrInvalidObject) {
					t.Fatalf("KeyOf = %v, %v; want ErrInvalidObject", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("KeyOf = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestKeyVersionIndependent(t *testing.T) {
	b := index.NewBuilder()
	if _, err := b.Add(obj("autoscaling/v2", "HorizontalPodAutoscaler", "web", "hpa"), origin("s", "a.yaml")); err != nil {
		t.Fatal(err)
	}
	ix := b.Build()
	// The same object read through another served version.
	k, err := index.KeyOf(obj("autoscaling/v1", "HorizontalPodAutoscaler", "web", "hpa"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ix.Lookup(k); !ok {
		t.Fatalf("lookup through autoscaling/v1 missed the autoscaling/v2 entry")
	}
}

func TestKeyString(t *testing.T) {
	tests := []struct {
		key  index.Key
		want string
	}{
		{index.Key{Group: "apps", Kind: "Deployment", Namespace: "web", Name: "frontend"}, "Deployment.apps web/frontend"},
		{index.Key{Kind: "Namespace", Name: "web"}, "Namespace web"},
		{index.Key{Kind: "ConfigMap", Namespace: "web", Name: "cfg"}, "ConfigMap web/cfg"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.key.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBuilderConflict(t *testing.T) {
	b := index.NewBuilder()
	if _, err := b.Add(obj("apps/v1", "Deployment", "web", "frontend"), origin("s", "apps/a.yaml")); err != nil {
		t.Fatal(err)
	}
	// Another version of the same group is the same object.
	_, err := b.Add(obj("apps/v1beta2", "Deployment", "web", "frontend"), origin("s", "apps/b.yaml"))
	var ce *index.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, index.ErrConflict) {
		t.Fatalf("second Add = %v, want a ConflictError", err)
	}
	for _, want := range []string{"Deployment.apps web/frontend", "apps/a.yaml", "apps/b.yaml"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	// Same name, other kind, group or namespace: no conflict.
	for _, o := range []*unstructured.Unstructured{
		obj("apps/v1", "StatefulSet", "web", "frontend"),
		obj("extensions/v1beta1", "Deployment", "web", "frontend"),
		obj("apps/v1", "Deployment", "other", "frontend"),
	} {
		if _, err := b.Add(o, origin("s", "c.yaml")); err != nil {
			t.Errorf("Add(%v): %v", o.Object, err)
		}
	}
	if got := b.Build().Len(); got != 4 {
		t.Errorf("Len = %d, want 4", got)
	}
	if b.Len() != 0 {
		t.Errorf("Build did not empty the builder")
	}
}

func TestBuilderNamespaces(t *testing.T) {
	scope := func(gk schema.GroupKind) (bool, bool) {
		switch gk.Kind {
		case "Namespace", "ClusterRole":
			return false, true
		case "ConfigMap", "Deployment":
			return true, true
		}
		return false, false // e.g. a CRD not installed yet
	}
	tests := []struct {
		name   string
		obj    *unstructured.Unstructured
		wantNS string
	}{
		{"namespaced without namespace gets the default", obj("v1", "ConfigMap", "", "cfg"), "team"},
		{"namespaced keeps its own", obj("apps/v1", "Deployment", "web", "frontend"), "web"},
		{"cluster-scoped loses a written namespace", obj("rbac.authorization.k8s.io/v1", "ClusterRole", "web", "view"), ""},
		{"cluster-scoped without namespace", obj("v1", "Namespace", "", "web"), ""},
		{"unknown scope keeps what is written", obj("example.com/v1", "Widget", "", "w"), ""},
		{"unknown scope keeps a written namespace", obj("example.com/v1", "Widget", "web", "w2"), "web"},
	}
	b := index.NewBuilder(index.WithNamespaces("team", scope))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := b.Add(tt.obj, origin("s", "a.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if k.Namespace != tt.wantNS {
				t.Errorf("key namespace = %q, want %q", k.Namespace, tt.wantNS)
			}
			if got := tt.obj.GetNamespace(); got != tt.wantNS {
				t.Errorf("manifest namespace = %q, want %q", got, tt.wantNS)
			}
		})
	}
	// Without the option, a missing namespace stays "".
	k, err := index.NewBuilder().Add(obj("v1", "ConfigMap", "", "cfg"), origin("s", "a.yaml"))
	if err != nil || k.Namespace != "" {
		t.Errorf("plain builder: key %+v, %v; want an empty namespace", k, err)
	}
}

// sample builds an index of source s with the given objects.
func sample(t *testing.T, source string, objs ...*unstructured.Unstructured) *index.Index {
	t.Helper()
	b := index.NewBuilder()
	for _, o := range objs {
		if _, err := b.Add(o, origin(source, "apps/"+o.GetName()+".yaml")); err != nil {
			t.Fatal(err)
		}
	}
	return b.Build()
}

func TestIndexViews(t *testing.T) {
	ix := sample(t, "s",
		obj("apps/v1", "Deployment", "web", "b"),
		obj("apps/v1", "Deployment", "web", "a"),
		obj("v1", "ConfigMap", "web", "c"),
		obj("v1", "Namespace", "", "web"),
	)
	if ix.Len() != 4 {
		t.Fatalf("Len = %d", ix.Len())
	}
	e, ok := ix.Lookup(index.Key{Group: "apps", Kind: "Deployment", Namespace: "web", Name: "a"})
	if !ok || e.Object.GetName() != "a" || e.Origin.Path != "apps/a.yaml" || e.Origin.Source != "s" {
		t.Fatalf("Lookup = %+v, %v", e, ok)
	}
	if _, ok := ix.Lookup(index.Key{Group: "apps", Kind: "Deployment", Namespace: "other", Name: "a"}); ok {
		t.Errorf("Lookup found an object in the wrong namespace")
	}
	var names []string
	for e := range ix.All() {
		names = append(names, e.Key.String())
	}
	want := []string{"ConfigMap web/c", "Namespace web", "Deployment.apps web/a", "Deployment.apps web/b"}
	if !slices.Equal(names, want) {
		t.Errorf("All = %q, want %q", names, want)
	}
	wantKinds := []schema.GroupKind{{Kind: "ConfigMap"}, {Kind: "Namespace"}, {Group: "apps", Kind: "Deployment"}}
	if got := ix.Kinds(); !slices.Equal(got, wantKinds) {
		t.Errorf("Kinds = %v, want %v", got, wantKinds)
	}
	if n := ix.Count(schema.GroupKind{Group: "apps", Kind: "Deployment"}); n != 2 {
		t.Errorf("Count(Deployment) = %d", n)
	}
	counts := ix.Counts()
	counts[schema.GroupKind{Kind: "ConfigMap"}] = 99 // a copy: the index must not change
	if n := ix.Count(schema.GroupKind{Kind: "ConfigMap"}); n != 1 {
		t.Errorf("Counts returned the index's own map")
	}
	if got := ix.Sources(); !slices.Equal(got, []string{"s"}) {
		t.Errorf("Sources = %v", got)
	}
	// Stopping an iteration early.
	n := 0
	for range ix.All() {
		n++
		break
	}
	if n != 1 {
		t.Errorf("All did not stop")
	}
}

func TestNilIndex(t *testing.T) {
	var ix *index.Index
	if _, ok := ix.Lookup(index.Key{Kind: "X", Name: "x"}); ok {
		t.Error("nil Lookup found something")
	}
	if _, ok := ix.Withdrawn(index.Key{Kind: "X", Name: "x"}); ok {
		t.Error("nil Withdrawn found something")
	}
	if ix.Len() != 0 || ix.Kinds() != nil || ix.Sources() != nil || len(ix.Counts()) != 0 || ix.Count(schema.GroupKind{}) != 0 {
		t.Error("nil index is not empty")
	}
	for range ix.All() {
		t.Error("nil All yielded")
	}
	if got := ix.Removed(sample(t, "s", obj("v1", "ConfigMap", "a", "b"))); len(got) != 1 {
		t.Errorf("nil.Removed(prev) = %v, want prev's entry", got)
	}
}

func TestRemoved(t *testing.T) {
	prev := sample(t, "s",
		obj("v1", "ConfigMap", "web", "kept"),
		obj("v1", "ConfigMap", "web", "gone"),
		obj("apps/v1", "Deployment", "web", "gone"),
	)
	cur := sample(t, "s",
		obj("v1", "ConfigMap", "web", "kept"),
		obj("v1", "ConfigMap", "web", "new"),
	)
	var got []string
	for _, e := range cur.Removed(prev) {
		got = append(got, e.Key.String())
	}
	want := []string{"ConfigMap web/gone", "Deployment.apps web/gone"}
	if !slices.Equal(got, want) {
		t.Errorf("Removed = %q, want %q", got, want)
	}
	if r := cur.Removed(nil); r != nil {
		t.Errorf("Removed(nil) = %v", r)
	}
}

func TestMerge(t *testing.T) {
	a := sample(t, "a", obj("v1", "ConfigMap", "web", "x"), obj("v1", "ConfigMap", "web", "y"))
	b := sample(t, "b", obj("v1", "ConfigMap", "api", "x"))
	m, err := index.Merge(a, nil, b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 3 || !slices.Equal(m.Sources(), []string{"a", "b"}) {
		t.Fatalf("merged: %d entries, sources %v", m.Len(), m.Sources())
	}
	c := sample(t, "c", obj("v1", "ConfigMap", "web", "y"), obj("v1", "ConfigMap", "web", "x"))
	_, err = index.Merge(a, b, c)
	var ce *index.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("Merge = %v, want a ConflictError", err)
	}
	// The first conflict in key order, naming both sources.
	if ce.Key.Name != "x" || ce.First.Source != "a" || ce.Second.Source != "c" {
		t.Errorf("conflict = %+v", ce)
	}
	if !strings.Contains(err.Error(), "source a") || !strings.Contains(err.Error(), "source c") {
		t.Errorf("error %q does not name both sources", err)
	}
}
