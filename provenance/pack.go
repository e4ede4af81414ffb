package provenance

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"path"
	"strings"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// A fast path for reading objects from packfiles. go-git's packfile reader
// allocates and caches generously per object; verification reads a few
// small objects per commit, tens of thousands of times, and that overhead
// was most of its cost besides the signature checks. This reader parses the
// pack index (version 2) itself, reads entries with positioned reads,
// resolves delta chains iteratively with a small cache of delta bases, and
// checks every length against the caller's limit. Anything it does not
// handle (an index of another version, an object it cannot find) falls back
// to go-git, which also serves loose objects and alternates.

var errPackCorrupt = errors.New("corrupt packfile")

// Bounds on the work one object read may cause.
const (
	// maxDeltaChain: git writes chains of depth 50 by default and 250 with
	// --aggressive in old versions; anything far longer is not from git.
	maxDeltaChain = 4096
	// maxDeltaBase bounds intermediate objects of a delta chain, which
	// may be larger than the object finally read.
	maxDeltaBase = 128 << 20
	// baseCacheBytes is the memory the delta base cache may hold.
	baseCacheBytes = 16 << 20
	// maxCachedBase: larger bases are not cached.
	maxCachedBase = 1 << 20
)

// packSet is every packfile of a repository with a usable index.
type packSet struct {
	packs []*pack
	cache *baseCache
	// deltaBuf is reused for inflated deltas, which live only until
	// they are applied.
	deltaBuf []byte
}

// maxDeltaBuf: a larger delta gets a buffer of its own, not kept.
const maxDeltaBuf = 1 << 20

type pack struct {
	name   string
	f      billy.File
	size   int64
	n      int
	fanout [256]uint32
	hashes []byte        // n * 20, sorted
	offs   []byte        // n * 4
	offs64 []byte        // 8 each
	infl   inflater      // decodes entries that lie whole in the window
	zr     io.ReadCloser // and streams the others
	stream packStream    // the zlib reader's source, reset for each entry
	// win caches the bytes at winOff: an entry's header and the start of
	// its data usually arrive with one positioned read.
	win    []byte
	winOff int64
}

// packWindow is the read size: most commits and trees fit in it whole.
const packWindow = 8 << 10

// window returns the pack's bytes from off on (at least one byte, up to
// packWindow), reading when off is outside the cached window.
func (p *pack) window(off int64) ([]byte, error) {
	if off >= p.winOff && off < p.winOff+int64(len(p.win)) {
		return p.win[off-p.winOff:], nil
	}
	if off >= p.size {
		return nil, io.ErrUnexpectedEOF
	}
	if cap(p.win) < packWindow {
		p.win = make([]byte, packWindow)
	}
	n, err := p.f.ReadAt(p.win[:min(int64(packWindow), p.size-off)], off)
	if n == 0 {
		p.win = p.win[:0]
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	p.win, p.winOff = p.win[:n], off
	return p.win, nil
}

// packStream reads the pack sequentially from pos through the window; it is
// an io.ByteReader, so flate reads it without another buffer. buf is the
// window's remainder: flate asks for one byte at a time, and taking it from
// a slice is what keeps that cheap. Only the stream moves the window while
// it is read, so buf stays valid.
type packStream struct {
	p   *pack
	pos int64  // pack offset of buf[0]
	buf []byte // the window's bytes from pos on
}

func (r *packStream) fill() error {
	if len(r.buf) > 0 {
		return nil
	}
	w, err := r.p.window(r.pos)
	if err != nil {
		return err
	}
	r.buf = w
	return nil
}

func (r *packStream) Read(b []byte) (int, error) {
	if err := r.fill(); err != nil {
		return 0, err
	}
	n := copy(b, r.buf)
	r.buf = r.buf[n:]
	r.pos += int64(n)
	return n, nil
}

func (r *packStream) ReadByte() (byte, error) {
	if len(r.buf) == 0 {
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
	c := r.buf[0]
	r.buf = r.buf[1:]
	r.pos++
	return c, nil
}

// openPacks indexes the packfiles under objects/pack of fs. A pack whose
// index it cannot use is skipped (go-git reads it instead).
func openPacks(fs billy.Filesystem) *packSet {
	dir := path.Join("objects", "pack")
	infos, err := fs.ReadDir(dir)
	if err != nil {
		return nil
	}
	set := &packSet{cache: newBaseCache(baseCacheBytes)}
	for _, fi := range infos {
		name := fi.Name()
		if !strings.HasPrefix(name, "pack-") || !strings.HasSuffix(name, ".idx") {
			continue
		}
		base := strings.TrimSuffix(name, ".idx")
		p, err := openPack(fs, path.Join(dir, base))
		if err != nil {
			continue
		}
		set.packs = append(set.packs, p)
	}
	return set
}

func (s *packSet) close() {
	if s == nil {
		return
	}
	for _, p := range s.packs {
		_ = p.f.Close()
	}
	s.packs = nil
}

// maxIdxSize bounds the index read into memory: 28 bytes per object plus
// 8 per large offset; 1 GiB indexes ~38 million objects.
const maxIdxSize = 1 << 30

func openPack(fs billy.Filesystem, base string) (*pack, error) {
	idxInfo, err := fs.Stat(base + ".idx")
	if err != nil {
		return nil, err
	}
	if idxInfo.Size() > maxIdxSize {
		return nil, fmt.Errorf("%w: %s.idx is larger than %d bytes", errPackCorrupt, base, maxIdxSize)
	}
	idxFile, err := fs.Open(base + ".idx")
	if err != nil {
		return nil, err
	}
	idx := make([]byte, idxInfo.Size())
	_, err = io.ReadFull(idxFile, idx)
	_ = idxFile.Close()
	if err != nil {
		return nil, err
	}
	p, err := parseIdx(idx)
	if err != nil {
		return nil, err
	}
	f, err := fs.Open(base + ".pack")
	if err != nil {
		return nil, err
	}
	st, err := fs.Stat(base + ".pack")
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	p.name, p.f, p.size = base, f, st.Size()
	var hdr [12]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil || string(hdr[:4]) != "PACK" {
		_ = f.Close()
		return nil, fmt.Errorf("%w: %s: bad header", errPackCorrupt, base)
	}
	if v := binary.BigEndian.Uint32(hdr[4:]); v != 2 && v != 3 {
		_ = f.Close()
		return nil, fmt.Errorf("%w: %s: version %d", errPackCorrupt, base, v)
	}
	if int(binary.BigEndian.Uint32(hdr[8:])) != p.n {
		_ = f.Close()
		return nil, fmt.Errorf("%w: %s: object count differs from its index", errPackCorrupt, base)
	}
	return p, nil
}

// parseIdx decodes a version-2 pack index.
func parseIdx(b []byte) (*pack, error) {
	const hdr = 8 + 256*4
	if len(b) < hdr+40 || !bytes.Equal(b[:8], []byte{0xff, 't', 'O', 'c', 0, 0, 0, 2}) {
		return nil, fmt.Errorf("%w: not a version 2 pack index", errPackCorrupt)
	}
	p := &pack{}
	prev := uint32(0)
	for i := range p.fanout {
		v := binary.BigEndian.Uint32(b[8+i*4:])
		if v < prev {
			return nil, fmt.Errorf("%w: index fanout decreases", errPackCorrupt)
		}
		p.fanout[i], prev = v, v
	}
	n := int(p.fanout[255])
	rest := b[hdr : len(b)-40] // without the two trailing checksums
	if n > len(rest)/28 {
		return nil, fmt.Errorf("%w: index too short for %d objects", errPackCorrupt, n)
	}
	p.n = n
	p.hashes = rest[:n*20]
	p.offs = rest[n*24 : n*28] // after the hashes and the CRCs
	p.offs64 = rest[n*28:]
	if len(p.offs64)%8 != 0 {
		return nil, fmt.Errorf("%w: index has a partial large offset", errPackCorrupt)
	}
	return p, nil
}

// find returns the pack offset of object h.
func (p *pack) find(h plumbing.Hash) (int64, bool) {
	lo := 0
	if h[0] > 0 {
		lo = int(p.fanout[h[0]-1])
	}
	hi := int(p.fanout[h[0]])
	if hi > p.n || lo > hi {
		return 0, false
	}
	lo, hi = p.narrow(h, lo, hi)
	// Binary search on the first eight bytes, then the whole name.
	key := binary.BigEndian.Uint64(h[:])
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if p.less(mid, key, h) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	i := lo
	if i >= int(p.fanout[h[0]]) || !bytes.Equal(p.hashes[i*20:i*20+20], h[:]) {
		return 0, false
	}
	off := binary.BigEndian.Uint32(p.offs[i*4:])
	if off&0x80000000 == 0 {
		return int64(off), true
	}
	j := int(off & 0x7fffffff)
	if (j+1)*8 > len(p.offs64) {
		return 0, false
	}
	big := binary.BigEndian.Uint64(p.offs64[j*8:])
	if big > 1<<62 {
		return 0, false
	}
	return int64(big), true //nolint:gosec // bounded above
}

// less reports whether the i-th name of the index sorts before h, whose
// first eight bytes are key.
func (p *pack) less(i int, key uint64, h plumbing.Hash) bool {
	name := p.hashes[i*20 : i*20+20]
	c := binary.BigEndian.Uint64(name)
	return c < key || c == key && bytes.Compare(name, h[:]) < 0
}

// narrow returns a part of [lo, hi), the fanout bucket of h, where the
// binary search for h gives what it gives in the whole bucket. Object
// names are hashes, spread uniformly, so the bytes after the first
// estimate where h sits in its bucket, usually within a few names: from
// the estimate, a short scan over neighbouring names (adjacent in memory)
// brackets h. The bucket's binary search touches a cache line per step
// across the whole bucket, and with the index out of the cache those
// misses made the lookups a visible share of a walk. A scan that does not
// bracket h within maxScan names leaves the bucket to the binary search.
func (p *pack) narrow(h plumbing.Hash, lo, hi int) (int, int) {
	n := hi - lo
	if n <= 2*maxScan {
		return lo, hi
	}
	est, _ := bits.Mul64(binary.BigEndian.Uint64(h[1:]), uint64(n))
	i := lo + int(est) //nolint:gosec // est < n
	key := binary.BigEndian.Uint64(h[:])
	if p.less(i, key, h) {
		// h is after i: find the first name from i+1 on that is not less.
		for j := i + 1; j < hi && j <= i+maxScan; j++ {
			if !p.less(j, key, h) {
				return j, j
			}
		}
		if i+maxScan >= hi-1 {
			return hi, hi
		}
		return lo, hi
	}
	// h is at i or before: find the last name before i that is less.
	for j := i - 1; j >= lo && j >= i-maxScan; j-- {
		if p.less(j, key, h) {
			return j + 1, j + 1
		}
	}
	if i-maxScan <= lo {
		return lo, lo
	}
	return lo, hi
}

// maxScan bounds narrow's scan; in a bucket of n uniformly spread names
// the estimate is off by about sqrt(n)/2.
const maxScan = 32

// Object types as the pack format numbers them.
const (
	packCommit   = 1
	packTree     = 2
	packBlob     = 3
	packTag      = 4
	packOfsDelta = 6
	packRefDelta = 7
)

func packType(t plumbing.ObjectType) int {
	switch t {
	case plumbing.CommitObject:
		return packCommit
	case plumbing.TreeObject:
		return packTree
	case plumbing.BlobObject:
		return packBlob
	case plumbing.TagObject:
		return packTag
	}
	return 0
}

// lookup finds h in any pack.
func (s *packSet) lookup(h plumbing.Hash) (*pack, int64, bool) {
	for _, p := range s.packs {
		if off, ok := p.find(h); ok {
			return p, off, true
		}
	}
	return nil, 0, false
}

// read returns the content of object h if it is in a pack; found is false
// when it is not (the caller then asks go-git).
func (s *packSet) read(t plumbing.ObjectType, h plumbing.Hash, limit int64) (data []byte, found bool, err error) {
	p, off, ok := s.lookup(h)
	if !ok {
		return nil, false, nil
	}
	typ, data, err := s.resolve(p, off, limit)
	if err != nil {
		return nil, true, fmt.Errorf("read %s %s: %w", t, h, err)
	}
	if typ != packType(t) {
		return nil, true, fmt.Errorf("object %s is not a %s", h, t)
	}
	// data may sit in the base cache: it is shared, never modified (see
	// Repository.readObject).
	return data, true, nil
}

// entry is one step of a delta chain.
type entry struct {
	p      *pack
	off    int64
	typ    int
	size   int64
	dataAt int64 // where the zlib stream starts
}

// resolve reads the object at off, following its delta chain down to a
// base (or a cached object) and applying the deltas back up.
func (s *packSet) resolve(p *pack, off int64, limit int64) (int, []byte, error) {
	var chainBuf [8]entry // most chains are short: no allocation for them
	chain := chainBuf[:0]
	cur, curOff := p, off
	var baseType int
	var base []byte
	for {
		if c, ok := s.cache.get(cur, curOff); ok {
			baseType, base = c.typ, c.data
			break
		}
		if len(chain) >= maxDeltaChain {
			return 0, nil, fmt.Errorf("%w: delta chain longer than %d", errPackCorrupt, maxDeltaChain)
		}
		e, baseOff, baseHash, err := cur.header(curOff)
		if err != nil {
			return 0, nil, err
		}
		e.p = cur
		if (e.typ == packOfsDelta || e.typ == packRefDelta) && e.size > maxDeltaBase {
			return 0, nil, fmt.Errorf("%w: delta of %d bytes", errPackCorrupt, e.size)
		}
		chain = append(chain, e)
		switch e.typ {
		case packOfsDelta:
			curOff = baseOff
			continue
		case packRefDelta:
			bp, boff, ok := s.lookup(baseHash)
			if !ok {
				return 0, nil, fmt.Errorf("%w: delta base %s not in any pack", errPackCorrupt, baseHash)
			}
			cur, curOff = bp, boff
			continue
		}
		// A whole object: the bottom of the chain.
		chain = chain[:len(chain)-1]
		ceiling := int64(maxDeltaBase)
		if len(chain) == 0 {
			ceiling = limit
		}
		if e.size > ceiling {
			return 0, nil, fmt.Errorf("%w: %d bytes, more than the limit of %d", errObjectTooLarge, e.size, ceiling)
		}
		data, err := cur.inflate(e.dataAt, e.size, nil)
		if err != nil {
			return 0, nil, err
		}
		baseType, base = e.typ, data
		s.cache.put(cur, curOff, baseType, base)
		break
	}
	for i := len(chain) - 1; i >= 0; i-- {
		e := chain[i]
		delta, err := e.p.inflate(e.dataAt, e.size, s.deltaBuf)
		if err != nil {
			return 0, nil, err
		}
		if cap(delta) <= maxDeltaBuf {
			s.deltaBuf = delta[:0]
		}
		ceiling := int64(maxDeltaBase)
		if i == 0 {
			ceiling = limit
		}
		if base, err = applyDelta(base, delta, ceiling); err != nil {
			return 0, nil, err
		}
		s.cache.put(e.p, e.off, baseType, base)
	}
	if int64(len(base)) > limit {
		// Served from the cache, which holds objects read under other
		// limits.
		return 0, nil, fmt.Errorf("%w: %d bytes, more than the limit of %d", errObjectTooLarge, len(base), limit)
	}
	return baseType, base, nil
}

// maxEntryHeader: type/size varint (10 bytes for 64 bits) plus a 20-byte
// base hash or a 10-byte offset.
const maxEntryHeader = 32

// header decodes the entry header at off: its type, size (inflated length;
// for deltas the delta's length), where its data starts and its base.
func (p *pack) header(off int64) (e entry, baseOff int64, baseHash plumbing.Hash, err error) {
	if off < 12 || off >= p.size {
		return e, 0, baseHash, fmt.Errorf("%w: offset %d outside the pack", errPackCorrupt, off)
	}
	w, err := p.window(off)
	if err != nil {
		return e, 0, baseHash, fmt.Errorf("%w: entry at %d: %w", errPackCorrupt, off, err)
	}
	if len(w) < maxEntryHeader && off+int64(len(w)) < p.size {
		// The header straddles the window's end: read from off.
		p.win = p.win[:0]
		if w, err = p.window(off); err != nil {
			return e, 0, baseHash, fmt.Errorf("%w: entry at %d: %w", errPackCorrupt, off, err)
		}
	}
	b := w[:min(len(w), maxEntryHeader)]
	e.off = off
	e.typ = int(b[0]>>4) & 7
	size := uint64(b[0] & 0x0f)
	shift := uint(4)
	i := 1
	for b[i-1]&0x80 != 0 {
		if i >= len(b) || shift > 57 {
			return e, 0, baseHash, fmt.Errorf("%w: bad size at %d", errPackCorrupt, off)
		}
		size |= uint64(b[i]&0x7f) << shift
		shift += 7
		i++
	}
	if size > 1<<40 {
		return e, 0, baseHash, fmt.Errorf("%w: entry size %d at %d", errPackCorrupt, size, off)
	}
	e.size = int64(size) //nolint:gosec // bounded above
	switch e.typ {
	case packCommit, packTree, packBlob, packTag:
	case packOfsDelta:
		if i >= len(b) {
			return e, 0, baseHash, fmt.Errorf("%w: truncated delta offset at %d", errPackCorrupt, off)
		}
		c := b[i]
		i++
		rel := int64(c & 0x7f)
		for c&0x80 != 0 {
			if i >= len(b) || rel > 1<<55 {
				return e, 0, baseHash, fmt.Errorf("%w: bad delta offset at %d", errPackCorrupt, off)
			}
			c = b[i]
			i++
			rel = ((rel + 1) << 7) | int64(c&0x7f)
		}
		baseOff = off - rel
		if rel <= 0 || baseOff < 12 {
			return e, 0, baseHash, fmt.Errorf("%w: delta base outside the pack at %d", errPackCorrupt, off)
		}
	case packRefDelta:
		if i+20 > len(b) {
			return e, 0, baseHash, fmt.Errorf("%w: truncated delta base at %d", errPackCorrupt, off)
		}
		copy(baseHash[:], b[i:i+20])
		i += 20
	default:
		return e, 0, baseHash, fmt.Errorf("%w: unknown entry type %d at %d", errPackCorrupt, e.typ, off)
	}
	e.dataAt = off + int64(i)
	return e, baseOff, baseHash, nil
}

// inflate decompresses exactly size bytes of the zlib stream at off, into
// buf when it is large enough. The stream must end there, with its
// checksum, as git requires.
func (p *pack) inflate(off, size int64, buf []byte) ([]byte, error) {
	out := buf[:0]
	if int64(cap(out)) < size {
		out = make([]byte, size)
	}
	out = out[:size]
	// Most entries lie whole in the window (see inflater); the others are
	// streamed from the pack.
	for fresh := false; ; fresh = true {
		w, err := p.window(off)
		if err != nil {
			break
		}
		err = p.infl.zlibInflate(out, w)
		if err == nil {
			return out, nil
		}
		if !errors.Is(err, errInflateShort) {
			return nil, fmt.Errorf("%w: inflate at %d: %w", errPackCorrupt, off, err)
		}
		if fresh || p.winOff == off {
			break
		}
		p.win = p.win[:0] // read the window again, from off
	}
	return out, p.inflateStream(off, out)
}

// inflateStream is inflate through compress/zlib, reading on from the pack
// as far as the stream goes.
func (p *pack) inflateStream(off int64, out []byte) error {
	p.stream = packStream{p: p, pos: off}
	src := &p.stream
	var err error
	if p.zr == nil {
		p.zr, err = zlib.NewReader(src)
	} else {
		err = p.zr.(zlib.Resetter).Reset(src, nil)
	}
	if err != nil {
		return fmt.Errorf("%w: at %d: %w", errPackCorrupt, off, err)
	}
	if _, err := io.ReadFull(p.zr, out); err != nil {
		return fmt.Errorf("%w: inflate at %d: %w", errPackCorrupt, off, err)
	}
	// The stream must end here: io.EOF comes only after the checksum
	// matched.
	var one [1]byte
	n, err := p.zr.Read(one[:])
	if n != 0 {
		return fmt.Errorf("%w: entry at %d is %w", errPackCorrupt, off, errInflateLonger)
	}
	if err != io.EOF { //nolint:errorlint // zlib returns io.EOF itself
		return fmt.Errorf("%w: inflate at %d: %w", errPackCorrupt, off, err)
	}
	return nil
}

// applyDelta applies a git delta to base; the result may have at most
// ceiling bytes.
func applyDelta(base, delta []byte, ceiling int64) ([]byte, error) {
	srcSize, delta, err := deltaVarint(delta)
	if err != nil {
		return nil, err
	}
	if srcSize != uint64(len(base)) {
		return nil, fmt.Errorf("%w: delta expects a base of %d bytes, got %d", errPackCorrupt, srcSize, len(base))
	}
	dstSize, delta, err := deltaVarint(delta)
	if err != nil {
		return nil, err
	}
	if dstSize > uint64(ceiling) { //nolint:gosec // ceiling is positive
		return nil, fmt.Errorf("%w: %d bytes, more than the limit of %d", errObjectTooLarge, dstSize, ceiling)
	}
	out := make([]byte, 0, dstSize)
	for len(delta) > 0 {
		op := delta[0]
		delta = delta[1:]
		if op&0x80 == 0 {
			if op == 0 {
				return nil, fmt.Errorf("%w: delta opcode 0", errPackCorrupt)
			}
			n := int(op)
			if n > len(delta) || uint64(len(out)+n) > dstSize { //nolint:gosec // lengths are non-negative
				return nil, fmt.Errorf("%w: delta insert out of range", errPackCorrupt)
			}
			out = append(out, delta[:n]...)
			delta = delta[n:]
			continue
		}
		var offset, size uint64
		for i := range 4 {
			if op&(1<<i) != 0 {
				if len(delta) == 0 {
					return nil, fmt.Errorf("%w: truncated delta copy", errPackCorrupt)
				}
				offset |= uint64(delta[0]) << (8 * i)
				delta = delta[1:]
			}
		}
		for i := range 3 {
			if op&(0x10<<i) != 0 {
				if len(delta) == 0 {
					return nil, fmt.Errorf("%w: truncated delta copy", errPackCorrupt)
				}
				size |= uint64(delta[0]) << (8 * i)
				delta = delta[1:]
			}
		}
		if size == 0 {
			size = 0x10000
		}
		if offset+size > uint64(len(base)) || uint64(len(out))+size > dstSize {
			return nil, fmt.Errorf("%w: delta copy out of range", errPackCorrupt)
		}
		out = append(out, base[offset:offset+size]...)
	}
	if uint64(len(out)) != dstSize {
		return nil, fmt.Errorf("%w: delta produced %d bytes, declared %d", errPackCorrupt, len(out), dstSize)
	}
	return out, nil
}

func deltaVarint(b []byte) (uint64, []byte, error) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, b[i+1:], nil
		}
	}
	return 0, nil, fmt.Errorf("%w: bad delta size", errPackCorrupt)
}

// baseCache keeps recently resolved objects by pack position, bounded by
// bytes, so that walking consecutive versions of a tree resolves each delta
// once. Like lru it is generational (no allocation per entry): the current
// generation takes new entries until it holds half the byte budget, then it
// becomes the old one and the previous old one is dropped; a hit in the old
// generation moves the entry back.
type baseCache struct {
	half     int // bytes per generation
	curBytes int
	cur, old map[cacheKey]cached
}

type cacheKey struct {
	p   *pack
	off int64
}

type cached struct {
	typ  int
	data []byte
}

func newBaseCache(maxBytes int) *baseCache {
	return &baseCache{half: maxBytes / 2, cur: map[cacheKey]cached{}}
}

func (c *baseCache) get(p *pack, off int64) (cached, bool) {
	k := cacheKey{p, off}
	if v, ok := c.cur[k]; ok {
		return v, true
	}
	if v, ok := c.old[k]; ok {
		c.insert(k, v)
		return v, true
	}
	return cached{}, false
}

// put caches data; callers never modify it afterwards (readers get copies
// only when they ask for the object itself, see Repository.readObject).
func (c *baseCache) put(p *pack, off int64, typ int, data []byte) {
	if len(data) > maxCachedBase {
		return
	}
	k := cacheKey{p, off}
	if _, ok := c.cur[k]; ok {
		return
	}
	c.insert(k, cached{typ: typ, data: data})
}

func (c *baseCache) insert(k cacheKey, v cached) {
	if c.curBytes+len(v.data) > c.half && len(c.cur) > 0 {
		c.old, c.cur, c.curBytes = c.cur, make(map[cacheKey]cached, len(c.cur)), 0
	}
	c.cur[k] = v
	c.curBytes += len(v.data)
}
