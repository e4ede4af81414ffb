package provenance

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// stdlibInflate is the reference: compress/zlib read as pack.inflateStream
// reads an entry (exactly size bytes, then the end of the stream with a
// matching checksum).
func stdlibInflate(src []byte, size int) ([]byte, bool) {
	zr, err := zlib.NewReader(bytes.NewReader(src))
	if err != nil {
		return nil, false
	}
	out := make([]byte, size)
	if _, err := io.ReadFull(zr, out); err != nil {
		return nil, false
	}
	var one [1]byte
	if n, err := zr.Read(one[:]); n != 0 || err != io.EOF { //nolint:errorlint // as inflateStream
		return nil, false
	}
	return out, true
}

// checkInflate decodes src with both and fails on any difference: the
// same streams accepted, the same bytes out. src is the whole input, so
// running out of it is a refusal like any other.
func checkInflate(t *testing.T, src []byte, size int) bool {
	t.Helper()
	want, wantOK := stdlibInflate(src, size)
	var d inflater
	got := make([]byte, size)
	err := d.zlibInflate(got, src)
	if (err == nil) != wantOK {
		t.Fatalf("size %d, stream %x: compress/zlib accepts: %t, zlibInflate: %v", size, src, wantOK, err)
	}
	if wantOK && !bytes.Equal(got, want) {
		t.Fatalf("size %d, stream %x: zlibInflate gives %x, compress/zlib %x", size, src, got, want)
	}
	return wantOK
}

func zlibLevel(t testing.TB, b []byte, level int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevel(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sampleContent is data like pack entries hold, of every compressibility:
// text, binary noise, runs, and mixtures.
func sampleContent(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	switch rng.IntN(4) {
	case 0: // text from a small alphabet
		for i := range b {
			b[i] = "abcdefgh \n:/0123456789"[rng.IntN(21)]
		}
	case 1: // noise
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
	case 2: // runs
		for i := 0; i < n; {
			c, r := byte(rng.Uint32()), 1+rng.IntN(300)
			for ; r > 0 && i < n; r-- {
				b[i] = c
				i++
			}
		}
	default: // repeated chunks of noise with edits
		chunk := make([]byte, 1+rng.IntN(64))
		for i := range chunk {
			chunk[i] = byte(rng.Uint32())
		}
		for i := range b {
			b[i] = chunk[i%len(chunk)]
			if rng.IntN(20) == 0 {
				b[i] = byte(rng.Uint32())
			}
		}
	}
	return b
}

// TestZlibInflateMatchesStdlib runs both decoders over streams of every
// compression level (stored, fixed and dynamic blocks, long matches,
// sizes past one block and the 32 KiB window) and over damaged copies:
// truncated, with flipped bits, with the wrong size expected.
func TestZlibInflateMatchesStdlib(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	levels := []int{flate.NoCompression, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression, flate.HuffmanOnly}
	sizes := []int{0, 1, 2, 57, 300, 700, 3400, 70_000}
	accepted, refused := 0, 0
	for _, size := range sizes {
		for range 6 {
			content := sampleContent(rng, size)
			for _, level := range levels {
				src := zlibLevel(t, content, level)
				if !checkInflate(t, src, size) {
					t.Fatalf("level %d, %d bytes: compress/zlib refuses its own stream", level, size)
				}
				accepted++
				var d inflater
				got := make([]byte, size)
				if err := d.zlibInflate(got, src); err != nil || !bytes.Equal(got, content) {
					t.Fatalf("level %d, %d bytes: %v", level, size, err)
				}
				// Damaged copies.
				for _, s := range []int{size - 1, size + 1} {
					if s >= 0 && checkInflate(t, src, s) {
						t.Fatalf("size %d accepted for a stream of %d bytes", s, size)
					}
				}
				for range 4 {
					if checkInflate(t, src[:rng.IntN(len(src))], size) {
						t.Fatal("a truncated stream was accepted")
					}
					bad := bytes.Clone(src)
					bad[rng.IntN(len(bad))] ^= 1 << rng.IntN(8)
					if checkInflate(t, bad, size) {
						accepted++
					} else {
						refused++
					}
				}
			}
		}
	}
	t.Logf("%d streams accepted, %d refused", accepted, refused)
}

// TestZlibInflateErrors names the refusals of hand-made streams.
func TestZlibInflateErrors(t *testing.T) {
	ok := zlibLevel(t, []byte("hello, hello, hello"), flate.BestCompression)
	for _, tc := range []struct {
		name string
		src  []byte
		size int
		want error
	}{
		{"bad header", append([]byte{0x78, 0x9d}, ok[2:]...), 19, zlib.ErrHeader},
		{"preset dictionary", []byte{0x78, 0xbb, 0, 0, 0, 1}, 0, zlib.ErrDictionary},
		{"checksum", append(bytes.Clone(ok[:len(ok)-1]), ok[len(ok)-1]^1), 19, zlib.ErrChecksum},
		{"longer", ok, 18, errInflateLonger},
		{"shorter", ok, 20, errInflateShorter},
		{"truncated", ok[:len(ok)-5], 19, errInflateShort},
		{"reserved block type", []byte{0x78, 0x01, 0x07}, 0, errInflateCorrupt},
		{"stored length check", []byte{0x78, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 'x'}, 1, errInflateCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d inflater
			err := d.zlibInflate(make([]byte, tc.size), tc.src)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if _, accepted := stdlibInflate(tc.src, tc.size); accepted {
				t.Fatal("compress/zlib accepts it")
			}
		})
	}
}

// FuzzZlibInflate: zlibInflate accepts exactly the streams compress/zlib
// accepts (read as an entry of size bytes) and gives the same bytes.
func FuzzZlibInflate(f *testing.F) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, level := range []int{flate.NoCompression, flate.BestSpeed, flate.BestCompression, flate.HuffmanOnly} {
		for _, size := range []int{0, 5, 300, 2000} {
			content := sampleContent(rng, size)
			f.Add(zlibLevel(f, content, level), uint16(size)) //nolint:gosec // small
		}
	}
	f.Add([]byte{0x78, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}, uint16(0))
	f.Fuzz(func(t *testing.T, src []byte, size uint16) {
		checkInflate(t, src, int(size))
	})
}
