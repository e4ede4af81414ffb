package provenance

import (
	"bytes"
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

// rawEntry is a tree entry whose name still points into the tree's bytes;
// parsing and diffing look at every entry but need few names as strings.
type rawEntry struct {
	name []byte
	kind entryKind
	hash plumbing.Hash
}

func (e rawEntry) entry() treeEntry {
	return treeEntry{name: string(e.name), kind: e.kind, hash: e.hash}
}

var errMalformedTree = errors.New("malformed tree")

// tree is a validated raw tree object. Entries are decoded on the fly while
// iterating: a parsed copy of every entry would cost more memory than the
// object itself, and a walk reads tens of thousands of trees. raw is shared
// with the object reader's cache and never modified.
type tree struct {
	raw []byte
}

// parseTree checks a raw tree object strictly: only the modes Git writes,
// names that are one path segment (no "/", ".", "..", ".git"), no duplicate
// names, and Git's sort order. Anything else is a crafted object: ambiguous
// trees could make gitgate judge different files than a checkout shows.
// The tree keeps raw, which the caller must not modify afterwards.
//
// Every tree a verification reads passes through here once (the verifier
// caches parsed trees), so well-formed trees take a tight loop that
// allocates nothing; at the first thing it does not expect, the tree is
// parsed again entry by entry, which says what is wrong.
func parseTree(raw []byte) (tree, error) {
	if validTree(raw) {
		return tree{raw: raw}, nil
	}
	return parseTreeSlow(raw)
}

// validTree reports whether raw is a well-formed tree; when it says no,
// parseTreeSlow finds the reason (it refuses exactly the trees this
// refuses, which FuzzParseTree checks).
func validTree(raw []byte) bool {
	data := raw
	var prev rawEntry
	for first := true; len(data) > 0; first = false {
		var e rawEntry
		var n int
		switch {
		case len(data) > 6 && data[5] == ' ' && string(data[:5]) == "40000":
			e.kind, n = kindTree, 6
		case len(data) > 7 && data[6] == ' ':
			kind, ok := modeKind(data[:6])
			if !ok {
				return false
			}
			e.kind, n = kind, 7
		default:
			return false
		}
		nul := bytes.IndexByte(data[n:], 0)
		if nul <= 0 || len(data) < n+nul+1+len(e.hash) {
			return false
		}
		e.name = data[n : n+nul]
		if !plainName(e.name) {
			return false
		}
		copy(e.hash[:], data[n+nul+1:])
		if !first && compareRaw(prev, e) >= 0 || !first && bytes.Equal(prev.name, e.name) {
			return false
		}
		prev = e
		data = data[n+nul+1+len(e.hash):]
	}
	return true
}

// plainName is checkEntryName's test without the error.
func plainName(name []byte) bool {
	switch len(name) {
	case 1:
		if name[0] == '.' {
			return false
		}
	case 2:
		if name[0] == '.' && name[1] == '.' {
			return false
		}
	case 4:
		if name[0] == '.' && name[1]|0x20 == 'g' && name[2]|0x20 == 'i' && name[3]|0x20 == 't' {
			return false
		}
	}
	return bytes.IndexByte(name, '/') < 0
}

// parseTreeSlow is parseTree entry by entry, with the reason of a refusal.
func parseTreeSlow(raw []byte) (tree, error) {
	t := tree{raw: raw}
	it := t.iter()
	var prev rawEntry
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
			if same := bytes.Equal(prev.name, e.name); same || compareRaw(prev, e) >= 0 {
				if same {
					return tree{}, fmt.Errorf("%w: duplicate entry %q", errMalformedTree, e.name)
				}
				return tree{}, fmt.Errorf("%w: entries out of order at %q", errMalformedTree, e.name)
			}
		}
		prev = e
	}
}

// treeIter walks the entries of a tree in order.
type treeIter struct {
	rest []byte
}

func (t tree) iter() treeIter { return treeIter{rest: t.raw} }

// next returns the next entry of a validated tree.
func (it *treeIter) next() (treeEntry, bool) {
	e, ok, err := it.decode()
	if !ok || err != nil {
		return treeEntry{}, false
	}
	return e.entry(), true
}

// nextRaw is next without converting the name.
func (it *treeIter) nextRaw() (rawEntry, bool) {
	e, ok, err := it.decode()
	return e, ok && err == nil
}

// decode reads one entry; its name points into the tree.
func (it *treeIter) decode() (rawEntry, bool, error) {
	data := it.rest
	if len(data) == 0 {
		return rawEntry{}, false, nil
	}
	sp := bytes.IndexByte(data, ' ')
	if sp <= 0 {
		return rawEntry{}, false, fmt.Errorf("%w: entry without a mode", errMalformedTree)
	}
	kind, ok := modeKind(data[:sp])
	if !ok {
		return rawEntry{}, false, fmt.Errorf("%w: unknown mode %q", errMalformedTree, data[:sp])
	}
	data = data[sp+1:]
	nul := bytes.IndexByte(data, 0)
	if nul < 0 {
		return rawEntry{}, false, fmt.Errorf("%w: entry name without terminator", errMalformedTree)
	}
	e := rawEntry{name: data[:nul], kind: kind}
	data = data[nul+1:]
	if len(data) < len(e.hash) {
		return rawEntry{}, false, fmt.Errorf("%w: truncated object name for %q", errMalformedTree, e.name)
	}
	copy(e.hash[:], data)
	it.rest = data[len(e.hash):]
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

func modeKind(mode []byte) (entryKind, bool) {
	switch string(mode) {
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

func checkEntryName[S ~string | ~[]byte](name S) error {
	switch len(name) {
	case 0:
		return fmt.Errorf("%w: empty entry name", errMalformedTree)
	case 1, 2:
		if string(name) == "." || string(name) == ".." {
			return fmt.Errorf("%w: entry named %q", errMalformedTree, name)
		}
	case 4:
		if strings.EqualFold(string(name), ".git") {
			return fmt.Errorf("%w: entry named %q", errMalformedTree, name)
		}
	}
	if strings.IndexByte(string(name), '/') >= 0 {
		return fmt.Errorf("%w: entry name %q holds a slash", errMalformedTree, name)
	}
	return nil
}

// compareEntries orders entries as Git does: by name, where a tree's name is
// compared as if it ended in "/".
func compareEntries(a, b treeEntry) int {
	n := min(len(a.name), len(b.name))
	if c := strings.Compare(a.name[:n], b.name[:n]); c != 0 {
		return c
	}
	return compareTails(a.name, b.name, a.kind, b.kind, n)
}

// compareRaw is compareEntries for raw entries.
func compareRaw(a, b rawEntry) int {
	n := min(len(a.name), len(b.name))
	if c := bytes.Compare(a.name[:n], b.name[:n]); c != 0 {
		return c
	}
	return compareTails(a.name, b.name, a.kind, b.kind, n)
}

// compareTails compares two names that agree on their first n bytes.
func compareTails[S ~string | ~[]byte](an, bn S, ak, bk entryKind, n int) int {
	ac, bc := nextByte(an, ak, n), nextByte(bn, bk, n)
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
func nextByte[S ~string | ~[]byte](name S, kind entryKind, n int) byte {
	if n < len(name) {
		return name[n]
	}
	if kind == kindTree {
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
	var x, y rawEntry
	var okx, oky bool
	needX, needY := true, true
	for {
		if needX && needY {
			// Two versions of a folder usually differ in one entry or
			// a few: skip the entries they share byte for byte without
			// decoding them.
			skipShared(&ia, &ib)
		}
		if needX {
			x, okx = ia.nextRaw()
			needX = false
		}
		if needY {
			y, oky = ib.nextRaw()
			needY = false
		}
		if !okx && !oky {
			return nil
		}
		var c int
		switch {
		case !okx:
			c = 1
		case !oky:
			c = -1
		default:
			c = compareRaw(x, y)
		}
		switch {
		case c < 0: // only in a: added
			if err := listAll(r, x.entry(), prefix, out); err != nil {
				return err
			}
			needX = true
		case c > 0: // only in b: deleted
			if err := listAll(r, y.entry(), prefix, out); err != nil {
				return err
			}
			needY = true
		default:
			switch {
			case x.hash == y.hash && x.kind == y.kind:
			case x.kind == kindTree && y.kind == kindTree:
				if err := diffInto(r, x.hash, y.hash, prefix+string(x.name)+"/", out); err != nil {
					return err
				}
			default:
				*out = append(*out, prefix+string(x.name))
			}
			needX, needY = true, true
		}
	}
}

// skipShared advances both iterators of validated trees past their common
// leading entries. An entry is "mode name\0" and a 20-byte hash, so when the
// bytes of a's next entry start b's remainder, b's next entry is that same
// entry (same mode, name and hash).
func skipShared(a, b *treeIter) {
	for len(a.rest) > 0 {
		nul := bytes.IndexByte(a.rest, 0)
		n := nul + 1 + len(plumbing.ZeroHash)
		if nul < 0 || n > len(a.rest) || n > len(b.rest) || !bytes.Equal(a.rest[:n], b.rest[:n]) {
			return
		}
		a.rest, b.rest = a.rest[n:], b.rest[n:]
	}
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
	if len(t.raw) == 0 {
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
	cur := root
	for rest, last := path, false; !last; {
		seg, more, found := strings.Cut(rest, "/")
		rest, last = more, !found
		t, err := r.tree(cur)
		if err != nil {
			return treeEntry{}, false, err
		}
		var hit rawEntry
		hitOK := false
		it := t.iter()
		for c, ok := it.nextRaw(); ok; c, ok = it.nextRaw() {
			if string(c.name) == seg {
				hit, hitOK = c, true
				break
			}
		}
		if !hitOK {
			return treeEntry{}, false, nil
		}
		if !last {
			if hit.kind != kindTree {
				return treeEntry{}, false, nil
			}
			cur = hit.hash
			continue
		}
		e = hit.entry()
	}
	return e, true, nil
}
