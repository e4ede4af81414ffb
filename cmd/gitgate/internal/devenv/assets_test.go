package devenv

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeAssets makes a folder holding executable files named like the
// control plane binaries (never run).
func fakeAssets(t *testing.T, dir string, names ...string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil { //nolint:gosec // an executable on purpose
			t.Fatal(err)
		}
	}
	return dir
}

// fakeCheckout makes a folder that looks like a gitgate checkout.
func fakeCheckout(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module gitgate.dev/gitgate\n\ngo 1.26\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fakeAssets(t, filepath.Join(root, "test", "envtest"), "build.sh")
	if err := os.MkdirAll(filepath.Join(root, "cmd", "gitgate"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func envOf(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestFindAssets(t *testing.T) {
	all := []string{"etcd", "kube-apiserver", "kubectl"}
	flagDir := fakeAssets(t, t.TempDir(), all...)
	envDir := fakeAssets(t, t.TempDir(), all...)
	built := fakeAssets(t, t.TempDir(), all...)
	partial := fakeAssets(t, t.TempDir(), "etcd")
	checkout := fakeCheckout(t)
	other := t.TempDir() // not a checkout
	cache := t.TempDir()
	fakeAssets(t, filepath.Join(cache, "gitgate", "envtest", "v1.9.10"), all...)
	fakeAssets(t, filepath.Join(cache, "gitgate", "envtest", "v1.10.1"), all...)
	fakeAssets(t, filepath.Join(cache, "gitgate", "envtest", "v1.11.0"), "etcd") // incomplete
	fakeAssets(t, filepath.Join(cache, "gitgate", "envtest", ".build-v1.12.0.abc"), all...)

	home := t.TempDir()
	homeCached := fakeAssets(t, filepath.Join(home, ".cache", "gitgate", "envtest", "v1.2.3"), all...)

	var builds []string
	build := func(_ context.Context, root string) (string, error) {
		builds = append(builds, root)
		return built, nil
	}
	for _, tc := range []struct {
		name       string
		opts       AssetsOptions
		want       string
		wantBuilds []string
		wantErr    string
	}{
		{name: "flag wins", opts: AssetsOptions{Dir: flagDir, Getenv: envOf(map[string]string{"KUBEBUILDER_ASSETS": envDir}), Starts: []string{checkout}}, want: flagDir},
		{name: "flag with missing binaries", opts: AssetsOptions{Dir: partial}, wantErr: "kube-apiserver missing in " + partial + " (from --assets)"},
		{name: "KUBEBUILDER_ASSETS", opts: AssetsOptions{Getenv: envOf(map[string]string{"KUBEBUILDER_ASSETS": envDir}), Starts: []string{checkout}}, want: envDir},
		{name: "KUBEBUILDER_ASSETS incomplete", opts: AssetsOptions{Getenv: envOf(map[string]string{"KUBEBUILDER_ASSETS": partial})}, wantErr: "from KUBEBUILDER_ASSETS"},
		{
			name: "checkout builds", opts: AssetsOptions{Getenv: envOf(map[string]string{"XDG_CACHE_HOME": cache}), Starts: []string{other, filepath.Join(checkout, "cmd", "gitgate")}},
			want: built, wantBuilds: []string{checkout},
		},
		{name: "newest complete cache", opts: AssetsOptions{Getenv: envOf(map[string]string{"XDG_CACHE_HOME": cache}), Starts: []string{other}}, want: filepath.Join(cache, "gitgate", "envtest", "v1.10.1")},
		{name: "cache under HOME", opts: AssetsOptions{Getenv: envOf(map[string]string{"HOME": home})}, want: homeCached},
		{name: "nothing", opts: AssetsOptions{Getenv: envOf(map[string]string{"XDG_CACHE_HOME": t.TempDir()}), Starts: []string{other}}, wantErr: "pass --assets DIR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			builds = nil
			tc.opts.Build = build
			got, err := FindAssets(t.Context(), tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrNoAssets) {
					t.Fatalf("err = %v, want ErrNoAssets mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("assets = %s, want %s", got, tc.want)
			}
			if !slices.Equal(builds, tc.wantBuilds) {
				t.Errorf("builds = %v, want %v", builds, tc.wantBuilds)
			}
		})
	}
}

func TestFindAssetsBuildFails(t *testing.T) {
	checkout := fakeCheckout(t)
	_, err := FindAssets(t.Context(), AssetsOptions{
		Getenv: envOf(nil),
		Starts: []string{checkout},
		Build:  func(context.Context, string) (string, error) { return "", errors.New("no go") },
	})
	if err == nil || !strings.Contains(err.Error(), "no go") || !strings.Contains(err.Error(), "build.sh") {
		t.Fatalf("err = %v", err)
	}
}

// The real build script's contract: the folder is the last line of stdout,
// progress goes to stderr.
func TestRunBuildScript(t *testing.T) {
	root := fakeCheckout(t)
	script := "#!/bin/sh\necho building >&2\necho /some/where\n"
	if err := os.WriteFile(filepath.Join(root, buildScript), []byte(script), 0o755); err != nil { //nolint:gosec // an executable on purpose
		t.Fatal(err)
	}
	var log strings.Builder
	got, err := runBuildScript(t.Context(), root, &log)
	if err != nil {
		t.Fatal(err)
	}
	if got != "/some/where" || log.String() != "building\n" {
		t.Errorf("folder %q, log %q", got, log.String())
	}
	if err := os.WriteFile(filepath.Join(root, buildScript), []byte("#!/bin/sh\nexit 3\n"), 0o755); err != nil { //nolint:gosec // an executable on purpose
		t.Fatal(err)
	}
	if _, err := runBuildScript(t.Context(), root, nil); err == nil {
		t.Error("no error from a failing build script")
	}
	if err := os.WriteFile(filepath.Join(root, buildScript), []byte("#!/bin/sh\n"), 0o755); err != nil { //nolint:gosec // an executable on purpose
		t.Fatal(err)
	}
	if _, err := runBuildScript(t.Context(), root, nil); err == nil {
		t.Error("no error from a build script that prints nothing")
	}
}

func TestFindCheckout(t *testing.T) {
	root := fakeCheckout(t)
	if got, ok := findCheckout(filepath.Join(root, "cmd", "gitgate")); !ok || got != root {
		t.Errorf("findCheckout = %q %v, want %q", got, ok, root)
	}
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/other\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fakeAssets(t, filepath.Join(other, "test", "envtest"), "build.sh")
	for _, start := range []string{other, "", filepath.Join(other, "missing")} {
		if got, ok := findCheckout(start); ok {
			t.Errorf("findCheckout(%q) = %q", start, got)
		}
	}
}

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
	}{
		{"v1.37.2", []int{1, 37, 2}},
		{"v0.0.0", []int{0, 0, 0}},
		{"1.37.2", nil},
		{"v1.37", nil},
		{"v1.37.2.1", nil},
		{"v1.x.2", nil},
		{"v1.-1.2", nil},
		{".build-v1.37.2.abc", nil},
		{"", nil},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := parseVersion(tc.in)
			if ok != (tc.want != nil) || !slices.Equal(got, tc.want) {
				t.Errorf("parseVersion(%q) = %v %v, want %v", tc.in, got, ok, tc.want)
			}
		})
	}
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"v1.37.2", "v1..2", "v", "v9999999999999999999999.1.1", "v1.2.3\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := parseVersion(s)
		if ok && (len(v) != 3 || !strings.HasPrefix(s, "v")) {
			t.Fatalf("parseVersion(%q) = %v", s, v)
		}
	})
}
