// Package testenv starts the real control plane that gitgate's e2e suites run
// against: kube-apiserver and etcd built from source by `make envtest`
// (test/envtest/build.sh), driven by controller-runtime's envtest, with
// kubectl from the same Kubernetes release as the client.
//
// One API server serves a whole test package; wire it up in TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Run(m, testenv.Options{})) }
//
//	func TestSomething(t *testing.T) {
//		env := testenv.Require(t)
//		...
//	}
//
// When the binaries are missing, Require skips the tests with a message that
// says how to build them; under CI=true a missing binary fails the run
// instead, so CI can never pass by skipping.
package testenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Binaries are the programs the control plane needs in the assets folder.
var Binaries = []string{"kube-apiserver", "etcd", "kubectl"}

// Env is a running control plane and clients for it.
type Env struct {
	// Config reaches the API server as an admin (system:masters).
	Config *rest.Config
	// Dynamic and Discovery are clients built from Config.
	Dynamic   dynamic.Interface
	Discovery discovery.DiscoveryInterface
	// Kubeconfig is the path of a kubeconfig file for Config, for kubectl.
	Kubeconfig string
	// Kubectl is the path of the kubectl binary built with the API server.
	Kubectl string
	// Assets is the folder holding the binaries.
	Assets string

	env *envtest.Environment
	dir string
}

// Options adjust the control plane a package starts.
type Options struct {
	// APIServerArgs are set on kube-apiserver's command line (flag name
	// without dashes -> values), on top of envtest's defaults.
	APIServerArgs map[string][]string
	// CRDDirectoryPaths are folders of CRD manifests installed at start.
	CRDDirectoryPaths []string
}

// Start builds nothing: it starts etcd and kube-apiserver from the assets
// folder (see AssetsDir) and returns clients for them. Stop it when done.
func Start(opts Options) (*Env, error) {
	assets, err := AssetsDir()
	if err != nil {
		return nil, err
	}
	if missing := MissingBinaries(assets); len(missing) > 0 {
		return nil, fmt.Errorf("control plane binaries %s missing in %s: run `make envtest`", strings.Join(missing, ", "), assets)
	}
	te := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     opts.CRDDirectoryPaths,
		ErrorIfCRDPathMissing: len(opts.CRDDirectoryPaths) > 0,
		// The machines that run CI are small and shared; the defaults (20 s)
		// are too short for a cold start there.
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	// KUBEBUILDER_ASSETS overrides BinaryAssetsDirectory inside envtest;
	// pin the paths so both always name the same folder.
	te.ControlPlane.GetAPIServer().Path = filepath.Join(assets, "kube-apiserver")
	te.ControlPlane.Etcd = &envtest.Etcd{Path: filepath.Join(assets, "etcd")}
	te.ControlPlane.KubectlPath = filepath.Join(assets, "kubectl")
	apiArgs := te.ControlPlane.GetAPIServer().Configure()
	for name, values := range opts.APIServerArgs {
		apiArgs.Set(name, values...)
	}
	cfg, err := te.Start()
	if err != nil {
		return nil, fmt.Errorf("start control plane: %w", err)
	}
	e := &Env{Config: cfg, Kubectl: filepath.Join(assets, "kubectl"), Assets: assets, env: te}
	if err := e.init(); err != nil {
		_ = e.Stop()
		return nil, err
	}
	return e, nil
}

func (e *Env) init() error {
	var err error
	if e.Dynamic, err = dynamic.NewForConfig(e.Config); err != nil {
		return fmt.Errorf("dynamic client: %w", err)
	}
	if e.Discovery, err = discovery.NewDiscoveryClientForConfig(e.Config); err != nil {
		return fmt.Errorf("discovery client: %w", err)
	}
	if e.dir, err = os.MkdirTemp("", "gitgate-e2e-"); err != nil {
		return fmt.Errorf("temp folder: %w", err)
	}
	e.Kubeconfig = filepath.Join(e.dir, "kubeconfig")
	if err := os.WriteFile(e.Kubeconfig, e.env.KubeConfig, 0o600); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}

// Stop stops the control plane and removes the kubeconfig.
func (e *Env) Stop() error {
	err := e.env.Stop()
	if e.dir != "" {
		err = errors.Join(err, os.RemoveAll(e.dir))
	}
	return err
}

// KubectlCmd returns a kubectl command against this API server. Its
// environment is cleared of KUBECONFIG so a developer's cluster can never be
// the target.
func (e *Env) KubectlCmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, e.Kubectl, append([]string{"--kubeconfig", e.Kubeconfig}, args...)...)
	env := make([]string, 0, len(os.Environ()))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KUBECONFIG=") {
			env = append(env, kv)
		}
	}
	env = append(env, "HOME="+e.dir)
	cmd.Env = env
	return cmd
}

// InCI reports whether the tests run in CI (CI=true, as CI services set it),
// where a missing prerequisite is a failure instead of a skip.
func InCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "false" && v != "0"
}

// RepoRoot returns the root of the gitgate checkout holding the working
// directory (tests run in their package folder).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		if isGitgateModule(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no gitgate.dev/gitgate go.mod above the working directory")
		}
		dir = parent
	}
}

func isGitgateModule(path string) bool {
	v, err := goModLine(path, "module")
	return err == nil && v == "gitgate.dev/gitgate"
}

// goModLine returns the first word after the first line starting with key
// (ignoring leading tabs) in a go.mod file.
func goModLine(path, key string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == key {
			return fields[1], nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return "", fmt.Errorf("%s: no %s line", path, key)
}

// KubernetesVersion is the Kubernetes release pinned in
// test/envtest/kube/go.mod, the name of the cache folder.
func KubernetesVersion() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return goModLine(filepath.Join(root, "test", "envtest", "kube", "go.mod"), "k8s.io/kubernetes")
}

// AssetsDir returns the folder of the control plane binaries:
// KUBEBUILDER_ASSETS when set (the Makefile sets it), otherwise the folder
// test/envtest/build.sh builds into,
// ${XDG_CACHE_HOME:-$HOME/.cache}/gitgate/envtest/<kubernetes version>.
func AssetsDir() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	version, err := KubernetesVersion()
	if err != nil {
		return "", err
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("home folder: %w", err)
		}
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "gitgate", "envtest", version), nil
}

// MissingBinaries lists the control plane programs not executable in dir.
func MissingBinaries(dir string) []string {
	var missing []string
	for _, b := range Binaries {
		fi, err := os.Stat(filepath.Join(dir, b))
		if err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			missing = append(missing, b)
		}
	}
	return missing
}

// The package's shared control plane, set up by Run.
var (
	mu         sync.Mutex
	shared     *Env
	skipReason string
)

// Run starts one control plane for the test package, runs its tests and
// stops it; call it from TestMain and pass its result to os.Exit. Without
// the binaries (and outside CI) the tests still run, and Require skips the
// ones that need the API server.
func Run(m *testing.M, opts Options) int {
	assets, err := AssetsDir()
	if err != nil {
		fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		return 1
	}
	if missing := MissingBinaries(assets); len(missing) > 0 {
		msg := fmt.Sprintf("control plane binaries %s missing in %s; run `make envtest` (or `make test`) to build them",
			strings.Join(missing, ", "), assets)
		if InCI() {
			fmt.Fprintf(os.Stderr, "testenv: CI=true and %s\n", msg)
			return 1
		}
		mu.Lock()
		skipReason = msg
		mu.Unlock()
		return m.Run()
	}
	env, err := Start(opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		return 1
	}
	mu.Lock()
	shared = env
	mu.Unlock()
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: stop control plane: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Require returns the package's control plane, or skips t when its
// binaries are missing (outside CI). It fails t when TestMain did not call
// Run.
func Require(t testing.TB) *Env {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	switch {
	case shared != nil:
		return shared
	case skipReason != "":
		t.Skip(skipReason)
	default:
		t.Fatal("testenv: TestMain must call testenv.Run")
	}
	return nil
}
