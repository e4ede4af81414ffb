package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"gitgate.dev/gitgate/provenance/index"
)

// The Git side of the webhook suite: what a verified commit of source
// "e2e" declares. The commit and signers are what the Index records; the
// suite checks that denials and the provenance stamp name them.
const (
	gitSource     = "e2e"
	gitRepository = "https://git.example.com/platform/e2e.git"
	gitCommit     = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"
	gitNamespace  = "gg-app"
	// gitgateNamespace is gitgate's own namespace, left out of admission.
	gitgateNamespace = "gitgate-system"
)

var gitSigners = []string{"alice", "bob"}

// gitFile is one file of the repository.
type gitFile struct {
	path string
	yaml string
}

// clusterFiles come first: kubectl can create the namespaced objects and
// the custom resource only once these exist.
var clusterFiles = []gitFile{
	{"apps/namespace.yaml", `
apiVersion: v1
kind: Namespace
metadata:
  name: gg-app
  labels:
    team: web
`},
	{"crds/widgets.yaml", `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.e2e.gitgate.dev
spec:
  group: e2e.gitgate.dev
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size:
                  type: integer
                color:
                  type: string
`},
}

var workloadFiles = []gitFile{
	{"apps/web.yaml", `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: gg-app
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: registry.k8s.io/pause:3.10
          ports:
            - containerPort: 8080
              name: http
          env:
            - name: MODE
              value: production
          resources:
            requests:
              cpu: 100m
              memory: 64Mi
            limits:
              memory: 128Mi
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: gg-app
spec:
  selector:
    app: web
  ports:
    - name: http
      port: 80
      targetPort: http
`},
	{"apps/config.yaml", `
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: gg-app
data:
  greeting: hello
  level: info
`},
	{"apps/hpa.yaml", `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: gg-app
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  minReplicas: 2
  maxReplicas: 5
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 80
`},
	{"apps/widget.yaml", `
apiVersion: e2e.gitgate.dev/v1
kind: Widget
metadata:
  name: gear
  namespace: gg-app
spec:
  size: 3
  color: blue
`},
	{"apps/toolbox.yaml", `
apiVersion: v1
kind: Pod
metadata:
  name: toolbox
  namespace: gg-app
spec:
  containers:
    - name: shell
      image: registry.k8s.io/pause:3.10
`},
}

// gitRepo is a commit of source gitSource: its files, and the objects the
// Index holds for them (namespaces resolved as they are applied).
type gitRepo struct {
	files []gitFile
	objs  []gitObject
}

// e2eRepo is the repository of the webhook suite.
func e2eRepo(t testing.TB) gitRepo {
	files := slices.Concat(clusterFiles, workloadFiles)
	return gitRepo{files: files, objs: decodeFiles(t, files)}
}

// gitObject is one object of the repository with the file declaring it.
type gitObject struct {
	path string
	obj  *unstructured.Unstructured
}

func decodeFiles(t testing.TB, files []gitFile) []gitObject {
	t.Helper()
	var out []gitObject
	for _, f := range files {
		r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(f.yaml)))
		for {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f.path, err)
			}
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			var m map[string]any
			if err := yaml.Unmarshal(doc, &m); err != nil {
				t.Fatalf("%s: %v", f.path, err)
			}
			out = append(out, gitObject{path: f.path, obj: &unstructured.Unstructured{Object: m}})
		}
	}
	return out
}

// buildIndex returns the Index of the repository at gitCommit.
func buildIndex(t testing.TB, objs []gitObject) *index.Index {
	t.Helper()
	b := index.NewBuilder()
	for _, o := range objs {
		origin := index.Origin{Source: gitSource, Commit: gitCommit, Path: o.path, Signers: gitSigners}
		if _, err := b.Add(o.obj.DeepCopy(), origin); err != nil {
			t.Fatal(err)
		}
	}
	return b.Build()
}

// writeFiles writes the files under dir, as a checkout of the repository,
// for kubectl apply -f.
func writeFiles(t testing.TB, dir string, files []gitFile) []string {
	t.Helper()
	var paths []string
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}
