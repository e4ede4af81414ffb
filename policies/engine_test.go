package policies_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"gitgate.dev/gitgate/policies"
	"gitgate.dev/gitgate/policy"
)

// These tests run the library through gitgate's own engine, the way
// `gitgate check` and the webhook load it: the embedded FS, conftest
// namespace selection and, for admission, the admission profile.

// compileEngine compiles the embedded library with data and options.
func compileEngine(t *testing.T, data map[string]any, opts ...policy.Option) *policy.Engine {
	t.Helper()
	mods, err := policy.ReadModulesFS(policies.FS())
	if err != nil {
		t.Fatalf("read library: %v", err)
	}
	for name := range mods {
		if strings.HasSuffix(name, "_test.rego") {
			t.Fatalf("the engine loaded test file %s", name)
		}
	}
	e, err := policy.Compile(t.Context(), policy.Source{Modules: mods, Data: data}, opts...)
	if err != nil {
		t.Fatalf("compile library: %v", err)
	}
	return e
}

// failurePolicies returns the sorted distinct details.policy of messages.
func failurePolicies(t *testing.T, msgs []policy.Message) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range msgs {
		md, err := m.Metadata.Map()
		if err != nil {
			t.Errorf("message %q: metadata: %v", m.Msg, err)
			continue
		}
		d, ok := md["details"].(map[string]any)
		if !ok {
			t.Errorf("message %q has no details metadata: %v", m.Msg, m.Metadata)
			continue
		}
		id, _ := d["policy"].(string)
		seen[id] = true
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// restrictedPod meets the restricted standard; the cases break it.
func restrictedPod(mutate func(spec map[string]any)) map[string]any {
	var pod map[string]any
	if err := json.Unmarshal([]byte(`{
	  "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "apps"},
	  "spec": {
	    "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
	    "containers": [{"name": "web", "image": "registry.example.com/web:1.0",
	      "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]
	  }
	}`), &pod); err != nil {
		panic(err)
	}
	if mutate != nil {
		mutate(pod["spec"].(map[string]any))
	}
	return pod
}

// TestEngineNamespaceSelection checks the selections the README documents:
// the baseline set, the restricted level (baseline + restricted) and the whole
// library, in the admission profile.
func TestEngineNamespaceSelection(t *testing.T) {
	privileged := restrictedPod(func(spec map[string]any) {
		spec["containers"].([]any)[0].(map[string]any)["securityContext"].(map[string]any)["privileged"] = true
	})
	rootAllowed := restrictedPod(func(spec map[string]any) { delete(spec, "securityContext") })
	compliant := restrictedPod(nil)

	tests := []struct {
		name       string
		namespaces []string
		all        bool
		input      map[string]any
		want       []string // policies that deny
	}{
		{"baseline denies privileged", []string{"gitgate.pss.baseline.*"}, false, privileged, []string{"pss.baseline.privileged"}},
		{"baseline admits a pod without runAsNonRoot", []string{"gitgate.pss.baseline.*"}, false, rootAllowed, nil},
		{"restricted level denies a pod without runAsNonRoot", []string{"gitgate.pss.*"}, false, rootAllowed, []string{"pss.restricted.run_as_non_root", "pss.restricted.seccomp"}},
		{"restricted level as two globs", []string{"gitgate.pss.baseline.*", "gitgate.pss.restricted.*"}, false, privileged, []string{"pss.baseline.privileged"}},
		{"restricted level admits a compliant pod", []string{"gitgate.pss.*"}, false, compliant, nil},
		{"one policy by name", []string{"gitgate.pss.restricted.seccomp"}, false, rootAllowed, []string{"pss.restricted.seccomp"}},
		{"whole library", nil, true, compliant, []string{"metadata.required_labels", "workloads.probes", "workloads.resources"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := []policy.Option{policy.WithProfile(policy.ProfileAdmission)}
			if tc.all {
				opts = append(opts, policy.WithAllNamespaces())
			} else {
				opts = append(opts, policy.WithNamespaces(tc.namespaces...))
			}
			e := compileEngine(t, nil, opts...)
			for shape, input := range map[string]any{"manifest": tc.input, "admission": admissionReview(tc.input, "apps")} {
				res, err := e.Evaluate(t.Context(), input)
				if err != nil {
					t.Fatalf("%s: evaluate: %v", shape, err)
				}
				if got := failurePolicies(t, res.Failures); fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("%s: denied by %v, want %v", shape, got, tc.want)
				}
			}
		})
	}
}

// TestEngineParameters passes parameters as conftest --data does.
func TestEngineParameters(t *testing.T) {
	data := map[string]any{"gitgate": map[string]any{"parameters": map[string]any{
		"images": map[string]any{"registries": map[string]any{"allowed": []any{"ghcr.io/acme"}}},
	}}}
	e := compileEngine(t, data, policy.WithProfile(policy.ProfileAdmission), policy.WithNamespaces("gitgate.images.registries"))
	res, err := e.Evaluate(t.Context(), restrictedPod(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := failurePolicies(t, res.Failures); fmt.Sprint(got) != "[images.registries]" {
		t.Fatalf("denied by %v, want images.registries", got)
	}
	if !strings.Contains(res.Failures[0].Msg, `"ghcr.io/acme"`) {
		t.Errorf("message does not name the allowed registries: %q", res.Failures[0].Msg)
	}
}

// TestEngineCheckManifest runs a multi-document manifest through Check, as
// `gitgate check -n 'gitgate.*'` does, and expects the warn of a tag-only
// image next to the denials.
func TestEngineCheckManifest(t *testing.T) {
	e := compileEngine(t, nil, policy.WithNamespaces("gitgate.*"))
	in, err := policy.ParseInput("app.yaml", []byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: apps}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: apps, labels: {app.kubernetes.io/name: web}}
spec: {type: LoadBalancer, ports: [{port: 80}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	results, err := e.Check(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	var failures, warnings []policy.Message
	for _, r := range results {
		failures = append(failures, r.Failures...)
		warnings = append(warnings, r.Warnings...)
	}
	want := []string{
		"metadata.required_labels",
		"pss.restricted.capabilities", "pss.restricted.privilege_escalation",
		"pss.restricted.run_as_non_root", "pss.restricted.seccomp",
		"services.exposure",
		"workloads.probes", "workloads.resources",
	}
	if got := failurePolicies(t, failures); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("denied by %v, want %v", got, want)
	}
	if got := failurePolicies(t, warnings); fmt.Sprint(got) != "[images.pinned]" {
		t.Errorf("warned by %v, want images.pinned", got)
	}
}

// TestEnginePSAFixtures runs every Pod Security Admission fixture through the
// engine in the admission profile, selecting the level as a user would.
func TestEnginePSAFixtures(t *testing.T) {
	engines := map[string]*policy.Engine{
		"baseline":   compileEngine(t, nil, policy.WithProfile(policy.ProfileAdmission), policy.WithNamespaces("gitgate.pss.baseline.*")),
		"restricted": compileEngine(t, nil, policy.WithProfile(policy.ProfileAdmission), policy.WithNamespaces("gitgate.pss.*")),
	}
	for _, f := range loadPSAFixtures(t) {
		res, err := engines[string(f.level)].Evaluate(t.Context(), admissionReview(f.pod, "default"))
		if err != nil {
			t.Errorf("%s/%s/%s: %v", f.level, f.verdict, f.name, err)
			continue
		}
		if denied := res.Denied(); denied != (f.verdict == "fail") {
			t.Errorf("%s/%s/%s: denied=%v", f.level, f.verdict, f.name, denied)
		}
	}
}
