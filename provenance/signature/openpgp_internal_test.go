package signature

import (
	"bytes"
	"encoding/hex"
	"os"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func fixtureArmor(tb testing.TB) []byte {
	tb.Helper()
	raw, err := os.ReadFile("testdata/openpgp.commit")
	if err != nil {
		tb.Fatal(err)
	}
	c, err := ParseCommit(raw)
	if err != nil {
		tb.Fatal(err)
	}
	return bytes.TrimRight(c.Signature, " \t\r\n")
}

func TestPlainArmorBody(t *testing.T) {
	block := fixtureArmor(t)
	want, err := armorBody(block)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := plainArmorBody(block)
	if !ok || !bytes.Equal(got, want) {
		t.Fatalf("plainArmorBody of gpg's armor = %v, %x; want %x", ok, got, want)
	}
	declines(t, "plainArmorBody", plainArmorBody, []namedInput{
		{"header line", bytes.Replace(block, []byte("-----\n\n"), []byte("-----\nComment: x\n\n"), 1)},
		{"carriage returns", bytes.ReplaceAll(block, []byte("\n"), []byte("\r\n"))},
		{"no empty line", bytes.Replace(block, []byte("-----\n\n"), []byte("-----\n"), 1)},
		{"other type", bytes.ReplaceAll(block, []byte("PGP SIGNATURE"), []byte("PGP MESSAGE"))},
		{"white space in a line", bytes.Replace(block, []byte("\n\n"), []byte("\n\n "), 1)},
	})
}

// FuzzPlainArmorBody: whenever the fast armor decoder takes a block, it
// returns exactly what go-crypto's armor reader returns.
func FuzzPlainArmorBody(f *testing.F) {
	block := fixtureArmor(f)
	f.Add(block)
	f.Add(bytes.Replace(block, []byte("\n="), []byte("\nx"), 1))
	f.Add([]byte("-----BEGIN PGP SIGNATURE-----\n\nAAAA\nAA==\n-----END PGP SIGNATURE-----"))
	f.Add([]byte("-----BEGIN PGP SIGNATURE-----\n\nAA=A\n=abcd\n-----END PGP SIGNATURE-----"))
	f.Fuzz(func(t *testing.T, block []byte) {
		got, ok := plainArmorBody(block)
		if !ok {
			return
		}
		want, err := armorBody(block)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("plainArmorBody(%q) = %x; armorBody = %x, %v", block, got, want, err)
		}
	})
}

// checkFastSignature fails when fastOpenPGPSignature takes a packet that
// go-crypto refuses, or decodes any field differently.
func checkFastSignature(t *testing.T, body []byte) bool {
	t.Helper()
	got, ok := fastOpenPGPSignature(body)
	if !ok {
		return false
	}
	want, err := readOpenPGPPacket(body)
	if err != nil {
		t.Fatalf("fastOpenPGPSignature took %x, which go-crypto refuses: %v", body, err)
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(packet.Signature{}), cmpopts.IgnoreFields(packet.Signature{}, "EdDSASigR", "EdDSASigS")); diff != "" {
		t.Fatalf("fastOpenPGPSignature(%x) differs from go-crypto (-go-crypto +fast):\n%s", body, diff)
	}
	if (want.EdDSASigR == nil) != (got.EdDSASigR == nil) || (want.EdDSASigS == nil) != (got.EdDSASigS == nil) {
		t.Fatalf("fastOpenPGPSignature(%x): EdDSA fields set differently", body)
	}
	if want.EdDSASigR != nil {
		if !bytes.Equal(want.EdDSASigR.Bytes(), got.EdDSASigR.Bytes()) || want.EdDSASigR.BitLength() != got.EdDSASigR.BitLength() ||
			!bytes.Equal(want.EdDSASigS.Bytes(), got.EdDSASigS.Bytes()) || want.EdDSASigS.BitLength() != got.EdDSASigS.BitLength() ||
			!bytes.Equal(want.EdDSASigR.EncodedBytes(), got.EdDSASigR.EncodedBytes()) || want.EdDSASigS.EncodedLength() != got.EdDSASigS.EncodedLength() {
			t.Fatalf("fastOpenPGPSignature(%x): R or S differs from go-crypto", body)
		}
	}
	return true
}

// fixtureSignatureBody is the binary signature packet of the gpg-signed
// fixture commit.
func fixtureSignatureBody(tb testing.TB) []byte {
	tb.Helper()
	body, ok := plainArmorBody(fixtureArmor(tb))
	if !ok {
		tb.Fatal("fixture armor not plain")
	}
	return body
}

// goCryptoSignature is a signature packet as ProtonMail go-crypto writes
// it (the benchmark histories' signer): new format, and a hashed salt
// notation.
const goCryptoSignature = "c2ab04001608005d05826b082dc209101b65d4658fdea229351400000000001c001073616c74406e6f746174696f6e732e6f70656e7067706a732e6f7267eea899184a459fbd84e1d7e62340b110162104e4cde98fe5f3d86404e400151b65d4658fdea2290000272900ff5bbb17e67161cfe7c166a4b8ceee015290e02af94ba26088af3e41f7a8dcb86b0100e34a947e467a9d79cd121be5ccbebbd1a4845dc7d072d2087ec6e479d019520b"

// TestFastOpenPGPSignature: gpg's signature takes the fast path with
// go-crypto's values; variants outside its narrow form are left to
// go-crypto.
func TestFastOpenPGPSignature(t *testing.T) {
	body := fixtureSignatureBody(t)
	if !checkFastSignature(t, body) {
		t.Fatalf("gpg's signature packet %x does not take the fast path", body)
	}
	// gpg writes the old packet format; the same packet in the new one.
	if body[0] != 0x88 {
		t.Fatalf("fixture header %x, want gpg's 0x88 (old format, one-octet length)", body[:2])
	}
	if !checkFastSignature(t, append([]byte{0xc2}, body[1:]...)) {
		t.Fatal("the new-format packet does not take the fast path")
	}
	goSig, _ := hex.DecodeString(goCryptoSignature)
	if !checkFastSignature(t, goSig) {
		t.Fatal("go-crypto's signature packet does not take the fast path")
	}
	declines(t, "fastOpenPGPSignature", fastOpenPGPSignature, []namedInput{
		{"trailing byte", append(bytes.Clone(body), 0)},
		{"truncated", body[:len(body)-1]},
		{"version 5", func() []byte { b := bytes.Clone(body); b[2] = 5; return b }()},
		{"sha1", func() []byte { b := bytes.Clone(body); b[5] = 2; return b }()},
		{"another tag", func() []byte { b := bytes.Clone(body); b[0] = 0xc0 | 11; return b }()},
	})
}

// FuzzFastOpenPGPSignature: whenever the fast signature parser takes a
// packet, go-crypto takes it too and decodes the same values.
func FuzzFastOpenPGPSignature(f *testing.F) {
	body := fixtureSignatureBody(f)
	f.Add(body)
	f.Add(append([]byte{0xc2}, body[1:]...)) // new format
	f.Add(append(bytes.Clone(body), 0))
	goSig, _ := hex.DecodeString(goCryptoSignature)
	f.Add(goSig)
	f.Fuzz(func(t *testing.T, b []byte) {
		checkFastSignature(t, b)
	})
}

type namedInput struct {
	name string
	in   []byte
}

// declines checks that a fast path declines every input, leaving it to
// the general decoder to judge.
func declines[T any](t *testing.T, name string, fast func([]byte) (T, bool), inputs []namedInput) {
	t.Helper()
	for _, tc := range inputs {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := fast(tc.in); ok {
				t.Fatalf("%s took %q, which is the general decoder's to judge", name, tc.in)
			}
		})
	}
}
