package conform_test

import (
	"encoding/json"
	"fmt"

	"gitgate.dev/gitgate/provenance/conform"
)

func ExampleConforms() {
	var git, live map[string]any
	_ = json.Unmarshal([]byte(`{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": {"name": "web"},
		"spec": {"replicas": 3, "template": {"spec": {"containers": [
			{"name": "web", "image": "web:1", "resources": {"limits": {"cpu": "1000m"}}}]}}}}`), &git)
	_ = json.Unmarshal([]byte(`{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": {"name": "web", "uid": "5c1d", "annotations": {"gitgate.dev/commit": "3f2a9c1"}},
		"spec": {"replicas": 5, "revisionHistoryLimit": 10, "template": {"spec": {"containers": [
			{"name": "web", "image": "web:2", "imagePullPolicy": "IfNotPresent", "resources": {"limits": {"cpu": "1"}}}]}}},
		"status": {"replicas": 5}}`), &live)

	ok, diffs := conform.Conforms(git, live)
	fmt.Println("conforms:", ok)
	for _, d := range diffs {
		fmt.Println(d)
	}
	// Output:
	// conforms: false
	// spec.replicas: Git has 3, the object has 5
	// spec.template.spec.containers[name=web].image: Git has "web:1", the object has "web:2"
}
