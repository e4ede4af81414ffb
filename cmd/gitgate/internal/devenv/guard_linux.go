package devenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// The environment of a guarded start: the pid of gitgate dev and the
// folder of the real binaries.
const (
	guardParentEnv = "GITGATE_DEV_GUARD_PARENT"
	guardAssetsEnv = "GITGATE_DEV_GUARD_ASSETS"
)

// guarding says whether this program calls ExecGuarded first: only then
// may envtest start the control plane through links to it (a test binary
// does not, and would be run as etcd).
var guarding bool

// ExecGuarded is called first in main. Run as a guarded etcd or
// kube-apiserver of gitgate dev, it never returns: it replaces the process
// with the real binary, which the kernel kills when gitgate dev dies, or
// exits non-zero. Otherwise it returns at once.
func ExecGuarded() {
	guarding = true
	parent, assets := os.Getenv(guardParentEnv), os.Getenv(guardAssetsEnv)
	name := filepath.Base(os.Args[0])
	if parent == "" || assets == "" || (name != etcdBinary && name != apiServerBinary) {
		return
	}
	err := execGuarded(parent, filepath.Join(assets, name))
	fmt.Fprintf(os.Stderr, "gitgate dev: start %s: %v\n", name, err)
	os.Exit(127)
}

// execGuarded sets the parent-death signal and execs real with this
// process's arguments; it returns only on failure.
func execGuarded(parent, real string) error {
	// The signal is a property of the calling thread and survives exec
	// only on the thread that execs.
	runtime.LockOSThread()
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0); errno != 0 {
		return fmt.Errorf("set the parent-death signal: %w", errno)
	}
	// gitgate dev may have died before the signal was set.
	if strconv.Itoa(os.Getppid()) != parent {
		return errors.New("gitgate dev is gone")
	}
	env := make([]string, 0, len(os.Environ()))
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != guardParentEnv && k != guardAssetsEnv {
			env = append(env, kv)
		}
	}
	// The binary of gitgate dev's assets folder, with envtest's arguments.
	return syscall.Exec(real, append([]string{real}, os.Args[1:]...), env) //nolint:gosec // running it is the point
}

// controlPlaneBinaries returns the paths envtest starts etcd and
// kube-apiserver from: links in linkDir to this executable, guarded as
// ExecGuarded says, when this program is gitgate; else the binaries in
// assets.
func controlPlaneBinaries(assets, linkDir string) (etcd, apiServer string, err error) {
	if !guarding {
		return filepath.Join(assets, etcdBinary), filepath.Join(assets, apiServerBinary), nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", "", fmt.Errorf("guard the control plane: %w", err)
	}
	if err := os.MkdirAll(linkDir, 0o700); err != nil {
		return "", "", fmt.Errorf("guard the control plane: %w", err)
	}
	for _, name := range []string{etcdBinary, apiServerBinary} {
		if err := os.Symlink(self, filepath.Join(linkDir, name)); err != nil {
			return "", "", fmt.Errorf("guard the control plane: %w", err)
		}
	}
	// envtest gives its processes this process's environment.
	if err := os.Setenv(guardParentEnv, strconv.Itoa(os.Getpid())); err != nil {
		return "", "", fmt.Errorf("guard the control plane: %w", err)
	}
	if err := os.Setenv(guardAssetsEnv, assets); err != nil {
		return "", "", fmt.Errorf("guard the control plane: %w", err)
	}
	return filepath.Join(linkDir, etcdBinary), filepath.Join(linkDir, apiServerBinary), nil
}
