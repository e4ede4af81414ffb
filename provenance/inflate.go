package provenance

import (
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/adler32"
	"math/bits"
	"sync"
)

// A zlib decoder for pack entries that lie whole in the bytes at hand.
//
// A verification inflates four small zlib streams per commit (the commit
// and three trees or deltas, a few hundred bytes each). compress/zlib
// spends most of its time there on what each stream costs before its first
// byte: resetting a decoder of several kilobytes, building Huffman tables
// (allocating overflow tables for codes longer than nine bits) and reading
// the input through an interface call per byte. That was a quarter of a
// walk's CPU. This decoder reads from a byte slice, builds a table of 512
// entries per code and decodes the rare longer codes bit by bit.
//
// It accepts exactly the streams that compress/zlib accepts when read as
// pack.inflate reads them (FuzzZlibInflate checks it), and produces the
// same bytes. When the slice ends before the stream, the caller inflates
// with compress/zlib instead, which reads on from the pack.

var (
	// errInflateShort: the stream runs past the end of the slice.
	errInflateShort = errors.New("zlib stream runs past the bytes read")
	// errInflateCorrupt: the DEFLATE data is malformed.
	errInflateCorrupt = errors.New("malformed deflate data")
	// errInflateLonger: the stream holds more bytes than the entry's header
	// says.
	errInflateLonger = errors.New("longer than its header says")
	// errInflateShorter: the stream ends before it produced the entry's
	// bytes.
	errInflateShorter = errors.New("shorter than its header says")
)

// huffBits is the most bits a code table resolves in one lookup. Tables
// of the short codes (code lengths, distances) use fewer: filling the
// table is much of what a small stream costs.
const (
	huffBits     = 9
	codeLenBits  = 7 // code length codes are at most 7 bits long
	distFastBits = 7
)

// huffTable decodes one canonical Huffman code (RFC 1951, 3.2.2).
type huffTable struct {
	// fast holds, for every value of the next fastBits bits, the symbol
	// whose code they start with and the code's length (sym<<4 | len);
	// 0 where a longer code, or none, starts.
	fast [1 << huffBits]uint16
	mask uint64 // 1<<fastBits - 1
	// count is how many codes have each length; symbol lists the
	// symbols in code order: together they decode any code bit by bit.
	count  [16]uint16
	symbol [288]uint16
}

// init builds the table from code lengths. It refuses what compress/flate
// refuses: codes that are over-subscribed or incomplete, except a single
// code of length one. No lengths at all make an empty table, which fails
// when used.
func (h *huffTable) init(lengths []uint8, fastBits uint) bool {
	// Two histograms, summed after: increments of one counter in a row
	// wait on each other through memory, and most lengths repeat.
	var c0, c1 [16]uint16
	i := 0
	for ; i+1 < len(lengths); i += 2 {
		c0[lengths[i]&15]++
		c1[lengths[i+1]&15]++
	}
	if i < len(lengths) {
		c0[lengths[i]&15]++
	}
	for n := range h.count {
		h.count[n] = c0[n] + c1[n]
	}
	h.count[0] = 0
	code, maxLen := 0, 0
	var next [16]int
	for n := 1; n < 16; n++ {
		code <<= 1
		next[n] = code
		code += int(h.count[n])
		if h.count[n] != 0 {
			maxLen = n
		}
	}
	h.mask = 1<<fastBits - 1
	fast := h.fast[:1<<fastBits]
	clear(fast)
	if maxLen == 0 {
		return true
	}
	// code is the number of codes scaled to length 15: a complete code
	// fills all 2^15 of them. The scaling leaves the test as flate makes
	// it (code == 1<<max at the longest length).
	if code != 1<<15 && (maxLen != 1 || h.count[1] != 1) {
		return false
	}
	var offs [16]uint16
	for n := 1; n < 15; n++ {
		offs[n+1] = offs[n] + h.count[n]
	}
	for sym, n := range lengths {
		if n == 0 {
			continue
		}
		h.symbol[offs[n]] = uint16(sym) //nolint:gosec // at most 288 symbols
		offs[n]++
		c := next[n]
		next[n]++
		if uint(n) > fastBits {
			continue
		}
		// Codes are sent most significant bit first, into the low bits.
		rev := int(bits.Reverse16(uint16(c)) >> (16 - n)) //nolint:gosec // c < 2^n
		e := uint16(sym)<<4 | uint16(n)                   //nolint:gosec // sym < 288, n < 16
		for i := rev; i < len(fast); i += 1 << n {
			fast[i] = e
		}
	}
	return true
}

// inflater is the state of one decoding. It is kept with its pack so the
// tables are not allocated per stream.
type inflater struct {
	src  []byte
	pos  int    // next byte of src to load
	bits uint64 // loaded bits not yet used, the next one lowest
	nb   uint   // how many
	dst  []byte
	n    int // bytes written to dst

	codeLen, lit, dist huffTable
	lengths            [286 + 30]uint8
}

// zlibInflate decodes the zlib stream at the start of src into dst, which
// must be exactly as long as the stream's content. Bytes after the
// stream's checksum are ignored. errInflateShort means src ended first.
func (d *inflater) zlibInflate(dst, src []byte) error {
	if len(src) < 2 {
		return errInflateShort
	}
	h := uint(src[0])<<8 | uint(src[1])
	if h&0x0f00 != 8<<8 || h>>12 > 7 || h%31 != 0 {
		return zlib.ErrHeader
	}
	if h&0x20 != 0 {
		return zlib.ErrDictionary
	}
	d.src, d.pos, d.bits, d.nb, d.dst, d.n = src, 2, 0, 0, dst, 0
	defer func() { d.src, d.dst = nil, nil }()
	if err := d.blocks(); err != nil {
		return err
	}
	if d.n != len(dst) {
		return errInflateShorter
	}
	d.toByte()
	if len(src)-d.pos < 4 {
		return errInflateShort
	}
	if binary.BigEndian.Uint32(src[d.pos:]) != adler32.Checksum(dst) {
		return zlib.ErrChecksum
	}
	return nil
}

// blocks decodes DEFLATE blocks up to the final one.
func (d *inflater) blocks() error {
	for {
		if !d.need(3) {
			return errInflateShort
		}
		final := d.take(1) == 1
		var err error
		switch d.take(2) {
		case 0:
			err = d.stored()
		case 1:
			fixed := fixedTables()
			err = d.codes(&fixed.lit, &fixed.dist)
		case 2:
			if err = d.dynamic(); err == nil {
				err = d.codes(&d.lit, &d.dist)
			}
		default:
			err = errInflateCorrupt
		}
		if err != nil {
			return err
		}
		if final {
			return nil
		}
	}
}

// refill loads whole bytes while at least one fits. Eight bytes are
// loaded at once when there are eight (as libdeflate does): the bytes that
// fit whole count as loaded; the low bits of the next one land above them,
// where that byte goes when it is loaded, so they are the same bits.
func (d *inflater) refill() {
	if d.pos+8 <= len(d.src) {
		d.bits |= binary.LittleEndian.Uint64(d.src[d.pos:]) << d.nb
		d.pos += int((63 - d.nb) >> 3) //nolint:gosec // at most 7
		d.nb |= 56
		return
	}
	for d.nb <= 56 && d.pos < len(d.src) {
		d.bits |= uint64(d.src[d.pos]) << d.nb
		d.pos++
		d.nb += 8
	}
}

// need reports whether n bits (at most 57) are loaded, loading them.
func (d *inflater) need(n uint) bool {
	if d.nb < n {
		d.refill()
	}
	return d.nb >= n
}

// take uses n loaded bits.
func (d *inflater) take(n uint) int {
	v := int(d.bits & (1<<n - 1)) //nolint:gosec // n bits
	d.bits >>= n
	d.nb -= n
	return v
}

// toByte drops the bits left of the current byte and gives back the
// whole bytes loaded but not used: what follows starts at d.pos.
func (d *inflater) toByte() {
	d.pos -= int(d.nb / 8) //nolint:gosec // at most 8
	d.bits, d.nb = 0, 0
}

// sym decodes one symbol with h.
func (d *inflater) sym(h *huffTable) (int, error) {
	if d.nb < 15 {
		d.refill()
	}
	if e := h.fast[d.bits&h.mask&(1<<huffBits-1)]; e != 0 {
		n := uint(e & 15)
		if n > d.nb {
			return 0, errInflateShort
		}
		d.bits >>= n
		d.nb -= n
		return int(e >> 4), nil
	}
	// A code longer than huffBits (or none): canonical decoding, a bit at
	// a time. first is the first code of length n, index the position of
	// its symbol.
	code, first, index := 0, 0, 0
	b := d.bits
	for n := uint(1); n < 16; n++ {
		if n > d.nb {
			return 0, errInflateShort
		}
		code |= int(b & 1)
		b >>= 1
		count := int(h.count[n])
		if code-first < count {
			d.bits >>= n
			d.nb -= n
			return int(h.symbol[index+code-first]), nil
		}
		index += count
		first = (first + count) << 1
		code <<= 1
	}
	return 0, errInflateCorrupt
}

// stored copies an uncompressed block.
func (d *inflater) stored() error {
	d.toByte()
	src := d.src[d.pos:]
	if len(src) < 4 {
		return errInflateShort
	}
	n := int(binary.LittleEndian.Uint16(src))
	if binary.LittleEndian.Uint16(src[2:]) != ^uint16(n) { //nolint:gosec // 16 bits
		return errInflateCorrupt
	}
	if n > len(d.dst)-d.n {
		return errInflateLonger
	}
	if n > len(src)-4 {
		return errInflateShort
	}
	d.n += copy(d.dst[d.n:], src[4:4+n])
	d.pos += 4 + n
	return nil
}

// codeOrder is the order of the code length code's lengths.
var codeOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// dynamic reads a block's code tables into d.lit and d.dist.
func (d *inflater) dynamic() error {
	if !d.need(14) {
		return errInflateShort
	}
	nlit := d.take(5) + 257
	ndist := d.take(5) + 1
	nclen := d.take(4) + 4
	if nlit > 286 || ndist > 30 {
		return errInflateCorrupt
	}
	var cl [19]uint8
	for i := range nclen {
		if !d.need(3) {
			return errInflateShort
		}
		cl[codeOrder[i]] = uint8(d.take(3)) //nolint:gosec // 3 bits
	}
	if !d.codeLen.init(cl[:], codeLenBits) {
		return errInflateCorrupt
	}
	lengths := d.lengths[:nlit+ndist]
	for i := 0; i < len(lengths); {
		x, err := d.sym(&d.codeLen)
		if err != nil {
			return err
		}
		if x < 16 {
			lengths[i] = uint8(x) //nolint:gosec // < 16
			i++
			continue
		}
		rep, nb, val := 3, uint(2), uint8(0)
		switch x {
		case 16:
			if i == 0 {
				return errInflateCorrupt
			}
			val = lengths[i-1]
		case 17:
			nb = 3
		default: // 18
			rep, nb = 11, 7
		}
		if !d.need(nb) {
			return errInflateShort
		}
		rep += d.take(nb)
		if i+rep > len(lengths) {
			return errInflateCorrupt
		}
		for range rep {
			lengths[i] = val
			i++
		}
	}
	if !d.lit.init(lengths[:nlit], huffBits) || !d.dist.init(lengths[nlit:], distFastBits) {
		return errInflateCorrupt
	}
	return nil
}

// Base lengths and extra bits of length symbols 257 to 285.
var (
	lengthBase = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
		35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
		3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
)

// codes decodes a compressed block's data with the given tables.
func (d *inflater) codes(lit, dist *huffTable) error {
	for {
		// sym's first lookup, inlined for literals: most symbols are.
		if d.nb < 15 {
			d.refill()
		}
		e := lit.fast[d.bits&lit.mask&(1<<huffBits-1)]
		if n := uint(e & 15); e>>4 < 256 && n != 0 && n <= d.nb {
			if d.n == len(d.dst) {
				return errInflateLonger
			}
			d.bits >>= n
			d.nb -= n
			d.dst[d.n] = byte(e >> 4)
			d.n++
			continue
		}
		sym, err := d.sym(lit)
		if err != nil {
			return err
		}
		if sym < 256 {
			if d.n == len(d.dst) {
				return errInflateLonger
			}
			d.dst[d.n] = byte(sym) //nolint:gosec // sym < 256
			d.n++
			continue
		}
		if sym == 256 {
			return nil
		}
		sym -= 257
		if sym >= len(lengthBase) {
			return errInflateCorrupt
		}
		length := int(lengthBase[sym])
		if nb := uint(lengthExtra[sym]); nb > 0 {
			if !d.need(nb) {
				return errInflateShort
			}
			length += d.take(nb)
		}
		ds, err := d.sym(dist)
		if err != nil {
			return err
		}
		if ds >= 30 {
			return errInflateCorrupt
		}
		distance := ds + 1
		if ds >= 4 {
			nb := uint(ds-2) >> 1 //nolint:gosec // ds >= 4
			if !d.need(nb) {
				return errInflateShort
			}
			distance = 1<<(nb+1) + 1 + (ds&1)<<nb + d.take(nb)
		}
		if distance > d.n {
			return errInflateCorrupt
		}
		if length > len(d.dst)-d.n {
			return errInflateLonger
		}
		d.copyBack(distance, length)
	}
}

// copyBack appends length bytes starting distance bytes back; the source
// may overlap what is written (a run).
func (d *inflater) copyBack(distance, length int) {
	out := d.dst[d.n : d.n+length]
	from := d.dst[d.n-distance:]
	if distance >= length {
		copy(out, from[:length])
	} else {
		for i := range out {
			out[i] = from[i]
		}
	}
	d.n += length
}

// fixedCodes are the tables of RFC 1951's fixed Huffman codes.
type fixedCodes struct {
	lit, dist huffTable
}

// fixedTables builds them on first use (most commands never inflate).
var fixedTables = sync.OnceValue(func() *fixedCodes {
	var lengths [288]uint8
	for i := range lengths {
		switch {
		case i < 144:
			lengths[i] = 8
		case i < 256:
			lengths[i] = 9
		case i < 280:
			lengths[i] = 7
		default:
			lengths[i] = 8
		}
	}
	f := &fixedCodes{}
	f.lit.init(lengths[:], huffBits)
	var dist [32]uint8
	for i := range dist {
		dist[i] = 5
	}
	f.dist.init(dist[:], distFastBits)
	return f
})
