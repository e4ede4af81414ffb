package testenv

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestAssetsDir(t *testing.T) {
	t.Run("KUBEBUILDER_ASSETS wins", func(t *testing.T) {
		t.Setenv("KUBEBUILDER_ASSETS", "/opt/assets")
		got, err := AssetsDir()
		if err != nil || got != "/opt/assets" {
			t.Fatalf("AssetsDir() = %q, %v", got, err)
		}
	})
	t.Run("cache folder by version", func(t *testing.T) {
		t.Setenv("KUBEBUILDER_ASSETS", "")
		t.Setenv("XDG_CACHE_HOME", "/var/cache/me")
		version, err := KubernetesVersion()
		if err != nil {
			t.Fatal(err)
		}
		if len(version) < 2 || version[0] != 'v' {
			t.Fatalf("version %q", version)
		}
		got, err := AssetsDir()
		if err != nil || got != filepath.Join("/var/cache/me", "gitgate", "envtest", version) {
			t.Fatalf("AssetsDir() = %q, %v", got, err)
		}
	})
	t.Run("home cache without XDG_CACHE_HOME", func(t *testing.T) {
		t.Setenv("KUBEBUILDER_ASSETS", "")
		t.Setenv("XDG_CACHE_HOME", "")
		t.Setenv("HOME", "/home/me")
		got, err := AssetsDir()
		if err != nil || filepath.Dir(got) != "/home/me/.cache/gitgate/envtest" {
			t.Fatalf("AssetsDir() = %q, %v", got, err)
		}
	})
}

func TestMissingBinaries(t *testing.T) {
	dir := t.TempDir()
	if got := MissingBinaries(dir); !slices.Equal(got, Binaries) {
		t.Errorf("empty folder: missing %v", got)
	}
	for _, b := range []string{"kube-apiserver", "etcd"} {
		if err := os.WriteFile(filepath.Join(dir, b), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Not executable: as good as missing.
	if err := os.WriteFile(filepath.Join(dir, "kubectl"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := MissingBinaries(dir); !slices.Equal(got, []string{"kubectl"}) {
		t.Errorf("missing %v, want [kubectl]", got)
	}
}

func TestInCI(t *testing.T) {
	for v, want := range map[string]bool{"": false, "false": false, "0": false, "true": true, "1": true, "TRUE": true} {
		t.Setenv("CI", v)
		if got := InCI(); got != want {
			t.Errorf("CI=%q: InCI() = %v", v, got)
		}
	}
}

func TestRepoRoot(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "test", "envtest", "build.sh")); err != nil {
		t.Errorf("root %s has no test/envtest/build.sh: %v", root, err)
	}
}
