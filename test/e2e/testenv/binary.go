package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// GitgateBinary builds cmd/gitgate once per test process and returns its
// path, for suites that run gitgate as users do (flags, logging, signals).
// It builds with plain flags, as go test and go vet compile: the build
// cache then holds every package already and only the link is left.
func GitgateBinary(t testing.TB) string {
	t.Helper()
	binaryOnce.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			binaryErr = err
			return
		}
		dir, err := os.MkdirTemp("", "gitgate-bin-")
		if err != nil {
			binaryErr = err
			return
		}
		binaryPath = filepath.Join(dir, "gitgate")
		// Not t.Context(): the binary outlives the test that built it first.
		// Without -trimpath (unlike `make build`), so that the packages
		// `go test` compiled come from the build cache and only the link
		// is left, made shorter by leaving out symbols and debug data.
		cmd := exec.CommandContext(context.Background(), "go", "build", "-ldflags=-s -w", "-o", binaryPath, "./cmd/gitgate")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			binaryErr = fmt.Errorf("go build ./cmd/gitgate: %w\n%s", err, out)
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}
