package policy

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/open-policy-agent/opa/v1/loader"
)

// maxModuleSize caps one Rego or data file. Policies are code reviewed in
// Git, but a snapshot is still bytes from a repository; no real policy comes
// near this.
const maxModuleSize = 32 << 20

// Source is what an Engine is compiled from: Rego modules by file name and
// the data document they see under `data`.
type Source struct {
	Modules map[string][]byte
	Data    map[string]any
}

// isPolicyFile reports whether name is a Rego module that check evaluates.
// Unit tests (*_test.rego) are left to `gitgate test`; conftest compiles them
// too, which lists their packages under --all-namespaces.
func isPolicyFile(name string) bool {
	return strings.HasSuffix(name, ".rego") && !strings.HasSuffix(name, "_test.rego")
}

// ReadModules reads the Rego modules at paths: files are read as named,
// folders are walked recursively for *.rego files, *_test.rego excluded.
// Module names are the paths as found (e.g. "policy/main.rego").
func ReadModules(paths ...string) (map[string][]byte, error) {
	mods := map[string][]byte{}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("read policies: %w", err)
		}
		if !info.IsDir() {
			if err := readModuleFile(p, mods); err != nil {
				return nil, err
			}
			continue
		}
		err = filepath.WalkDir(p, func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			// Symlinks are not followed: a policy folder cannot pull in
			// files from outside itself.
			if d.Type().IsRegular() && isPolicyFile(d.Name()) {
				return readModuleFile(name, mods)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read policies: %w", err)
		}
	}
	return mods, nil
}

func readModuleFile(name string, mods map[string][]byte) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("read policy: %w", err)
	}
	defer f.Close()
	b, err := readCapped(f, name)
	if err != nil {
		return err
	}
	mods[filepath.ToSlash(filepath.Clean(name))] = b
	return nil
}

func readCapped(r io.Reader, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxModuleSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(b) > maxModuleSize {
		return nil, fmt.Errorf("read %s: larger than %d bytes", name, maxModuleSize)
	}
	return b, nil
}

// ReadModulesFS reads the Rego modules under roots in fsys (all of fsys when
// no root is given), *_test.rego excluded. This is how a verified Git
// snapshot or an embedded library is loaded.
func ReadModulesFS(fsys fs.FS, roots ...string) (map[string][]byte, error) {
	if len(roots) == 0 {
		roots = []string{"."}
	}
	mods := map[string][]byte{}
	for _, root := range roots {
		err := fs.WalkDir(fsys, root, func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.Type().IsRegular() || !isPolicyFile(d.Name()) {
				return nil
			}
			f, err := fsys.Open(name)
			if err != nil {
				return err
			}
			defer f.Close()
			b, err := readCapped(f, name)
			if err != nil {
				return err
			}
			mods[path.Clean(name)] = b
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read policies: %w", err)
		}
	}
	return mods, nil
}

// ReadData loads the data files at paths with conftest's --data semantics
// (OPA's loader): folders are searched recursively for .json, .yaml and .yml
// files, and each file's document is merged into `data` under the path of
// its folder relative to the path given: with `--data policy`,
// policy/exceptions/x.yaml lands under data.exceptions. Conflicting values
// are an error.
func ReadData(paths ...string) (map[string]any, error) {
	if len(paths) == 0 {
		return map[string]any{}, nil
	}
	return readData(loader.NewFileLoader(), paths)
}

// ReadDataFS is ReadData over an fs.FS.
func ReadDataFS(fsys fs.FS, roots ...string) (map[string]any, error) {
	if len(roots) == 0 {
		roots = []string{"."}
	}
	return readData(loader.NewFileLoader().WithFS(fsys), roots)
}

func readData(l loader.FileLoader, paths []string) (map[string]any, error) {
	res, err := l.Filtered(paths, func(_ string, info fs.FileInfo, _ int) bool {
		if info.IsDir() {
			return false
		}
		switch strings.ToLower(filepath.Ext(info.Name())) {
		case ".json", ".yaml", ".yml":
			return false
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("read data: %w", err)
	}
	if res.Documents == nil {
		return map[string]any{}, nil
	}
	return res.Documents, nil
}

// errNoPolicies is returned when there is nothing to compile.
var errNoPolicies = errors.New("no policies found")
