package render_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"gitgate.dev/gitgate/provenance/index"
	"gitgate.dev/gitgate/provenance/render"
)

// fuzzOptions keep each input cheap: small limits hit the same code paths.
var fuzzOptions = render.Options{MaxFileSize: 1 << 20, MaxObjects: 200, MaxAliasNodes: 1000, MaxDepth: 50, MaxKustomizations: 20}

func seeds(f *testing.F) {
	for _, s := range []string{
		cmWeb, nsDemo, deploy,
		"---\n" + nsDemo + "---\n# comment\n---\n" + cmWeb + "...\n",
		"apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(nsDemo, "\n", "\n  ") + "\n",
		`{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}}`,
		billionLaughs(),
		"a: &a {x: 1}\nb: {<<: *a, y: *a}\n",
		strings.Repeat("[", 60) + strings.Repeat("]", 60),
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: \"1\", k: \"2\"}\n",
		"--- junk\n",
		"apiVersion: v1\nkind: [unclosed\n",
		"\tbad: indent\n",
		"apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: x-}\n",
		"resources: [cm.yaml]\nnamePrefix: p-\n",
		"resources: [../../etc]\n",
		"resources: [https://example.com/x.yaml]\n",
		"! !!binary AAAA\n",
		"*unknown\n",
		"? [complex, key]\n: value\n",
		"",
	} {
		f.Add([]byte(s))
	}
}

// checkRendered holds for every successful Render.
func checkRendered(t *testing.T, objs []render.Object, err error) {
	t.Helper()
	if err != nil {
		var re *render.Error
		if !errors.As(err, &re) {
			t.Fatalf("error %v (%T) is not a *render.Error", err, err)
		}
		return
	}
	if len(objs) > fuzzOptions.MaxObjects {
		t.Fatalf("%d objects, over the limit", len(objs))
	}
	seen := map[index.Key]bool{}
	for _, o := range objs {
		k, kerr := index.KeyOf(o.Object)
		if kerr != nil {
			t.Fatalf("rendered an object without identity: %v", kerr)
		}
		if seen[k] {
			t.Fatalf("rendered %s twice", k)
		}
		seen[k] = true
		if o.Path == "" {
			t.Fatalf("%s has no path", k)
		}
	}
}

// FuzzRender feeds arbitrary bytes as a manifest file. Render must never
// panic: every input renders or fails with an *Error.
func FuzzRender(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := tree(map[string]string{"apps/a.yaml": string(data), "apps/ns.yaml": nsDemo})
		objs, err := render.Render(t.Context(), tr, []string{"apps"}, fuzzOptions)
		checkRendered(t, objs, err)
	})
}

// proxy is one recording HTTP proxy for the whole test process: net/http
// reads the proxy variables once per process, so every test must name the
// same proxy.
var proxy struct {
	once     sync.Once
	url      string
	requests atomic.Int64
}

// watchOutside replaces git with a recorder and routes HTTP through the
// recording proxy, and returns a function that says what was attempted
// since.
func watchOutside(tb testing.TB) func() string {
	proxy.once.Do(func() {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			proxy.requests.Add(1)
			w.WriteHeader(http.StatusForbidden)
		}))
		proxy.url = srv.URL
	})
	dir := tb.TempDir()
	marker := filepath.Join(dir, "git-was-run")
	script := "#!/bin/sh\necho \"$@\" >> " + marker + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(dir, "git"), []byte(script), 0o700); err != nil {
		tb.Fatal(err)
	}
	tb.Setenv("PATH", dir)
	for _, v := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"} {
		tb.Setenv(v, proxy.url)
	}
	tb.Setenv("NO_PROXY", "")
	tb.Setenv("no_proxy", "")
	start := proxy.requests.Load()
	return func() string {
		if n := proxy.requests.Load() - start; n > 0 {
			return fmt.Sprintf("%d HTTP requests", n)
		}
		if b, err := os.ReadFile(marker); err == nil {
			return "git " + strings.TrimSpace(string(b))
		}
		return ""
	}
}

// TestWatchOutsideDetects proves the fuzz oracle: kustomize run directly,
// without gitgate's checks, is caught fetching and cloning.
func TestWatchOutsideDetects(t *testing.T) {
	for _, tc := range []struct{ resource, want string }{
		{"https://example.com/x.yaml", "HTTP requests"},
		{"github.com/org/repo//base?ref=v1", "git "},
	} {
		t.Run(tc.want, func(t *testing.T) {
			outside := watchOutside(t)
			fs := filesys.MakeFsInMemory()
			if err := fs.WriteFile("/k/kustomization.yaml", []byte("resources:\n- "+tc.resource+"\n")); err != nil {
				t.Fatal(err)
			}
			if _, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/k"); err == nil {
				t.Fatal("kustomize built a remote resource through the recorders")
			}
			if what := outside(); !strings.Contains(what, tc.want) {
				t.Fatalf("recorded %q, want %q", what, tc.want)
			}
		})
	}
}

// FuzzRenderKustomization feeds arbitrary bytes as a kustomization file,
// next to a base and a resource, through the checks and kustomize. Beyond
// never panicking, kustomize must never reach out: git on PATH is a fake
// that records being run, and HTTP(S) proxies point at a server that
// records any request, so an input that gets a clone or a download past
// the checks fails.
func FuzzRenderKustomization(f *testing.F) {
	seeds(f)
	for _, s := range []string{
		"resources: [github.com/org/repo//base?ref=v1]\n",
		"resources: [git@github.com:org/repo.git]\n",
		"resources: [ssh://git@example.com/org/repo.git]\n",
		"resources: [HTTPS://example.com/x.yaml]\n",
		"patches: [{path: https://example.com/p.yaml}]\n",
		"configMapGenerator: [{name: x, files: [https://example.com/f]}]\n",
		"openapi: {path: https://example.com/schema.json}\n",
		"crds: [https://example.com/crd.yaml]\n",
		"transformers: ['{apiVersion: builtin, kind: PatchTransformer, metadata: {name: p}, path: https://example.com/p.yaml}']\n",
	} {
		f.Add([]byte(s))
	}
	outside := watchOutside(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := tree(map[string]string{
			"apps/kustomization.yaml": string(data),
			"apps/cm.yaml":            cmWeb,
			"base/kustomization.yaml": "resources: [ns.yaml]\n",
			"base/ns.yaml":            nsDemo,
		})
		objs, err := render.Render(t.Context(), tr, []string{"apps"}, fuzzOptions)
		checkRendered(t, objs, err)
		if what := outside(); what != "" {
			t.Fatalf("kustomize reached outside the repository: %s (render error: %v)", what, err)
		}
	})
}
