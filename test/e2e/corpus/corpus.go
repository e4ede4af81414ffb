// Package corpus loads the real-world manifests that e2e suites use to prove
// gitgate has no false denials: the folder ../shared/corpus beside the
// repository root (see its README for the origin of each folder). Each YAML
// document is one object; kustomize is not run, so a kustomization.yaml is
// just an object of a kind no API server serves.
package corpus

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"gitgate.dev/gitgate/test/e2e/testenv"
)

// Object is one YAML document of the corpus that names an apiVersion and a
// kind.
type Object struct {
	// File is the path relative to the corpus folder; Index the position of
	// the document in it (from 0, counting empty documents out).
	File  string
	Index int
	// Manifest is the document decoded as a Git manifest is (JSON numbers
	// as float64); YAML is its text exactly as written.
	Manifest map[string]any
	YAML     []byte
}

// APIVersion, Kind, Name and Namespace read the manifest's identity.
func (o Object) APIVersion() string { return str(o.Manifest, "apiVersion") }
func (o Object) Kind() string       { return str(o.Manifest, "kind") }
func (o Object) Name() string       { return str(meta(o.Manifest), "name") }
func (o Object) Namespace() string  { return str(meta(o.Manifest), "namespace") }

// String names the object for test output.
func (o Object) String() string {
	return fmt.Sprintf("%s#%d %s/%s %s", o.File, o.Index, o.APIVersion(), o.Kind(), o.Name())
}

func meta(m map[string]any) map[string]any {
	md, _ := m["metadata"].(map[string]any)
	return md
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// Dir returns the corpus folder: ../shared/corpus relative to the
// repository root, where CI puts it too.
func Dir() (string, error) {
	root, err := testenv.RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(root), "shared", "corpus"), nil
}

// Require returns the corpus folder, or skips t when it is missing outside
// CI; under CI=true a missing corpus fails t.
func Require(t testing.TB) string {
	t.Helper()
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		if testenv.InCI() {
			t.Fatalf("corpus folder %s missing (CI=true)", dir)
		}
		t.Skipf("corpus folder %s missing; it sits beside the repository (../shared/corpus)", dir)
	}
	return dir
}

// Load reads every .yaml and .yml file under dir, splits multi-document
// files, and returns the documents that are Kubernetes objects (they name
// apiVersion and kind), in file order. notObjects counts the documents that
// are YAML but not objects (configuration files of the examples). A file
// that is not valid YAML is an error naming it.
func Load(dir string) (objs []Object, notObjects int, err error) {
	var files []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("walk corpus: %w", err)
	}
	slices.Sort(files)
	for _, path := range files {
		rel, _ := filepath.Rel(dir, path)
		docs, err := documents(path)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", rel, err)
		}
		for _, doc := range docs {
			m, err := decode(doc)
			if err != nil {
				return nil, 0, fmt.Errorf("%s: %w", rel, err)
			}
			if m == nil {
				continue
			}
			o := Object{File: rel, Index: countIn(objs, rel), Manifest: m, YAML: doc}
			if o.APIVersion() == "" || o.Kind() == "" {
				notObjects++
				continue
			}
			objs = append(objs, o)
		}
	}
	return objs, notObjects, nil
}

func countIn(objs []Object, file string) int {
	n := 0
	for _, o := range objs {
		if o.File == file {
			n++
		}
	}
	return n
}

// documents splits a YAML stream at its --- separators.
func documents(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("split documents: %w", err)
		}
		if len(bytes.TrimSpace(doc)) > 0 {
			docs = append(docs, doc)
		}
	}
}

// decode turns one document into a map as Git manifests are decoded; nil
// for an empty document (only comments) or a document that is not a map.
func decode(doc []byte) (map[string]any, error) {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("yaml: %w", err)
	}
	var v any
	if err := json.Unmarshal(j, &v); err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	m, _ := v.(map[string]any)
	return m, nil
}
