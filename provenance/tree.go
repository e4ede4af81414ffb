package provenance

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// entryKind is what a tree entry points to, from its Git file mode.
type entryKind uint8

const (
	kindFile entryKind = iota + 1
	kindExecutable
	kindSymlink
	kindTree
	kindSubmodule
)

func (k entryKind) String() string {
	switch k {
	case kindFile:
		return "file"
	case kindExecutable:
		return "executable"
	case kindSymlink:
		return "symlink"
	case kindTree:
		return "tree"
	case kindSubmodule:
		return "submodule"
	}
	return "unknown"
}

type treeEntry struct {
	name string
	kind entryKind
	hash plumbing.Hash
}

var errMalformedTree = errors.New("malformed tree")

// tree is a validated raw tree object. Entries are decoded on the fly while
// iterating: a parsed copy of every entry would cost more memory than the
// object itself, and a walk reads tens of thousands of trees.
type tree struct {
	raw string
}

// parseTree checks a raw tree object strictly: only the modes Git writes,
// names that are one path segment (no "/", ".", "..", ".git"), no duplicate
// names, and Git's sort order. Anything else is a crafted object: ambiguous
// trees could make gitgate judge different files than a checkout shows.
func parseTree(raw []byte) (tree, error) {
	t := tree{raw: string(raw)}
	it := t.iter()
	var prev treeEntry
	for first := true; ; first = false {
		e, ok, err := it.decode()
		if err != nil {
			return tree{}, err
		}
		if !ok {
			return t, nil
		}
		if err := checkEntryName(e.name); err != nil {
			return tree{}, err
		}
		if !first {
			if prev.name == e.name {
				return tree{}, fmt.Errorf("%w: duplicate entry %q", errMalformedTree, e.name)
			}
			if compareEntries(prev, e) >= 0 {
				return tree{}, fmt.Errorf("%w: entries out of order at %q", errMalformedTree, e.name)
			}
		}
		prev = e
	}
}

// treeIter walks the entries of a tree in order.
type treeIter struct {
	rest string
}

func (t tree) iter() treeIter { return treeIter{rest: t.raw} }

// next returns the next entry of a validated tree.
func (it *treeIter) next() (treeEntry, bool) {
	e, ok, err := it.decode()
	return e, ok && err == nil
}

// decode reads one entry; names are substrings of the tree, not copies.
func (it *treeIter) decode() (treeEntry, bool, error) {
	data := it.rest
	if data == "" {
		return treeEntry{}, false, nil
	}
	sp := strings.IndexByte(data, ' ')
	if sp <= 0 {
		return treeEntry{}, false, fmt.Errorf("%w: entry without a mode", errMalformedTree)
	}
	kind, ok := modeKind(data[:sp])
	if !ok {
		return treeEntry{}, false, fmt.Errorf("%w: unknown mode %q", errMalformedTree, data[:sp])
	}
	data = data[sp+1:]
	nul := strings.IndexByte(data, 0)
	if nul < 0 {
		return treeEntry{}, false, fmt.Errorf("%w: entry name without terminator", errMalformedTree)
	}
	e := treeEntry{name: data[:nul], kind: kind}
	data = data[nul+1:]
	if len(data) < 20 {
		return treeEntry{}, false, fmt.Errorf("%w: truncated object name for %q", errMalformedTree, e.name)
	}
	copy(e.hash[:], data[:20])
	it.rest = data[20:]
	return e, true, nil
}

// entries decodes every entry (for callers that want a slice).
func (t tree) entries() []treeEntry {
	var out []treeEntry
	it := t.iter()
	for e, ok := it.next(); ok; e, ok = it.next() {
		out = append(out, e)
	}
	return out
}

func modeKind(mode string) (entryKind, bool) {
	switch mode {
	case "100644", "100664": // 100664 was written by early Git versions
		return kindFile, true
	case "100755":
		return kindExecutable, true
	case "120000":
		return kindSymlink, true
	case "40000":
		return kindTree, true
	case "160000":
		return kindSubmodule, true
	}
	return 0, false
}

func checkEntryName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty entry name", errMalformedTree)
	case name == "." || name == "..":
		return fmt.Errorf("%w: entry named %q", errMalformedTree, name)
	case strings.EqualFold(name, ".git"):
		return fmt.Errorf("%w: entry named %q", errMalformedTree, name)
	case strings.ContainsRune(name, '/'):
		return fmt.Errorf("%w: entry name %q holds a slash", errMalformedTree, name)
	}
	return nil
}

// compareEntries orders entries as Git does: by name, where a tree's name is
// compared as if it ended in "/".
func compareEntries(a, b treeEntry) int {
	an, bn := a.name, b.name
	n := min(len(an), len(bn))
	if c := strings.Compare(an[:n], bn[:n]); c != 0 {
		return c
	}
	ac, bc := nextByte(a, n), nextByte(b, n)
	switch {
	case ac < bc:
		return -1
	case ac > bc:
		return 1
	}
	return 0
}

// nextByte is the byte after position n of an entry's sort key: the name's
// byte, "/" past the end of a tree's name, or 0 past the end of another name.
func nextByte(e treeEntry, n int) byte {
	if n < len(e.name) {
		return e.name[n]
	}
	if e.kind == kindTree {
		return '/'
	}
	return 0
}

// treeReader reads parsed trees, usually through a cache.
type treeReader interface {
	tree(h plumbing.Hash) (tree, error)
}

// diffTrees returns the paths that differ between trees a (new) and b (old):
// added, modified (content or mode) and deleted entries, every file under an
// added or deleted folder, and both sides of a rename. Subtrees with the same
// hash are skipped without being read. A zero hash stands for the empty tree
// (a root commit's parent). Paths are repo-relative with forward slashes, in
// Git order.
func diffTrees(r treeReader, a, b plumbing.Hash) ([]string, error) {
	var out []string
	err := diffInto(r, a, b, "", &out)
	return out, err
}

func diffInto(r treeReader, a, b plumbing.Hash, prefix string, out *[]string) error {
	if a == b {
		return nil
	}
	ta, err := readTreeOrEmpty(r, a)
	if err != nil {
		return err
	}
	tb, err := readTreeOrEmpty(r, b)
	if err != nil {
		return err
	}
	ia, ib := ta.iter(), tb.iter()
	x, okx := ia.next()
	y, oky := ib.next()
	for okx || oky {
		var c int
		switch {
		case !okx:
			c = 1
		case !oky:
			c = -1
		default:
			c = compareEntries(x, y)
		}
		switch {
		case c < 0: // only in a: added
			if err := listAll(r, x, prefix, out); err != nil {
				return err
			}
			x, okx = ia.next()
		case c > 0: // only in b: deleted
			if err := listAll(r, y, prefix, out); err != nil {
				return err
			}
			y, oky = ib.next()
		default:
			switch {
			case x.hash == y.hash && x.kind == y.kind:
			case x.kind == kindTree && y.kind == kindTree:
				if err := diffInto(r, x.hash, y.hash, prefix+x.name+"/", out); err != nil {
					return err
				}
			default:
				*out = append(*out, prefix+x.name)
			}
			x, okx = ia.next()
			y, oky = ib.next()
		}
	}
	return nil
}

func readTreeOrEmpty(r treeReader, h plumbing.Hash) (tree, error) {
	if h.IsZero() {
		return tree{}, nil
	}
	return r.tree(h)
}

// listAll appends e's path, or every path under it when e is a folder.
func listAll(r treeReader, e treeEntry, prefix string, out *[]string) error {
	if e.kind != kindTree {
		*out = append(*out, prefix+e.name)
		return nil
	}
	t, err := r.tree(e.hash)
	if err != nil {
		return err
	}
	sub := prefix + e.name + "/"
	if t.raw == "" {
		// An empty tree cannot be checked out, but it is still a change.
		*out = append(*out, prefix+e.name)
	}
	it := t.iter()
	for c, ok := it.next(); ok; c, ok = it.next() {
		if err := listAll(r, c, sub, out); err != nil {
			return err
		}
	}
	return nil
}

// lookupPath finds the entry at a repo-relative path (forward slashes) in the
// tree root. ok is false when some segment does not exist.
func lookupPath(r treeReader, root plumbing.Hash, path string) (e treeEntry, ok bool, err error) {
	segs := strings.Split(path, "/")
	cur := root
	for i, seg := range segs {
		t, err := r.tree(cur)
		if err != nil {
			return treeEntry{}, false, err
		}
		found := false
		it := t.iter()
		for c, ok := it.next(); ok; c, ok = it.next() {
			if c.name == seg {
				e, found = c, true
				break
			}
		}
		if !found {
			return treeEntry{}, false, nil
		}
		if i < len(segs)-1 {
			if e.kind != kindTree {
				return treeEntry{}, false, nil
			}
			cur = e.hash
		}
	}
	return e, true, nil
}
