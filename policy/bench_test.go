package policy

import (
	"context"
	"fmt"

	"path/filepath"
	"testing"
)

// benchPolicy is test/bench/check/policy/main.rego, the five-rule policy of
// the check benchmark.
func benchPolicy(b *testing.B) map[string][]byte {
	b.Helper()
	mods, err := ReadModules(filepath.Join("..", "test", "bench", "check", "policy"))
	if err != nil {
		b.Fatal(err)
	}
	return mods
}

func benchDoc(i int) []byte {
	return fmt.Appendf(nil, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-%[1]d
  labels: {app: app-%[1]d}
spec:
  replicas: 3
  template:
    metadata:
      labels: {app: app-%[1]d}
    spec:
      securityContext: {runAsNonRoot: %[2]t}
      containers:
        - name: app
          image: registry.example.com/app:1.%[1]d
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: 500m, memory: 256Mi}
---
apiVersion: v1
kind: Service
metadata:
  name: app-%[1]d
  labels: {app: app-%[1]d, team: a}
spec:
  type: NodePort
  selector: {app: app-%[1]d}
  ports:
    - port: 80
`, i, i%2 == 0)
}

// BenchmarkCheckFile is one two-document file through parse and the
// five-rule policy: the unit of work of `gitgate check`.
func BenchmarkCheckFile(b *testing.B) {
	e, err := Compile(b.Context(), Source{Modules: benchPolicy(b)})
	if err != nil {
		b.Fatal(err)
	}
	data := benchDoc(1)
	b.ReportAllocs()
	for b.Loop() {
		in, err := ParseInput("app.yaml", data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.Check(b.Context(), in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseInput is the YAML half of BenchmarkCheckFile.
func BenchmarkParseInput(b *testing.B) {
	data := benchDoc(1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseInput("app.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckAll checks 1,000 files in parallel (GOMAXPROCS workers).
func BenchmarkCheckAll(b *testing.B) {
	e, err := Compile(b.Context(), Source{Modules: benchPolicy(b)})
	if err != nil {
		b.Fatal(err)
	}
	const n = 1000
	files := make([][]byte, n)
	for i := range files {
		files[i] = benchDoc(i)
	}
	b.ReportAllocs()
	for b.Loop() {
		_, err := e.CheckAll(b.Context(), n, func(_ context.Context, i int) (Input, error) {
			return ParseInput("app.yaml", files[i])
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/file")
}

// BenchmarkEvalDoc is the evaluation half: one parsed document through the
// five-rule policy.
func BenchmarkEvalDoc(b *testing.B) {
	e, err := Compile(b.Context(), Source{Modules: benchPolicy(b)})
	if err != nil {
		b.Fatal(err)
	}
	in, err := ParseInput("app.yaml", benchDoc(1))
	if err != nil {
		b.Fatal(err)
	}
	in.Documents = in.Documents[:1]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Check(b.Context(), in); err != nil {
			b.Fatal(err)
		}
	}
}
