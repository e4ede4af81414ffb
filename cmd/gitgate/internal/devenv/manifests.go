package devenv

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// State is what the demo manifests say; the walkthrough's commits change it.
type State struct {
	// Replicas of Deployment web.
	Replicas int32
	// Greeting is ConfigMap web-config's GREETING.
	Greeting string
}

// initialState is the state of the first manifests commit.
var initialState = State{Replicas: 2, Greeting: "hello from a signed commit"}

// The demo's objects.
const (
	demoNamespace = "demo"
	webName       = "web"
	configName    = "web-config"
	// webImage is small and pinned; the embedded control plane runs no
	// kubelet, so it is never pulled there.
	webImage = "nginx:1.27-alpine"
)

// demoKinds are the kinds the manifests declare, in the versions they
// declare them in (the webhook configurations name these versions).
var demoKinds = []schema.GroupVersionKind{
	{Version: "v1", Kind: "Namespace"},
	{Version: "v1", Kind: "ConfigMap"},
	{Version: "v1", Kind: "Service"},
	{Group: "apps", Version: "v1", Kind: "Deployment"},
}

// manifests returns the files of the demo folder for s, by repository path.
func manifests(s State) map[string]string {
	return map[string]string{
		manifestsDir + "/namespace.yaml": fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: %s
`, demoNamespace),
		manifestsDir + "/configmap.yaml": fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
  namespace: %s
data:
  GREETING: %q
`, configName, demoNamespace, s.Greeting),
		manifestsDir + "/deployment.yaml": fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  namespace: %[2]s
  labels:
    app: %[1]s
spec:
  replicas: %[3]d
  selector:
    matchLabels:
      app: %[1]s
  template:
    metadata:
      labels:
        app: %[1]s
    spec:
      containers:
        - name: %[1]s
          image: %[4]s
          ports:
            - name: http
              containerPort: 80
          envFrom:
            - configMapRef:
                name: %[5]s
`, webName, demoNamespace, s.Replicas, webImage, configName),
		manifestsDir + "/service.yaml": fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  selector:
    app: %[1]s
  ports:
    - name: http
      port: 80
      targetPort: http
`, webName, demoNamespace),
	}
}
