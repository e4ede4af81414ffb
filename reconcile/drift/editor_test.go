package drift

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gitgate.dev/gitgate/provenance/conform"
)

func entry(manager, op, at, sub string) map[string]any {
	e := map[string]any{"manager": manager, "operation": op, "fieldsType": "FieldsV1", "fieldsV1": map[string]any{"f:spec": map[string]any{}}}
	if at != "" {
		e["time"] = at
	}
	if sub != "" {
		e["subresource"] = sub
	}
	return e
}

func withManagedFields(entries ...any) map[string]any {
	return map[string]any{"metadata": map[string]any{"name": "x", "managedFields": entries}}
}

func TestEditorOf(t *testing.T) {
	tests := []struct {
		name string
		obj  map[string]any
		want *editor
	}{
		{"no metadata", map[string]any{}, nil},
		{"no managed fields", map[string]any{"metadata": map[string]any{}}, nil},
		{"only gitgate", withManagedFields(entry("gitgate", "Apply", "2026-01-01T10:00:00Z", "")), nil},
		{
			"newest non-gitgate wins",
			withManagedFields(
				entry("kubectl-edit", "Update", "2026-01-01T10:00:00Z", ""),
				entry("gitgate", "Apply", "2026-01-01T12:00:00Z", ""),
				entry("kubectl-scale", "Update", "2026-01-01T11:00:00Z", "scale"),
			),
			&editor{Manager: "kubectl-scale", Operation: "Update", Subresource: "scale", Time: time.Date(2026, 1, 1, 11, 0, 0, 0, time.UTC)},
		},
		{
			"status writers are not editors",
			withManagedFields(
				entry("kubectl-edit", "Update", "2026-01-01T10:00:00Z", ""),
				entry("kube-controller-manager", "Update", "2026-01-01T12:00:00Z", "status"),
			),
			&editor{Manager: "kubectl-edit", Operation: "Update", Time: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)},
		},
		{
			"an entry without time is oldest",
			withManagedFields(
				entry("old", "Update", "", ""),
				entry("kubectl", "Apply", "2026-01-01T10:00:00Z", ""),
				entry("notime", "Update", "", ""),
			),
			&editor{Manager: "kubectl", Operation: "Apply", Time: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)},
		},
		{
			"equal times: the later entry",
			withManagedFields(
				entry("first", "Update", "2026-01-01T10:00:00Z", ""),
				entry("second", "Update", "2026-01-01T10:00:00Z", ""),
			),
			&editor{Manager: "second", Operation: "Update", Time: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)},
		},
		{
			"malformed entries are skipped",
			withManagedFields("junk", 7, map[string]any{"manager": 3, "time": "yesterday"}, entry("kubectl", "Update", "not a time", "")),
			&editor{Manager: "kubectl", Operation: "Update"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := editorOf(tt.obj)
			switch {
			case tt.want == nil && got == nil:
			case tt.want == nil || got == nil:
				t.Fatalf("editorOf = %+v, want %+v", got, tt.want)
			case got.Manager != tt.want.Manager || got.Operation != tt.want.Operation || got.Subresource != tt.want.Subresource || !got.Time.Equal(tt.want.Time):
				t.Fatalf("editorOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestEditTime(t *testing.T) {
	stamp := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		ed      *editor
		arrival time.Time
		want    time.Time
	}{
		{"no editor: arrival", nil, stamp.Add(5 * time.Second), stamp.Add(5 * time.Second)},
		{"editor without time: arrival", &editor{Manager: "m"}, stamp, stamp},
		{"arrival within the stamp's second: arrival", &editor{Time: stamp}, stamp.Add(400 * time.Millisecond), stamp.Add(400 * time.Millisecond)},
		{"stamp in the future (skew): arrival", &editor{Time: stamp.Add(time.Minute)}, stamp, stamp},
		{"edit while nobody watched: stamp", &editor{Time: stamp}, stamp.Add(time.Hour), stamp},
		{"exactly one second later: stamp", &editor{Time: stamp}, stamp.Add(time.Second), stamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := editTime(tt.ed, tt.arrival); !got.Equal(tt.want) {
				t.Fatalf("editTime = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStrip(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{
			"name":          "c",
			"managedFields": []any{entry("kubectl", "Update", "2026-01-01T10:00:00Z", "")},
			"annotations":   map[string]any{conform.LastAppliedAnnotation: strings.Repeat("x", 4096)},
			"labels":        map[string]any{"a": "b"},
		},
		"data":   map[string]any{"k": "v"},
		"status": map[string]any{"phase": "x"},
	}}
	got, err := strip(u)
	if err != nil {
		t.Fatal(err)
	}
	s := got.(*unstructured.Unstructured)
	if _, ok := s.Object["status"]; ok {
		t.Error("status kept")
	}
	md := s.Object["metadata"].(map[string]any)
	if _, ok := md["managedFields"]; ok {
		t.Error("managedFields kept")
	}
	if _, ok := md["annotations"]; ok {
		t.Error("an annotations map left empty by the strip is kept")
	}
	if s.GetLabels()["a"] != "b" || s.Object["data"] == nil {
		t.Error("stripped what the comparison reads")
	}
	// Other annotations stay.
	u2 := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"annotations": map[string]any{"keep": "1", conform.LastAppliedAnnotation: "{}"}}}}
	_, _ = strip(u2)
	if u2.GetAnnotations()["keep"] != "1" || len(u2.GetAnnotations()) != 1 {
		t.Errorf("annotations = %v", u2.GetAnnotations())
	}
	// Anything else passes through.
	if v, err := strip("tombstone"); v != "tombstone" || err != nil {
		t.Error("non-objects must pass through")
	}
	if _, err := strip(&unstructured.Unstructured{Object: map[string]any{"metadata": "junk"}}); err != nil {
		t.Error(err)
	}
}

func TestMergePatchBody(t *testing.T) {
	desired := map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": "app", "uid": "u", "resourceVersion": "1", "annotations": map[string]any{"free": nil}},
		"spec":     map[string]any{"replicas": int64(2), "strategy": nil, "template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "web", "image": "i", "args": nil}}}}},
		"status":   map[string]any{"x": 1},
	}
	b, err := mergePatchBody(desired, "42")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	md := got["metadata"].(map[string]any)
	if md["resourceVersion"] != "42" || md["uid"] != nil {
		t.Errorf("metadata = %v", md)
	}
	if strings.Contains(string(b), "null") {
		t.Errorf("nulls left in the patch: %s", b)
	}
	if _, ok := got["status"]; ok {
		t.Error("status in the patch")
	}
	if desired["metadata"].(map[string]any)["uid"] != "u" || desired["spec"].(map[string]any)["strategy"] != nil {
		t.Error("the Index manifest was changed")
	}
	if _, ok := desired["spec"].(map[string]any)["strategy"]; !ok {
		t.Error("the Index manifest lost a null")
	}
	if _, err := mergePatchBody(desired, ""); err == nil {
		t.Error("a patch without precondition must fail")
	}
	if b, err := mergePatchBody(map[string]any{"kind": "X"}, "1"); err != nil || !strings.Contains(string(b), `"resourceVersion":"1"`) {
		t.Errorf("manifest without metadata: %s %v", b, err)
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdefghij", 10, "abcdefghij"},
		{"abcdefghijk", 10, "abcdefg…"},
		{"ééééé", 8, "éé…"},
	}
	for _, tt := range tests {
		if got := truncate(tt.in, tt.n); got != tt.want || len(got) > tt.n {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// FuzzLiveObject feeds arbitrary objects, as a watch or a read could return
// them, through what reads live objects: the strip, the editor and the
// comparison must never panic, and the strip leaves no managedFields.
func FuzzLiveObject(f *testing.F) {
	seeds := []string{
		`{}`,
		`{"metadata":{"managedFields":[{"manager":"kubectl","operation":"Update","time":"2026-01-01T10:00:00Z"}]}}`,
		`{"metadata":{"managedFields":"x","annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}"}}}`,
		`{"metadata":{"managedFields":[null,1,{"manager":null,"time":5,"subresource":[]}]},"status":null}`,
		`{"metadata":{"annotations":null},"spec":{"replicas":3}}`,
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"template":{"spec":{"containers":[{"name":"a"},{"name":"a"}]}}}}`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	desired := deployment("src", "web", 2, "web")
	f.Fuzz(func(t *testing.T, data string) {
		var obj map[string]any
		if err := json.Unmarshal([]byte(data), &obj); err != nil || obj == nil {
			return
		}
		_ = editorOf(obj)
		_ = conform.Compare(desired.Object, obj)
		out, err := strip(&unstructured.Unstructured{Object: obj})
		if err != nil {
			t.Fatal(err)
		}
		if md, ok := out.(*unstructured.Unstructured).Object["metadata"].(map[string]any); ok {
			if _, kept := md["managedFields"]; kept {
				t.Fatal("managedFields kept")
			}
		}
	})
}
