// Package chart tests the Helm chart in charts/gitgate with the real helm
// CLI (built from source by `make helm`, test/helm/build.sh) and the real
// kube-apiserver of test/e2e/testenv:
//
//   - helm lint and helm template pass for every set of values in testdata,
//     and values.schema.json refuses malformed values;
//   - the webhook configurations the chart renders equal the ones gitgate's
//     code (webhook/config) generates for the same resources, resolved
//     through the API server's discovery;
//   - every rendered object, CRDs included, passes a server-side apply
//     dry-run (dryRun=All, strict field validation) against the API server,
//     with the real CRDs of cert-manager and prometheus-operator installed
//     for the optional objects;
//   - the RBAC the chart grants is what gitgate needs and no more, as the
//     API server's authorizer judges it.
//
// helm's path comes from $HELM (the Makefile sets it); without it the cached
// build is used when present. When helm is missing the tests skip outside CI
// and fail under CI=true.
package chart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/yaml"

	"gitgate.dev/gitgate/test/e2e/testenv"
)

func TestMain(m *testing.M) {
	// envtest logs through controller-runtime's logger; without one set,
	// controller-runtime prints a warning with a stack trace on a slow start.
	ctrllog.SetLogger(logr.Discard())
	root, err := testenv.RepoRoot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "chart: %v\n", err)
		os.Exit(1)
	}
	crds := []string{filepath.Join(root, "charts", "gitgate", "crds")}
	// The third-party CRDs come with helm's build; without them the tests
	// that need them skip (or fail in CI) through requireThirdPartyCRDs.
	if helm, err := findHelm(); err == nil {
		if dir := thirdPartyCRDs(helm); dirExists(dir) {
			crds = append(crds, dir)
		}
	}
	os.Exit(testenv.Run(m, testenv.Options{CRDDirectoryPaths: crds}))
}

// findHelm returns $HELM, or the binary test/helm/build.sh caches when it
// exists.
func findHelm() (string, error) {
	if p := os.Getenv("HELM"); p != "" {
		if !isExecutable(p) {
			return "", fmt.Errorf("HELM=%s is not an executable file", p)
		}
		return p, nil
	}
	p, err := cachedHelm()
	if err != nil {
		return "", err
	}
	if !isExecutable(p) {
		return "", fmt.Errorf("helm is not built (%s missing); run `make helm`", p)
	}
	return p, nil
}

// cachedHelm is where test/helm/build.sh puts helm:
// ${XDG_CACHE_HOME:-$HOME/.cache}/gitgate/helm/<version>/helm, the version
// being the one test/helm/go.mod pins.
func cachedHelm() (string, error) {
	root, err := testenv.RepoRoot()
	if err != nil {
		return "", err
	}
	gomod, err := os.ReadFile(filepath.Join(root, "test", "helm", "go.mod"))
	if err != nil {
		return "", fmt.Errorf("read the helm wrapper module: %w", err)
	}
	var version string
	for line := range strings.SplitSeq(string(gomod), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "helm.sh/helm/v3" {
			version = f[1]
			break
		}
	}
	if version == "" {
		return "", errors.New("test/helm/go.mod pins no helm.sh/helm/v3")
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("home folder: %w", err)
		}
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "gitgate", "helm", version, "helm"), nil
}

// thirdPartyCRDs is the folder of CRDs test/helm/build.sh fetches beside
// helm.
func thirdPartyCRDs(helm string) string { return filepath.Join(filepath.Dir(helm), "crds") }

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode().Perm()&0o111 != 0
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// requireHelm returns helm's path, or skips t without it (fails in CI).
func requireHelm(t testing.TB) string {
	t.Helper()
	p, err := findHelm()
	if err == nil {
		return p
	}
	if testenv.InCI() {
		t.Fatalf("CI=true and %v", err)
	}
	t.Skipf("%v", err)
	return ""
}

// requireThirdPartyCRDs skips t (fails in CI) when the cert-manager and
// prometheus-operator CRDs were not installed at start.
func requireThirdPartyCRDs(t testing.TB, helm string) {
	t.Helper()
	if dirExists(thirdPartyCRDs(helm)) {
		return
	}
	msg := fmt.Sprintf("the third-party CRDs are missing in %s; run `make helm`", thirdPartyCRDs(helm))
	if testenv.InCI() {
		t.Fatal("CI=true and " + msg)
	}
	t.Skip(msg)
}

// chartDir is charts/gitgate in the checkout.
func chartDir(t testing.TB) string {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "charts", "gitgate")
}

// runHelm runs helm with args and returns its standard output; a non-zero
// exit is returned as an error carrying standard error. helm's own
// configuration, cache and data folders are fresh temporary ones, and
// KUBECONFIG is dropped, so neither a developer's helm setup nor their
// cluster can play a part.
func runHelm(ctx context.Context, t testing.TB, helm string, args ...string) ([]byte, error) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.CommandContext(ctx, helm, args...)
	env := make([]string, 0, len(os.Environ())+4)
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "KUBECONFIG=") || strings.HasPrefix(kv, "HELM_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
	)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// release is one way of installing the chart.
type release struct {
	// name and namespace of the release.
	name, namespace string
	// values are files of values (testdata/ or written by the test), in
	// order, as --values takes them.
	values []string
}

func (r release) args() []string {
	args := []string{r.name, "--namespace", r.namespace}
	for _, v := range r.values {
		args = append(args, "--values", v)
	}
	return args
}

// render runs helm template for r (with --include-crds when crds is set)
// and returns the objects it renders, in order.
func render(t testing.TB, helm string, r release, crds bool) []*unstructured.Unstructured {
	t.Helper()
	args := append([]string{"template"}, r.args()...)
	args = append(args, chartDir(t))
	if crds {
		args = append(args, "--include-crds")
	}
	out, err := runHelm(t.Context(), t, helm, args...)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeObjects(out)
	if err != nil {
		t.Fatalf("helm template output: %v", err)
	}
	return objs
}

// decodeObjects splits a YAML stream into objects, skipping empty
// documents.
func decodeObjects(stream []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(stream), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}

// find returns the rendered object of kind and name, failing t when there
// is not exactly one.
func find(t testing.TB, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	var found *unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			if found != nil {
				t.Fatalf("%s %s rendered twice", kind, name)
			}
			found = o
		}
	}
	if found == nil {
		t.Fatalf("%s %s not rendered", kind, name)
	}
	return found
}

// writeValues writes v as a values file in a temporary folder.
func writeValues(t testing.TB, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// testdata returns the path of a file in testdata/.
func testdata(name string) string { return filepath.Join("testdata", name) }
