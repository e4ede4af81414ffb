package render_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"gitgate.dev/gitgate/provenance"
	"gitgate.dev/gitgate/provenance/render"
)

// The Snapshot of a verified commit is a Tree.
var _ render.Tree = (*provenance.Snapshot)(nil)

// fakeFile is a file of a fakeTree. A file with size set and no data
// stands for a huge file that is never materialized.
type fakeFile struct {
	data string
	kind provenance.FileKind
	size int64
}

// fakeTree is an in-memory Tree with the Snapshot's semantics.
type fakeTree struct {
	files map[string]fakeFile
	reads map[string]int
}

func tree(files map[string]string) *fakeTree {
	t := &fakeTree{files: map[string]fakeFile{}, reads: map[string]int{}}
	for p, c := range files {
		t.files[p] = fakeFile{data: c, kind: provenance.KindFile}
	}
	return t
}

func (t *fakeTree) symlink(p, target string) *fakeTree {
	t.files[p] = fakeFile{data: target, kind: provenance.KindSymlink}
	return t
}

func (t *fakeTree) submodule(p string) *fakeTree {
	t.files[p] = fakeFile{kind: provenance.KindSubmodule}
	return t
}

func (t *fakeTree) huge(p string, size int64) *fakeTree {
	t.files[p] = fakeFile{kind: provenance.KindFile, size: size}
	return t
}

func (t *fakeTree) ReadFile(p string, maxSize int64) ([]byte, error) {
	f, ok := t.files[p]
	if !ok {
		return nil, fmt.Errorf("%s: %w", p, provenance.ErrNotExist)
	}
	if f.kind != provenance.KindFile && f.kind != provenance.KindExecutable {
		return nil, fmt.Errorf("%s: %w (%s)", p, provenance.ErrNotRegular, f.kind)
	}
	size := max(f.size, int64(len(f.data)))
	if size > maxSize {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", p, provenance.ErrFileTooLarge, maxSize)
	}
	t.reads[p]++
	return []byte(f.data), nil
}

func (t *fakeTree) Walk(prefix string, fn func(provenance.File) error) error {
	base := ""
	if prefix != "" {
		base = prefix + "/"
	}
	found := prefix == ""
	for _, p := range slices.Sorted(maps.Keys(t.files)) {
		if !strings.HasPrefix(p, base) {
			continue
		}
		found = true
		if err := fn(provenance.File{Path: p, Kind: t.files[p].kind}); err != nil {
			return err
		}
	}
	if !found {
		return fmt.Errorf("%s: %w", prefix, provenance.ErrNotExist)
	}
	return nil
}
