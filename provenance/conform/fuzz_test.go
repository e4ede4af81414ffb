package conform

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"sigs.k8s.io/yaml"
)

// FuzzConforms feeds arbitrary JSON pairs to the comparator: it must never
// panic, an object always conforms to itself and to a copy of itself (also
// when the copy was decoded with other number types, as client-go
// decodes), and the result must not depend on map iteration order.
func FuzzConforms(f *testing.F) {
	deploy, err := os.ReadFile("testdata/deployment-10k.yaml")
	if err != nil {
		f.Fatal(err)
	}
	deployJSON, err := yaml.YAMLToJSON(deploy)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(deployJSON, deployJSON)
	f.Add([]byte(`{"apiVersion":"v1","kind":"Service","spec":{"ports":[{"port":80},{"port":80,"protocol":"UDP"}]}}`),
		[]byte(`{"apiVersion":"v1","kind":"Service","spec":{"ports":[{"port":80,"protocol":"UDP"}]}}`))
	f.Add([]byte(`{"apiVersion":"v1","kind":"Secret","stringData":{"a":"b","c":1},"data":{"x":"!!"}}`),
		[]byte(`{"apiVersion":"v1","kind":"Secret","data":{"a":"Yg=="}}`))
	f.Add([]byte(`{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"a","resources":{"limits":{"cpu":"1e3"}}},{"name":"a"}]}}`),
		[]byte(`{"apiVersion":"v1","kind":"Pod","spec":{"containers":null}}`))
	f.Add([]byte(`{"kind":"X","apiVersion":"x/v1","metadata":{"annotations":[1],"finalizers":[null,{}]},"spec":[{"name":1},{"name":{}}]}`),
		[]byte(`{"metadata":"x","spec":[{"name":1}]}`))
	f.Add([]byte(`{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","spec":{"renewTime":"bad","leaseDurationSeconds":1e400}}`),
		[]byte(`{"spec":{"renewTime":3}}`))
	f.Fuzz(func(t *testing.T, desiredJSON, liveJSON []byte) {
		var desired, live map[string]any
		if json.Unmarshal(desiredJSON, &desired) != nil || json.Unmarshal(liveJSON, &live) != nil {
			return
		}
		_, diffs := Conforms(desired, live)
		for _, d := range diffs {
			_ = d.String()
		}
		_, again := Conforms(desired, live)
		if len(again) != len(diffs) {
			t.Fatalf("unstable result: %d then %d diffs", len(diffs), len(again))
		}
		for i := range diffs {
			if diffs[i].Path != again[i].Path || diffs[i].Kind != again[i].Kind {
				t.Fatalf("unstable diff %d: %v then %v", i, diffs[i], again[i])
			}
		}
		if _, folds := desired["stringData"]; folds && desired["kind"] == "Secret" {
			// The server folds stringData into data; a raw copy is not what
			// it would store, so the self-checks below do not apply.
			return
		}
		if ok, self := Conforms(desired, desired); !ok {
			t.Fatalf("object does not conform to itself: %v", self)
		}
		// The same through the whole walk, with no map or list shared:
		// what lets Compare skip a value the object shares with Git.
		var fresh map[string]any
		if err := json.Unmarshal(desiredJSON, &fresh); err == nil {
			if ok, d := Conforms(desired, fresh); !ok {
				t.Fatalf("object does not conform to its copy: %v", d)
			}
		}
		dec := json.NewDecoder(bytes.NewReader(desiredJSON))
		dec.UseNumber()
		var numbers map[string]any
		if err := dec.Decode(&numbers); err == nil {
			if ok, d := Conforms(desired, numbers); !ok {
				t.Fatalf("object does not conform to its json.Number copy: %v", d)
			}
		}
	})
}
