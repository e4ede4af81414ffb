// Command gencorpus writes the benchmark corpus for `gitgate check` versus
// `conftest test`: N YAML files, each a Deployment and a Service, spread over
// folders of 500 files. The objects vary (images, replicas, security
// settings, service types) so that every rule of the benchmark policies both
// passes and fails on some files.
//
//	go run ./test/bench/check/gencorpus -n 20000 -out /tmp/corpus
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	n := flag.Int("n", 2000, "number of files")
	out := flag.String("out", "", "output folder (created; must not exist)")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "gencorpus: -out is required")
		os.Exit(2)
	}
	if err := generate(*out, *n); err != nil {
		fmt.Fprintln(os.Stderr, "gencorpus:", err)
		os.Exit(1)
	}
}

func generate(out string, n int) error {
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists", out)
	}
	for i := range n {
		dir := filepath.Join(out, fmt.Sprintf("team-%03d", i/500))
		if i%500 == 0 {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return err
			}
		}
		if err := writeFile(filepath.Join(dir, fmt.Sprintf("app-%05d.yaml", i)), i); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(name string, i int) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	app := fmt.Sprintf("app-%05d", i)
	image := fmt.Sprintf("registry.example.com/team/%s:1.%d.%d", app, i%7, i%13)
	switch i % 5 {
	case 1:
		image = "nginx:latest"
	case 3:
		image = fmt.Sprintf("registry.example.com/team/%s@sha256:%064x", app, i)
	}
	runAsNonRoot := i%3 != 0
	privileged := i%11 == 0
	svcType := []string{"ClusterIP", "ClusterIP", "NodePort", "LoadBalancer"}[i%4]
	team := ""
	if i%6 != 0 {
		team = fmt.Sprintf("\n    team: team-%03d", i/500)
	}
	limits := ""
	if i%4 != 0 {
		limits = "\n            limits:\n              cpu: 500m\n              memory: 256Mi"
	}
	fmt.Fprintf(w, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  namespace: team-%03[2]d
  labels:
    app: %[1]s%[3]s
spec:
  replicas: %[4]d
  selector:
    matchLabels:
      app: %[1]s
  template:
    metadata:
      labels:
        app: %[1]s
    spec:
      securityContext:
        runAsNonRoot: %[5]t
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: %[1]s
          image: %[6]s
          ports:
            - containerPort: 8080
          securityContext:
            privileged: %[7]t
            allowPrivilegeEscalation: false
            capabilities:
              drop: ["ALL"]
          resources:
            requests:
              cpu: 100m
              memory: 128Mi%[8]s
          readinessProbe:
            httpGet: {path: /healthz, port: 8080}
---
apiVersion: v1
kind: Service
metadata:
  name: %[1]s
  namespace: team-%03[2]d
  labels:
    app: %[1]s
spec:
  type: %[9]s
  selector:
    app: %[1]s
  ports:
    - port: 80
      targetPort: 8080
`, app, i/500, team, 1+i%5, runAsNonRoot, image, privileged, limits, svcType)
	if err := w.Flush(); err != nil {
		_ = f.Close() // the write error is the one to report
		return err
	}
	return f.Close()
}
