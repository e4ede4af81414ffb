package corpus

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, dir, name, text string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "b/multi.yaml", `# a comment only
---
apiVersion: v1
kind: ConfigMap
metadata: {name: one, namespace: ns}
---
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: two}
spec: {replicas: 2}
`)
	write(t, dir, "a/config.yml", "cluster_name: test\nnum_tokens: 256\n")
	write(t, dir, "a/list.yaml", "- 1\n- 2\n")
	write(t, dir, "notes.txt", "apiVersion: v1\nkind: Secret\n")

	objs, notObjects, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if notObjects != 1 {
		t.Errorf("notObjects = %d, want 1 (the config file)", notObjects)
	}
	if len(objs) != 2 {
		t.Fatalf("objects = %v, want 2", objs)
	}
	first, second := objs[0], objs[1]
	if first.File != filepath.Join("b", "multi.yaml") || first.Index != 0 || first.Kind() != "ConfigMap" ||
		first.Name() != "one" || first.Namespace() != "ns" || first.APIVersion() != "v1" {
		t.Errorf("first = %s (ns %q)", first, first.Namespace())
	}
	if second.Index != 1 || second.Kind() != "Deployment" || second.Namespace() != "" {
		t.Errorf("second = %s", second)
	}
	if r, ok := second.Manifest["spec"].(map[string]any)["replicas"].(float64); !ok || r != 2 {
		t.Errorf("replicas decoded as %T %v, want float64 2 as Git manifests are", second.Manifest["spec"], r)
	}
	if !strings.Contains(string(second.YAML), "replicas: 2") {
		t.Errorf("YAML not kept as written: %q", second.YAML)
	}
	if got := second.String(); got != "b/multi.yaml#1 apps/v1/Deployment two" {
		t.Errorf("String() = %q", got)
	}
}

func TestLoadNamesTheBadFile(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "ok.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
	write(t, dir, "broken.yaml", "apiVersion: v1\nkind: [unclosed\n")
	_, _, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), "broken.yaml") {
		t.Fatalf("err = %v, want one naming broken.yaml", err)
	}
	if _, _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("no error for a missing folder")
	}
}
