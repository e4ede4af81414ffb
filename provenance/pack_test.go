package provenance

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
)

// gitObjects returns every object of the repository at dir with its type
// and content, as git itself reads them.
func gitObjects(t *testing.T, dir string) map[plumbing.Hash]struct {
	typ  plumbing.ObjectType
	data []byte
} {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "git", "-C", dir, "cat-file", "--batch-all-objects", "--batch")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git cat-file: %v", err)
	}
	objs := map[plumbing.Hash]struct {
		typ  plumbing.ObjectType
		data []byte
	}{}
	rd := bufio.NewReader(bytes.NewReader(out))
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			break
		}
		f := strings.Fields(line)
		size, _ := strconv.Atoi(f[2])
		data := make([]byte, size+1) // content and the newline after it
		if _, err := io.ReadFull(rd, data); err != nil {
			t.Fatal(err)
		}
		typ, _ := plumbing.ParseObjectType(f[1])
		objs[plumbing.NewHash(f[0])] = struct {
			typ  plumbing.ObjectType
			data []byte
		}{typ, data[:size]}
	}
	return objs
}

// TestPackReaderMatchesGit repacks a repository with deltas (offset and
// reference deltas) and reads every object through the pack reader.
func TestPackReaderMatchesGit(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"ofs-delta", []string{"repack", "-adfq", "--depth=20", "--window=50"}},
		{"ref-delta", []string{"-c", "repack.useDeltaBaseOffset=false", "repack", "-adfq", "--depth=20", "--window=50"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			git := func(args ...string) {
				t.Helper()
				cmd := exec.CommandContext(t.Context(), "git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@t"}, args...)...)
				cmd.Env = append(cmd.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("git %v: %v\n%s", args, err, out)
				}
			}
			git("init", "-q", "-b", "main")
			var content strings.Builder
			for i := range 40 {
				fmt.Fprintf(&content, "line %d of a file that grows so git finds deltas between its versions\n", i)
				writeTestFile(t, dir, fmt.Sprintf("dir%d/file.txt", i%4), content.String())
				writeTestFile(t, dir, "big.txt", strings.Repeat(content.String(), 3))
				git("add", "-A")
				git("commit", "-qm", fmt.Sprintf("commit %d", i))
			}
			git(tc.args...)
			packs := openPacks(osfs.New(dir + "/.git"))
			if packs == nil || len(packs.packs) != 1 {
				t.Fatalf("packs = %+v", packs)
			}
			defer packs.close()
			objs := gitObjects(t, dir)
			for h, o := range objs {
				data, found, err := packs.read(o.typ, h, 1<<20)
				if !found || err != nil {
					t.Fatalf("read %s %s: found %v, %v", o.typ, h, found, err)
				}
				if !bytes.Equal(data, o.data) {
					t.Fatalf("%s %s differs from git's", o.typ, h)
				}
			}
			// Limits apply to the object read, whether whole or a delta.
			for h, o := range objs {
				if len(o.data) < 100 {
					continue
				}
				if _, _, err := packs.read(o.typ, h, 50); !errors.Is(err, errObjectTooLarge) {
					t.Errorf("read %s with a 50-byte limit: %v", h, err)
				}
			}
			// A wrong type is refused.
			for h, o := range objs {
				if o.typ == plumbing.BlobObject {
					if _, _, err := packs.read(plumbing.CommitObject, h, 1<<20); err == nil {
						t.Errorf("blob %s read as a commit", h)
					}
					break
				}
			}
			if _, found, _ := packs.read(plumbing.BlobObject, plumbing.NewHash(strings.Repeat("ab", 20)), 10); found {
				t.Error("absent object found")
			}
		})
	}
}

func writeTestFile(t *testing.T, dir, name, content string) {
	t.Helper()
	full := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(full), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestApplyDelta(t *testing.T) {
	base := []byte("hello, world")
	// src 12, dst 11: copy "hello" (offset 0, size 5), insert " git!" (5),
	// copy "d" (offset 11, size 1).
	delta := []byte{12, 11, 0x90, 5, 5, ' ', 'g', 'i', 't', '!', 0x91, 11, 1}
	got, err := applyDelta(base, delta, 100)
	if err != nil || string(got) != "hello git!d" {
		t.Fatalf("applyDelta = %q, %v", got, err)
	}
	bad := []struct {
		name  string
		delta []byte
	}{
		{"wrong base size", []byte{11, 1, 1, 'x'}},
		{"opcode zero", []byte{12, 1, 0}},
		{"insert past the end", []byte{12, 5, 3, 'a'}},
		{"insert beyond declared", []byte{12, 1, 2, 'a', 'b'}},
		{"copy outside base", []byte{12, 5, 0x91, 10, 5}},
		{"truncated copy", []byte{12, 5, 0x91}},
		{"short result", []byte{12, 5, 1, 'a'}},
		{"bad varint", []byte{0x80, 0x80}},
		{"over the limit", []byte{12, 0xff, 0x01}},
	}
	for _, tt := range bad {
		if _, err := applyDelta(base, tt.delta, 100); !errors.Is(err, errPackCorrupt) && !errors.Is(err, errObjectTooLarge) {
			t.Errorf("%s: applyDelta = %v, want an error", tt.name, err)
		}
	}
}

func FuzzApplyDelta(f *testing.F) {
	f.Add([]byte("hello, world"), []byte{12, 11, 0x90, 5, 5, ' ', 'g', 'i', 't', '!', 0x91, 11, 1})
	f.Add([]byte(""), []byte{0, 0})
	f.Add([]byte("abc"), []byte{3, 3, 0x90, 0})
	f.Fuzz(func(t *testing.T, base, delta []byte) {
		out, err := applyDelta(base, delta, 1<<16)
		if err != nil {
			return
		}
		_, rest, _ := deltaVarint(delta)
		want, _, _ := deltaVarint(rest)
		if uint64(len(out)) != want {
			t.Fatalf("produced %d bytes, declared %d", len(out), want)
		}
	})
}

func FuzzParseIdx(f *testing.F) {
	idx := make([]byte, 8+256*4+40)
	copy(idx, []byte{0xff, 't', 'O', 'c', 0, 0, 0, 2})
	f.Add(idx)
	one := append([]byte{}, idx[:8+256*4]...)
	for i := 0; i < 256; i++ {
		binary.BigEndian.PutUint32(one[8+i*4:], 1)
	}
	one = append(one, bytes.Repeat([]byte{0xab}, 20)...)
	one = append(one, 0, 0, 0, 0, 0x80, 0, 0, 0)
	one = append(one, make([]byte, 40)...)
	f.Add(one)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseIdx(b)
		if err != nil {
			return
		}
		for _, h := range []plumbing.Hash{{}, plumbing.NewHash(strings.Repeat("ab", 20)), plumbing.NewHash(strings.Repeat("ff", 20))} {
			p.find(h)
		}
		for i := 0; i < p.n && i < 64; i++ {
			var h plumbing.Hash
			copy(h[:], p.hashes[i*20:])
			p.find(h)
		}
	})
}

// packWithOneEntry builds a pack whose single indexed object (hash h, at
// offset 12) has the given raw entry bytes, and its version-2 index.
func packWithOneEntry(entry []byte, h plumbing.Hash) (pack, idx []byte) {
	pack = append([]byte("PACK\x00\x00\x00\x02\x00\x00\x00\x01"), entry...)
	pack = append(pack, make([]byte, 20)...)
	idx = []byte{0xff, 't', 'O', 'c', 0, 0, 0, 2}
	for i := range 256 {
		n := uint32(0)
		if i >= int(h[0]) {
			n = 1
		}
		idx = binary.BigEndian.AppendUint32(idx, n)
	}
	idx = append(idx, h[:]...)
	idx = append(idx, 0, 0, 0, 0)  // crc
	idx = append(idx, 0, 0, 0, 12) // offset
	idx = append(idx, make([]byte, 40)...)
	return pack, idx
}

func zlibBytes(b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func FuzzPackEntry(f *testing.F) {
	// A blob "hello" (type 3, size 5), an offset delta pointing before the
	// pack, a reference delta to itself, a truncated stream.
	f.Add(append([]byte{0x35}, zlibBytes([]byte("hello"))...))
	f.Add(append([]byte{0x65, 0x0c}, zlibBytes([]byte{5, 5, 0x90, 5})...))
	f.Add(append(append([]byte{0x75}, bytes.Repeat([]byte{0xab}, 20)...), zlibBytes([]byte{5, 5, 0x90, 5})...))
	f.Add([]byte{0x35, 0x78})
	f.Add([]byte{0xb5, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	h := plumbing.NewHash(strings.Repeat("ab", 20))
	f.Fuzz(func(t *testing.T, entry []byte) {
		packData, idx := packWithOneEntry(entry, h)
		fs := memfs.New()
		for name, data := range map[string][]byte{"objects/pack/pack-x.pack": packData, "objects/pack/pack-x.idx": idx} {
			fh, err := fs.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = fh.Write(data)
			_ = fh.Close()
		}
		packs := openPacks(fs)
		if packs == nil || len(packs.packs) != 1 {
			t.Fatal("pack not opened")
		}
		defer packs.close()
		data, found, err := packs.read(plumbing.BlobObject, h, 1<<16)
		if !found {
			t.Fatal("indexed object not found")
		}
		if err == nil && len(data) > 1<<16 {
			t.Fatalf("read %d bytes over the limit", len(data))
		}
	})
}

func TestPackEntryMalformed(t *testing.T) {
	h := plumbing.NewHash(strings.Repeat("ab", 20))
	tests := []struct {
		name  string
		entry []byte
		want  error
	}{
		{"offset delta before the pack", append([]byte{0x65, 0x0c}, zlibBytes([]byte{5, 5, 0x90, 5})...), errPackCorrupt},
		{"delta base missing", append(append([]byte{0x75}, bytes.Repeat([]byte{0xcd}, 20)...), zlibBytes([]byte{5, 5})...), errPackCorrupt},
		{"delta base is itself", append(append([]byte{0x75}, h[:]...), zlibBytes([]byte{5, 5})...), errPackCorrupt},
		{"truncated stream", []byte{0x35, 0x78}, errPackCorrupt},
		{"longer than declared", append([]byte{0x33}, zlibBytes([]byte("hello"))...), errPackCorrupt},
		{"unknown type", append([]byte{0x05}, zlibBytes([]byte("hello"))...), errPackCorrupt},
		{"over the limit", append([]byte{0xb5, 0x7f}, zlibBytes(bytes.Repeat([]byte("x"), 2037))...), errObjectTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			packData, idx := packWithOneEntry(tt.entry, h)
			fs := memfs.New()
			for name, data := range map[string][]byte{"objects/pack/pack-x.pack": packData, "objects/pack/pack-x.idx": idx} {
				fh, _ := fs.Create(name)
				_, _ = fh.Write(data)
				_ = fh.Close()
			}
			packs := openPacks(fs)
			defer packs.close()
			_, found, err := packs.read(plumbing.BlobObject, h, 1000)
			if !found || !errors.Is(err, tt.want) {
				t.Errorf("read = found %v, %v; want %v", found, err, tt.want)
			}
		})
	}
}

// TestFindNarrowed checks the index lookup, whose search starts from an
// estimate of where a name sits, against a plain search: every name of a
// large index is found at its own position, names that are absent are
// not, including ones next to present names and at bucket edges, and
// buckets far from uniform (one clump of similar names) still work.
func TestFindNarrowed(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var names []plumbing.Hash
	for range 60_000 {
		var h plumbing.Hash
		for i := range h {
			h[i] = byte(rng.Uint32())
		}
		names = append(names, h)
	}
	// A clump: 500 names in bucket 0x42 that agree on eight more bytes.
	for i := range 500 {
		h := plumbing.Hash{0x42, 1, 2, 3, 4, 5, 6, 7, 8}
		binary.BigEndian.PutUint32(h[16:], uint32(i)*7919) //nolint:gosec // small
		names = append(names, h)
	}
	slices.SortFunc(names, func(a, b plumbing.Hash) int { return bytes.Compare(a[:], b[:]) })
	names = slices.Compact(names)
	p, err := parseIdx(indexOf(names))
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range names {
		off, ok := p.find(h)
		if !ok || off != int64(i+12) {
			t.Fatalf("name %d (%s): got %d, %t", i, h, off, ok)
		}
		for _, d := range []int{-1, 1} {
			near := h
			near[19] += byte(d)
			if _, found := slices.BinarySearchFunc(names, near, func(a, b plumbing.Hash) int { return bytes.Compare(a[:], b[:]) }); found {
				continue
			}
			if off, ok := p.find(near); ok {
				t.Fatalf("absent name %s found at %d", near, off)
			}
		}
	}
	for _, h := range []plumbing.Hash{{}, {0x42}, {0x42, 1, 2, 3, 4, 5, 6, 7, 9}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}} {
		if _, found := slices.BinarySearchFunc(names, h, func(a, b plumbing.Hash) int { return bytes.Compare(a[:], b[:]) }); found {
			continue
		}
		if off, ok := p.find(h); ok {
			t.Fatalf("absent name %s found at %d", h, off)
		}
	}
}

// indexOf builds a version-2 pack index of sorted names; the i-th name's
// offset is 12+i.
func indexOf(names []plumbing.Hash) []byte {
	idx := []byte{0xff, 't', 'O', 'c', 0, 0, 0, 2}
	for b := range 256 {
		n, _ := slices.BinarySearchFunc(names, plumbing.Hash{byte(b) + 1}, func(a, b plumbing.Hash) int { return bytes.Compare(a[:], b[:]) })
		if b == 255 {
			n = len(names)
		}
		idx = binary.BigEndian.AppendUint32(idx, uint32(n)) //nolint:gosec // small
	}
	for _, h := range names {
		idx = append(idx, h[:]...)
	}
	idx = append(idx, make([]byte, 4*len(names))...) // crcs
	for i := range names {
		idx = binary.BigEndian.AppendUint32(idx, uint32(i+12)) //nolint:gosec // small
	}
	return append(idx, make([]byte, 40)...)
}
