package devenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Binaries are the programs the control plane needs from the assets folder.
// kubectl is optional: the walkthrough runs it when it is there.
var Binaries = []string{"etcd", "kube-apiserver"}

// ErrNoAssets is returned when no folder holding the control plane binaries
// can be found or built.
var ErrNoAssets = errors.New("control plane binaries not found")

// AssetsOptions say where to look for the control plane binaries.
type AssetsOptions struct {
	// Dir is the folder the user named (--assets); it wins over all else.
	Dir string
	// Getenv reads KUBEBUILDER_ASSETS and the cache location; os.Getenv
	// when nil.
	Getenv func(string) string
	// Starts are the folders from which a gitgate checkout is searched
	// upwards (the working directory and the executable's folder).
	Starts []string
	// Build runs test/envtest/build.sh of the checkout at root and returns
	// the folder it prints; nil runs it with progress on BuildLog.
	Build func(ctx context.Context, root string) (string, error)
	// BuildLog receives build.sh's progress (it takes minutes the first
	// time, so the user must see that something is happening).
	BuildLog io.Writer
}

// FindAssets returns the folder holding etcd and kube-apiserver, in this
// order: the folder the user named; KUBEBUILDER_ASSETS, as controller-runtime's
// envtest reads it; the cache of a gitgate checkout found above one of the
// start folders, built by its test/envtest/build.sh when missing; the newest
// complete folder in the cache build.sh writes to
// (${XDG_CACHE_HOME:-$HOME/.cache}/gitgate/envtest/<version>).
func FindAssets(ctx context.Context, opts AssetsOptions) (string, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if opts.Dir != "" {
		return checkAssets(opts.Dir, "--assets")
	}
	if dir := getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return checkAssets(dir, "KUBEBUILDER_ASSETS")
	}
	for _, start := range opts.Starts {
		root, ok := findCheckout(start)
		if !ok {
			continue
		}
		build := opts.Build
		if build == nil {
			build = func(ctx context.Context, root string) (string, error) {
				return runBuildScript(ctx, root, opts.BuildLog)
			}
		}
		dir, err := build(ctx, root)
		if err != nil {
			return "", fmt.Errorf("build the control plane with %s: %w", filepath.Join(root, buildScript), err)
		}
		return checkAssets(dir, buildScript)
	}
	if dir, ok := newestCached(cacheRoot(getenv)); ok {
		return dir, nil
	}
	return "", fmt.Errorf("%w: run `make envtest` in a gitgate checkout (it builds etcd, kube-apiserver and kubectl into %s), "+
		"or pass --assets DIR (or set KUBEBUILDER_ASSETS) naming a folder that holds them", ErrNoAssets, cacheRoot(getenv))
}

// buildScript builds the binaries, relative to a checkout's top.
const buildScript = "test/envtest/build.sh"

// checkAssets returns dir if it holds every binary.
func checkAssets(dir, from string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("assets folder %q (%s): %w", dir, from, err)
	}
	if missing := MissingBinaries(abs); len(missing) > 0 {
		return "", fmt.Errorf("%w: %s missing in %s (from %s)", ErrNoAssets, strings.Join(missing, ", "), abs, from)
	}
	return abs, nil
}

// MissingBinaries lists the programs of Binaries that are not executable
// files in dir.
func MissingBinaries(dir string) []string {
	var missing []string
	for _, b := range Binaries {
		if !executable(filepath.Join(dir, b)) {
			missing = append(missing, b)
		}
	}
	return missing
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// findCheckout walks up from start to the top of a gitgate checkout: a
// folder whose go.mod declares module gitgate.dev/gitgate and which holds
// the build script.
func findCheckout(start string) (string, bool) {
	if start == "" {
		return "", false
	}
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", false
	}
	for {
		if isGitgateModule(filepath.Join(dir, "go.mod")) && executable(filepath.Join(dir, buildScript)) {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func isGitgateModule(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "module" {
			return fields[1] == "gitgate.dev/gitgate"
		}
	}
	return false
}

// runBuildScript runs build.sh, which builds only what is missing and prints
// the folder on stdout.
func runBuildScript(ctx context.Context, root string, log io.Writer) (string, error) {
	if log == nil {
		log = io.Discard
	}
	cmd := exec.CommandContext(ctx, filepath.Join(root, buildScript))
	cmd.Dir = root
	cmd.Stderr = log
	out, err := cmd.Output()
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	dir := strings.TrimSpace(lines[len(lines)-1])
	if dir == "" {
		return "", errors.New("it printed no folder")
	}
	return dir, nil
}

// cacheRoot is where build.sh keeps one folder per Kubernetes version.
func cacheRoot(getenv func(string) string) string {
	cache := getenv("XDG_CACHE_HOME")
	if cache == "" {
		home := getenv("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "gitgate", "envtest")
}

// newestCached returns the complete version folder under root with the
// highest version (folders are named like v1.37.2).
func newestCached(root string) (string, bool) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return "", false
	}
	type candidate struct {
		dir     string
		version []int
	}
	var found []candidate
	for _, e := range entries {
		v, ok := parseVersion(e.Name())
		dir := filepath.Join(root, e.Name())
		if !ok || !e.IsDir() || len(MissingBinaries(dir)) > 0 {
			continue
		}
		found = append(found, candidate{dir, v})
	}
	if len(found) == 0 {
		return "", false
	}
	best := slices.MaxFunc(found, func(a, b candidate) int { return slices.Compare(a.version, b.version) })
	return best.dir, true
}

// parseVersion reads "v1.37.2" as [1 37 2]; anything else is not a
// version folder (build.sh's temporary folders start with a dot).
func parseVersion(name string) ([]int, bool) {
	rest, ok := strings.CutPrefix(name, "v")
	if !ok {
		return nil, false
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 {
		return nil, false
	}
	v := make([]int, 0, 3)
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, false
		}
		v = append(v, n)
	}
	return v, true
}
