package profile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStartCPU(t *testing.T) {
	name := filepath.Join(t.TempDir(), "cpu.pprof")
	stop, err := StartCPU(name)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	info, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() == 0 {
		t.Error("the stopped profile is empty")
	}
}

func TestStartCPUErrors(t *testing.T) {
	t.Run("unwritable file", func(t *testing.T) {
		_, err := StartCPU(filepath.Join(t.TempDir(), "missing", "cpu.pprof"))
		if err == nil || !strings.HasPrefix(err.Error(), "cpu profile: ") {
			t.Fatalf("err = %v, want a cpu profile error", err)
		}
	})
	t.Run("profile already running", func(t *testing.T) {
		stop, err := StartCPU(filepath.Join(t.TempDir(), "first.pprof"))
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		second := filepath.Join(t.TempDir(), "second.pprof")
		if _, err := StartCPU(second); err == nil {
			t.Fatal("a second profile started while one runs")
		}
	})
}

func TestCPUTime(t *testing.T) {
	start := CPUTime()
	for deadline := time.Now().Add(50 * time.Millisecond); time.Now().Before(deadline); {
	}
	if used := CPUTime() - start; used <= 0 {
		t.Fatalf("CPU time moved by %v over a busy loop", used)
	}
}
