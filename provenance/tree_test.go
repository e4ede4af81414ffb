package provenance

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // Git object names are SHA-1
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// memTrees is a treeReader over trees built in memory from path→content
// maps, hashed as Git hashes them.
type memTrees map[plumbing.Hash][]byte

func (m memTrees) tree(h plumbing.Hash) (tree, error) {
	raw, ok := m[h]
	if !ok {
		return tree{}, fmt.Errorf("tree %s: %w", h, errObjectMissing)
	}
	return parseTree(raw)
}

func objHash(kind string, data []byte) plumbing.Hash {
	s := sha1.New() //nolint:gosec // Git object names are SHA-1
	fmt.Fprintf(s, "%s %d\x00", kind, len(data))
	s.Write(data)
	var h plumbing.Hash
	copy(h[:], s.Sum(nil))
	return h
}

// build stores a tree for files (path → content; a content starting with
// "link:" becomes a symlink) and returns its hash.
func (m memTrees) build(files map[string]string) plumbing.Hash {
	sub := map[string]map[string]string{}
	var entries []treeEntry
	for p, c := range files {
		if dir, rest, ok := strings.Cut(p, "/"); ok {
			if sub[dir] == nil {
				sub[dir] = map[string]string{}
			}
			sub[dir][rest] = c
			continue
		}
		kind := kindFile
		if strings.HasPrefix(c, "link:") {
			kind = kindSymlink
		}
		entries = append(entries, treeEntry{name: p, kind: kind, hash: objHash("blob", []byte(c))})
	}
	for dir, fs := range sub {
		entries = append(entries, treeEntry{name: dir, kind: kindTree, hash: m.build(fs)})
	}
	raw := encodeTree(entries)
	h := objHash("tree", raw)
	m[h] = raw
	return h
}

func encodeTree(entries []treeEntry) []byte {
	sort.Slice(entries, func(i, j int) bool { return compareEntries(entries[i], entries[j]) < 0 })
	var b bytes.Buffer
	for _, e := range entries {
		mode := map[entryKind]string{kindFile: "100644", kindExecutable: "100755", kindSymlink: "120000", kindTree: "40000", kindSubmodule: "160000"}[e.kind]
		fmt.Fprintf(&b, "%s %s\x00", mode, e.name)
		b.Write(e.hash[:])
	}
	return b.Bytes()
}

func TestDiffTrees(t *testing.T) {
	base := map[string]string{
		".gitgate/trust.yaml": "v1",
		"apps/a/deploy.yaml":  "a",
		"apps/b/deploy.yaml":  "b",
		"apps/b/svc.yaml":     "bs",
		"README.md":           "r",
		"x":                   "file x",
	}
	with := func(changes map[string]string, drop ...string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			out[k] = v
		}
		for _, d := range drop {
			delete(out, d)
		}
		for k, v := range changes {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"unchanged", base, nil},
		{"modified", with(map[string]string{"apps/b/svc.yaml": "changed"}), []string{"apps/b/svc.yaml"}},
		{"added in new folder", with(map[string]string{"clusters/prod/x.yaml": "p"}), []string{"clusters/prod/x.yaml"}},
		{"deleted folder lists every file", with(nil, "apps/b/deploy.yaml", "apps/b/svc.yaml"), []string{"apps/b/deploy.yaml", "apps/b/svc.yaml"}},
		{"rename is both sides", with(map[string]string{"apps/c/deploy.yaml": "a"}, "apps/a/deploy.yaml"), []string{"apps/a/deploy.yaml", "apps/c/deploy.yaml"}},
		{"mode change", with(map[string]string{"README.md": "link:r"}), []string{"README.md"}},
		{"file becomes folder", with(map[string]string{"x/inner": "i"}, "x"), []string{"x", "x/inner"}},
		{"policy change", with(map[string]string{".gitgate/trust.yaml": "v2"}), []string{".gitgate/trust.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := memTrees{}
			old := m.build(base)
			cur := m.build(tt.files)
			got, err := diffTrees(m, cur, old)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("diff = %q, want %q", got, tt.want)
			}
			// The diff is symmetric in the paths it names.
			back, err := diffTrees(m, old, cur)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(back)
			if !slices.Equal(back, tt.want) {
				t.Errorf("reverse diff = %q, want %q", back, tt.want)
			}
		})
	}
}

// countingTrees counts reads, to prove unchanged subtrees are never read.
type countingTrees struct {
	memTrees
	reads map[plumbing.Hash]int
}

func (c countingTrees) tree(h plumbing.Hash) (tree, error) {
	c.reads[h]++
	return c.memTrees.tree(h)
}

func TestDiffTreesSkipsUnchangedFolders(t *testing.T) {
	m := memTrees{}
	files := map[string]string{"big/a": "1", "big/b": "2", "small/c": "3"}
	old := m.build(files)
	files["small/c"] = "4"
	cur := m.build(files)
	big := m.build(map[string]string{"a": "1", "b": "2"})
	c := countingTrees{memTrees: m, reads: map[plumbing.Hash]int{}}
	got, err := diffTrees(c, cur, old)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"small/c"}) {
		t.Errorf("diff = %q", got)
	}
	if c.reads[big] != 0 {
		t.Errorf("the unchanged folder was read %d times", c.reads[big])
	}
}

func TestDiffTreesEmptyParent(t *testing.T) {
	m := memTrees{}
	root := m.build(map[string]string{"a/b": "1", "c": "2"})
	got, err := diffTrees(m, root, plumbing.ZeroHash)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"a/b", "c"}) {
		t.Errorf("diff = %q", got)
	}
}

func TestParseTreeMalformed(t *testing.T) {
	h := bytes.Repeat([]byte{0xab}, 20)
	entry := func(mode, name string) []byte {
		return append([]byte(mode+" "+name+"\x00"), h...)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name string
		raw  []byte
		want string
	}{
		{"unknown mode", entry("100600", "a"), "unknown mode"},
		{"zero-padded tree mode", entry("040000", "a"), "unknown mode"},
		{"no mode", []byte(" a\x00"), "without a mode"},
		{"no terminator", []byte("100644 a"), "terminator"},
		{"truncated hash", []byte("100644 a\x00abc"), "truncated"},
		{"empty name", entry("100644", ""), "empty entry name"},
		{"dot", entry("40000", "."), `"."`},
		{"dotdot", entry("40000", ".."), `".."`},
		{"dot git", entry("40000", ".git"), `".git"`},
		{"dot git any case", entry("40000", ".GiT"), `".GiT"`},
		{"slash", entry("100644", "a/b"), "slash"},
		{"duplicate", cat(entry("100644", "a"), entry("100644", "a")), "duplicate"},
		{"unsorted", cat(entry("100644", "b"), entry("100644", "a")), "out of order"},
		{"tree sorts as name/", cat(entry("40000", "a"), entry("100644", "a.b")), "out of order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseTree(tt.raw)
			if !errors.Is(err, errMalformedTree) {
				t.Fatalf("parseTree = %v, want errMalformedTree", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
	// Git's order puts "a.b" before the folder "a" (compared as "a/").
	if _, err := parseTree(cat(entry("100644", "a.b"), entry("40000", "a"))); err != nil {
		t.Errorf("well-ordered tree refused: %v", err)
	}
}

func FuzzParseTree(f *testing.F) {
	m := memTrees{}
	root := m.build(map[string]string{"a/b": "1", "c": "2", "d/e/f": "3"})
	f.Add(m[root])
	f.Add([]byte("100644 a\x00"))
	f.Add([]byte(""))
	f.Add(m[m.build(map[string]string{"a.b": "1", "a/c": "2", ".GIT_x": "3", "x/.gitx": "4"})])
	f.Fuzz(func(t *testing.T, raw []byte) {
		// The fast check and the entry-by-entry parser agree.
		if _, slowErr := parseTreeSlow(raw); validTree(raw) != (slowErr == nil) {
			t.Fatalf("validTree = %v, parseTreeSlow error %v", validTree(raw), slowErr)
		}
		parsed, err := parseTree(raw)
		if err != nil {
			if !errors.Is(err, errMalformedTree) {
				t.Fatalf("error %v is not errMalformedTree", err)
			}
			return
		}
		entries := parsed.entries()
		// What parses re-encodes to the same bytes (100664 is normalized).
		if enc := encodeTree(slices.Clone(entries)); !bytes.Equal(enc, raw) && !bytes.Contains(raw, []byte("100664 ")) {
			t.Fatalf("round trip changed the tree:\n%q\n%q", raw, enc)
		}
		for _, e := range entries {
			if err := checkEntryName(e.name); err != nil {
				t.Fatalf("accepted bad name %q", e.name)
			}
		}
	})
}
