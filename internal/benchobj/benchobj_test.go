package benchobj

import (
	"encoding/json"
	"testing"
)

// TestSize pins the objects' JSON sizes: every admission benchmark number
// is for these objects, so a change to them must be deliberate (and the
// numbers in test/bench/README.md measured again).
func TestSize(t *testing.T) {
	for _, tc := range []struct {
		name string
		obj  map[string]any
		want int
	}{
		{"manifest", Manifest("shop"), 7211},
		{"live", Live("shop", 8, "981281"), 9557},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.obj)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != tc.want {
				t.Errorf("%d bytes of JSON, want %d", len(b), tc.want)
			}
		})
	}
}

// TestUnshared checks that the object's two label sets are separate maps,
// so a benchmark that changes one changes only what it means to.
func TestUnshared(t *testing.T) {
	obj := Live("shop", 8, "981281")
	obj["metadata"].(map[string]any)["labels"].(map[string]any)["changed"] = "yes"
	tmpl := obj["spec"].(map[string]any)["template"].(map[string]any)["metadata"].(map[string]any)
	if _, ok := tmpl["labels"].(map[string]any)["changed"]; ok {
		t.Error("the pod template shares the Deployment's labels")
	}
}
