package dev

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gitgate.dev/gitgate/test/e2e/testenv"
)

// TestDevKilled kills gitgate dev outright (SIGKILL, as the OOM killer
// does) once its control plane runs: etcd and kube-apiserver must die with
// it rather than keep running, holding their ports and the dev folder.
func TestDevKilled(t *testing.T) {
	assets := requireAssets(t)
	bin := testenv.GitgateBinary(t)
	tmp := t.TempDir()
	dev := startDev(t, bin, assets, tmp)
	dev.waitLine(t, "  control plane  ")

	// The dev folder is under tmp, and so are both processes' folders
	// (git and ssh-keygen, which gitgate dev runs next, may too).
	procs := processesUsing(t, tmp)
	names := map[string]bool{}
	for pid, name := range procs {
		if name != "etcd" && name != "kube-apiserver" {
			delete(procs, pid)
		}
		names[name] = true
	}
	t.Cleanup(func() {
		for pid := range procs {
			if alive(pid) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	if len(procs) != 2 || !names["etcd"] || !names["kube-apiserver"] {
		t.Fatalf("processes using %s: %v, want one etcd and one kube-apiserver", tmp, procs)
	}

	if err := dev.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-dev.exited
	err := poll(t.Context(), 10*time.Second, func() bool {
		for pid := range procs {
			if alive(pid) {
				return false
			}
		}
		return true
	})
	if err != nil {
		for pid, name := range procs {
			if alive(pid) {
				t.Errorf("%s (pid %d) still runs after gitgate dev was killed", name, pid)
			}
		}
	}
}

// waitLine waits for a line of gitgate dev's output that starts with
// prefix.
func (p *devProcess) waitLine(t *testing.T, prefix string) {
	t.Helper()
	deadline := time.After(startTimeout)
	for {
		select {
		case line := <-p.lines:
			if strings.HasPrefix(line, prefix) {
				return
			}
		case <-p.exited:
			t.Fatalf("gitgate dev exited (%d) before printing %q:\n%s", p.code, prefix, p.output())
		case <-deadline:
			t.Fatalf("no line %q within %s:\n%s", prefix, startTimeout, p.output())
		}
	}
}

// processesUsing returns the running processes whose command line names a
// path under dir, by pid, with the base name of their executable.
func processesUsing(t *testing.T, dir string) map[int]string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	procs := map[int]string{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !alive(pid) {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte(dir+"/")) {
			continue // gone meanwhile, or another process
		}
		argv0, _, _ := bytes.Cut(cmdline, []byte{0})
		procs[pid] = filepath.Base(string(argv0))
	}
	return procs
}

// alive says whether pid runs: it exists and is not a zombie (a process
// reparented to a PID 1 that does not reap stays one).
func alive(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	if err != nil {
		return true
	}
	// pid (comm) state ...: comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}
