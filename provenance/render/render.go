package render

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"gitgate.dev/gitgate/provenance"
	"gitgate.dev/gitgate/provenance/index"
)

// Tree is read access to the files of one commit, as *provenance.Snapshot
// gives it: paths are repo-relative with forward slashes.
type Tree interface {
	// ReadFile returns a regular file's content, at most maxSize bytes;
	// symlinks and submodules are refused with provenance.ErrNotRegular,
	// missing paths with provenance.ErrNotExist.
	ReadFile(path string, maxSize int64) ([]byte, error)
	// Walk calls fn for every file, symlink and submodule under the folder
	// prefix ("" for the whole tree); a prefix that is not a folder is
	// provenance.ErrNotExist.
	Walk(prefix string, fn func(provenance.File) error) error
}

// Defaults of Options.
const (
	// DefaultMaxFileSize: etcd stores objects of at most about 1.5 MiB, so
	// a manifest file of several objects fits in 4 MiB; more is an attack
	// or a mistake.
	DefaultMaxFileSize = 4 << 20
	// DefaultMaxTotalBytes bounds the memory one Render holds in file
	// contents: 100,000 objects of about 2 KiB.
	DefaultMaxTotalBytes = 256 << 20
	// DefaultMaxObjects is the largest desired state gitgate is designed
	// and benchmarked for.
	DefaultMaxObjects = 100_000
	// DefaultMaxDepth is far above the nesting of real manifests (deep CRD
	// schemas reach about 40) and far below what makes recursion costly.
	DefaultMaxDepth = 100
	// DefaultMaxAliasNodes lets manifests share blocks through anchors but
	// stops an alias bomb after ten thousand nodes.
	DefaultMaxAliasNodes = 10_000
	// DefaultMaxKustomizations bounds the kustomization loads of one build,
	// counted with repetition (a base reached by two paths counts twice), so
	// a diamond-shaped chain of bases cannot make a build exponential.
	DefaultMaxKustomizations = 1_000
)

// Options are the limits of one Render; a zero or negative field means its
// default.
type Options struct {
	MaxFileSize       int64 // per file read
	MaxTotalBytes     int64 // all files read in one Render
	MaxObjects        int   // objects rendered
	MaxDepth          int   // nesting of mappings and lists in a document
	MaxAliasNodes     int   // nodes a document adds through YAML aliases
	MaxKustomizations int   // kustomization loads in one kustomize build
}

func (o Options) withDefaults() Options {
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	if o.MaxTotalBytes <= 0 {
		o.MaxTotalBytes = DefaultMaxTotalBytes
	}
	if o.MaxObjects <= 0 {
		o.MaxObjects = DefaultMaxObjects
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxAliasNodes <= 0 {
		o.MaxAliasNodes = DefaultMaxAliasNodes
	}
	if o.MaxKustomizations <= 0 {
		o.MaxKustomizations = DefaultMaxKustomizations
	}
	return o
}

func (o Options) limits() limits {
	return limits{maxDepth: o.MaxDepth, maxAliasNodes: o.MaxAliasNodes}
}

// Render renders the configured paths of tree into objects, in path order
// and, within a folder, in Git's order (a kustomization's output where the
// walk reaches its folder). Each path is a folder ("" or "." for the whole
// repository) or a single file; a folder or file reached through two
// configured paths is rendered once. Any failure ends the Render: the
// desired state is all of a commit or none of it.
func Render(ctx context.Context, tree Tree, paths []string, opts Options) ([]Object, error) {
	r := &renderer{
		ctx:   ctx,
		tree:  tree,
		opts:  opts.withDefaults(),
		seen:  map[index.Key]Object{},
		files: map[string]bool{},
		roots: map[string]bool{},
	}
	for _, p := range paths {
		if err := r.renderPath(p); err != nil {
			return nil, err
		}
	}
	return r.out, nil
}

// renderer is the state of one Render.
type renderer struct {
	ctx  context.Context
	tree Tree
	opts Options

	out   []Object
	seen  map[index.Key]Object
	files map[string]bool // plain files rendered
	roots map[string]bool // kustomize roots built
	total int64           // bytes read
	kfs   *memFS          // kustomize's file system, made on first use
}

// kustomizationNames are the file names that make a folder a kustomization,
// in kustomize's order.
var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

func isKustomizationFile(p string) bool {
	base := path.Base(p)
	for _, n := range kustomizationNames {
		if base == n {
			return true
		}
	}
	return false
}

// cleanRepoPath checks a configured path and returns it in the Tree's form
// ("" for the root).
func cleanRepoPath(p string) (string, error) {
	if strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || strings.Contains(p, "\x00") {
		return "", fmt.Errorf("%w: %q is not a repo-relative path", ErrUnsafePath, p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "", fmt.Errorf("%w: %q has a \"..\" segment", ErrUnsafePath, p)
		}
	}
	c := path.Clean(p)
	if c == "." {
		return "", nil
	}
	return c, nil
}

func (r *renderer) renderPath(p string) error {
	clean, err := cleanRepoPath(p)
	if err != nil {
		return pathError(p, err)
	}
	files, err := r.list(clean)
	if errors.Is(err, provenance.ErrNotExist) && clean != "" {
		return r.renderSingle(clean)
	}
	if err != nil {
		return err
	}
	roots := kustomizeRoots(files)
	for _, f := range files {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		if root, ok := rootOf(f.Path, roots); ok {
			if !r.roots[root] {
				r.roots[root] = true
				if err := r.kustomize(root); err != nil {
					return err
				}
			}
			continue
		}
		if f.Kind != provenance.KindFile && f.Kind != provenance.KindExecutable {
			return pathError(f.Path, fmt.Errorf("%w: it is a %s", ErrNotRegular, f.Kind))
		}
		if !isManifest(f.Path) || r.files[f.Path] {
			continue
		}
		r.files[f.Path] = true
		if err := r.renderFile(f.Path); err != nil {
			return err
		}
	}
	return nil
}

// renderSingle renders a configured path that is not a folder: one file,
// or, for a kustomization file, its folder's build.
func (r *renderer) renderSingle(p string) error {
	if isKustomizationFile(p) {
		dir := parentDir(p)
		if r.roots[dir] {
			return nil
		}
		r.roots[dir] = true
		return r.kustomize(dir)
	}
	if r.files[p] {
		return nil
	}
	r.files[p] = true
	return r.renderFile(p)
}

// list returns the entries under folder dir.
func (r *renderer) list(dir string) ([]provenance.File, error) {
	var files []provenance.File
	err := r.tree.Walk(dir, func(f provenance.File) error {
		files = append(files, f)
		return nil
	})
	if errors.Is(err, provenance.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, pathError(dir, err)
	}
	return files, nil
}

// read reads a regular file under the per-file and total limits.
func (r *renderer) read(p string) ([]byte, error) {
	data, err := r.tree.ReadFile(p, r.opts.MaxFileSize)
	switch {
	case errors.Is(err, provenance.ErrNotRegular):
		return nil, pathError(p, fmt.Errorf("%w: %w", ErrNotRegular, err))
	case errors.Is(err, provenance.ErrFileTooLarge):
		return nil, pathError(p, limitf("the file is larger than %d bytes", r.opts.MaxFileSize))
	case errors.Is(err, provenance.ErrNotExist):
		return nil, pathError(p, ErrNotFound)
	case err != nil:
		return nil, pathError(p, err)
	}
	// A Tree that ignores maxSize must not get past the limit either.
	if int64(len(data)) > r.opts.MaxFileSize {
		return nil, pathError(p, limitf("the file is larger than %d bytes", r.opts.MaxFileSize))
	}
	r.total += int64(len(data))
	if r.total > r.opts.MaxTotalBytes {
		return nil, pathError(p, limitf("the files read add up to more than %d bytes", r.opts.MaxTotalBytes))
	}
	return data, nil
}

// renderFile decodes a plain manifest file.
func (r *renderer) renderFile(p string) error {
	data, err := r.read(p)
	if err != nil {
		return err
	}
	docs, err := decodeDocuments(p, data, r.opts.limits())
	if err != nil {
		return err
	}
	for _, d := range docs {
		if d.v == nil {
			continue
		}
		objs, err := objectsOf(d.v)
		if err != nil {
			return docError(p, d.n, err)
		}
		for _, o := range objs {
			if err := r.add(Object{Object: o, Path: p, Doc: d.n}); err != nil {
				return err
			}
		}
	}
	return nil
}

// add appends o unless its identity is taken or the object limit is hit.
func (r *renderer) add(o Object) error {
	k, err := index.KeyOf(o.Object)
	if err != nil {
		return docError(o.Path, o.Doc, fmt.Errorf("%w: %w", ErrInvalidObject, err))
	}
	if prev, dup := r.seen[k]; dup {
		return docError(o.Path, o.Doc, fmt.Errorf("%w: %s is also declared in %s", ErrDuplicate, k, prev.where()))
	}
	if len(r.out) >= r.opts.MaxObjects {
		return docError(o.Path, o.Doc, limitf("more than %d objects", r.opts.MaxObjects))
	}
	r.seen[k] = o
	r.out = append(r.out, o)
	return nil
}

func isManifest(p string) bool {
	switch path.Ext(p) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

func parentDir(p string) string {
	d := path.Dir(p)
	if d == "." {
		return ""
	}
	return d
}

// kustomizeRoots returns the folders that hold a kustomization file and
// lie in no other such folder: a nested kustomization is built only as part
// of the one above it, if that one refers to it.
func kustomizeRoots(files []provenance.File) map[string]bool {
	all := map[string]bool{}
	for _, f := range files {
		if isKustomizationFile(f.Path) {
			all[parentDir(f.Path)] = true
		}
	}
	roots := map[string]bool{}
	for d := range all {
		if _, nested := ancestorIn(d, all); !nested {
			roots[d] = true
		}
	}
	return roots
}

// ancestorIn returns the nearest folder above d that set holds.
func ancestorIn(d string, set map[string]bool) (string, bool) {
	for d != "" {
		d = parentDir(d)
		if set[d] {
			return d, true
		}
	}
	return "", false
}

// rootOf returns the root among roots whose folder holds file p.
func rootOf(p string, roots map[string]bool) (string, bool) {
	d := parentDir(p)
	if roots[d] {
		return d, true
	}
	return ancestorIn(d, roots)
}
