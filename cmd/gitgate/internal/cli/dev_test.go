package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeAssets is a folder holding executables named like the control plane
// binaries; the cases below fail before running them.
func fakeAssets(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range []string{"etcd", "kube-apiserver"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil { //nolint:gosec // an executable on purpose
			t.Fatal(err)
		}
	}
	return dir
}

func TestDevUsageErrors(t *testing.T) {
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	assets := fakeAssets(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"dev", "--nope"}, "unknown flag: --nope"},
		{"arguments", []string{"dev", "extra"}, `unknown command "extra"`},
		{"interval too long", []string{"dev", "--interval", "10s"}, "--interval 10s: must be more than 0 and at most 5s"},
		{"interval zero", []string{"dev", "--interval", "0s"}, "--interval 0s"},
		{"bad interval", []string{"dev", "--interval", "often"}, `invalid argument "often"`},
		{"step timeout", []string{"dev", "--step-timeout", "-1s"}, "--step-timeout -1s"},
		{"assets without binaries", []string{"dev", "--assets", t.TempDir()}, "etcd, kube-apiserver missing in"},
		{"dir not empty", []string{"dev", "--assets", assets, "--dir", full}, "is not empty"},
		{"dir is a file", []string{"dev", "--assets", assets, "--dir", filepath.Join(full, "x")}, "unusable --dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("KUBEBUILDER_ASSETS", "")
			code, stdout, stderr := run(t, "", tt.args...)
			if code != ExitUsage {
				t.Fatalf("exit code = %d, want %d (stderr %q)", code, ExitUsage, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tt.want)
			}
			if strings.Contains(stdout, "[1/5]") {
				t.Errorf("the walkthrough started:\n%s", stdout)
			}
		})
	}
}

func TestDevHelp(t *testing.T) {
	code, stdout, stderr := run(t, "", "dev", "--help")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"--keep", "--assets", "--dir", "--interval", "KUBECONFIG=, REPO= and SIGNING_KEY=", "make demo"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("help lacks %q:\n%s", want, stdout)
		}
	}
}
