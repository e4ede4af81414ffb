package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"gitgate.dev/gitgate/provenance/index"
	"gitgate.dev/gitgate/webhook"
)

// The reconciler publishes the desired state of a verified commit; the
// server judges every request against it. Here `kubectl scale deployment
// web --replicas=5` meets a Deployment that Git declares with 2 replicas.
func Example() {
	store := index.NewStore()
	b := index.NewBuilder()
	_, err := b.Add(&unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1",
		"kind":       "Deployment",
		"metadata":   map[string]any{"name": "web", "namespace": "demo"},
		"spec":       map[string]any{"replicas": int64(2)},
	}}, index.Origin{
		Source:  "demo",
		Commit:  "4f7c1e0b9a8d6c5e4f3a2b1c0d9e8f7a6b5c4d3e",
		Path:    "apps/web/deployment.yaml",
		Signers: []string{"alice", "bob"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := store.Publish("demo", b.Build()); err != nil {
		fmt.Println(err)
		return
	}

	srv, err := webhook.NewServer(webhook.Options{
		Desired: store,
		Scope: webhook.Scope{Sources: []webhook.SourceScope{{
			Name:       "demo",
			Repository: "https://git.example.com/platform/demo.git",
			Namespaces: []string{"demo"},
		}}},
		Exempt: webhook.Exemptions{Users: []string{"system:serviceaccount:gitgate-system:gitgate"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// In a cluster: srv.Start(ctx, tlsConfig) serves /validate and /mutate.

	scale, _ := json.Marshal(map[string]any{
		"apiVersion": "autoscaling/v1", "kind": "Scale",
		"metadata": map[string]any{"name": "web", "namespace": "demo"},
		"spec":     map[string]any{"replicas": 5},
	})
	resp := srv.Validate(context.Background(), admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:         "7b0e9f0e-3c1d-4d5e-8f6a-1b2c3d4e5f60",
		Kind:        metav1.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"},
		Resource:    metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"},
		SubResource: "scale",
		Namespace:   "demo",
		Name:        "web",
		Operation:   admissionv1.Update,
		UserInfo:    authenticationv1.UserInfo{Username: "mallory"},
		Object:      runtime.RawExtension{Raw: scale},
	}})
	fmt.Println("allowed:", resp.Allowed, "code:", resp.Result.Code)
	fmt.Println(resp.Result.Message)
	// Output:
	// allowed: false code: 403
	// Deployment.apps demo/web (subresource scale) does not match Git:
	//   - spec.replicas: Git has 2, the object has 5
	// Git declares it at commit 4f7c1e0b9a8d of source demo (path apps/web/deployment.yaml), signed by alice, bob.
	// To change it: open a pull request against https://git.example.com/platform/demo.git path apps/web/deployment.yaml.
}
