package chart

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gitgate.dev/gitgate/test/e2e/testenv"
)

// TestServeAcceptsChartArgs runs the real `gitgate serve` with the
// arguments and environment the chart's Deployment gives the container,
// and a kubeconfig that does not exist: serve parses and validates every
// flag first and refuses a bad one with a message naming it, so getting as
// far as the missing kubeconfig proves that the chart passes only flags
// serve knows, with values it accepts.
func TestServeAcceptsChartArgs(t *testing.T) {
	helm := requireHelm(t)
	bin := testenv.GitgateBinary(t)
	t.Cleanup(func() { _ = os.RemoveAll(filepath.Dir(bin)) })
	for _, tc := range []struct {
		name string
		rel  release
	}{
		{"defaults", release{name: "gitgate", namespace: "gitgate-system"}},
		{"full", release{name: "gitgate", namespace: "gitgate-system", values: []string{testdata("values-full.yaml")}}},
		{"tuned", release{name: "admission", namespace: "platform", values: []string{testdata("values-tuned.yaml")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := valuesOf(t, tc.rel)
			deploy := find(t, render(t, helm, tc.rel, false), "Deployment", v.FullnameOverride)
			args, env := containerCommand(t, deploy, tc.rel.namespace)
			kubeconfig := filepath.Join(t.TempDir(), "no-such-kubeconfig")
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, append(args, "--kubeconfig", kubeconfig)...)
			cmd.Env = env
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			if err == nil {
				t.Fatal("gitgate serve ran without a kubeconfig")
			}
			if !strings.Contains(stderr.String(), kubeconfig) {
				t.Errorf("gitgate serve %s\nstopped before loading the kubeconfig: %v\n%s", strings.Join(args, " "), err, stderr.String())
			}
		})
	}
}

// containerCommand returns the gitgate container's arguments, with
// $(POD_NAMESPACE) expanded as the kubelet does, and an environment holding
// only what the container sets (values from the downward API filled in) and
// PATH, so no GITGATE_* variable of the test's own environment can play a
// part.
func containerCommand(t *testing.T, deploy *unstructured.Unstructured, namespace string) (args, env []string) {
	t.Helper()
	containers, _, err := unstructured.NestedSlice(deploy.Object, "spec", "template", "spec", "containers")
	if err != nil || len(containers) != 1 {
		t.Fatalf("want one container, got %d (%v)", len(containers), err)
	}
	c, _ := containers[0].(map[string]any)
	rawArgs, _, _ := unstructured.NestedStringSlice(c, "args")
	if len(rawArgs) == 0 || rawArgs[0] != "serve" {
		t.Fatalf("container args %v do not start with serve", rawArgs)
	}
	for _, a := range rawArgs {
		args = append(args, strings.ReplaceAll(a, "$(POD_NAMESPACE)", namespace))
	}
	env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	vars, _, _ := unstructured.NestedSlice(c, "env")
	for _, raw := range vars {
		e, _ := raw.(map[string]any)
		name, _, _ := unstructured.NestedString(e, "name")
		value, hasValue, _ := unstructured.NestedString(e, "value")
		field, _, _ := unstructured.NestedString(e, "valueFrom", "fieldRef", "fieldPath")
		resource, _, _ := unstructured.NestedString(e, "valueFrom", "resourceFieldRef", "resource")
		switch {
		case hasValue:
			env = append(env, name+"="+value)
		case field == "metadata.namespace":
			env = append(env, name+"="+namespace)
		case resource == "limits.memory":
			// The kubelet writes the limit in bytes.
			env = append(env, name+"=536870912")
		default:
			t.Fatalf("env %s: no stand-in for %v", name, e)
		}
	}
	return args, env
}
