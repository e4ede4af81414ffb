package signature

import (
	"bytes"
	"os"
	"testing"
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
	for _, tc := range []struct {
		name  string
		block []byte
	}{
		{"header line", bytes.Replace(block, []byte("-----\n\n"), []byte("-----\nComment: x\n\n"), 1)},
		{"carriage returns", bytes.ReplaceAll(block, []byte("\n"), []byte("\r\n"))},
		{"no empty line", bytes.Replace(block, []byte("-----\n\n"), []byte("-----\n"), 1)},
		{"other type", bytes.ReplaceAll(block, []byte("PGP SIGNATURE"), []byte("PGP MESSAGE"))},
		{"white space in a line", bytes.Replace(block, []byte("\n\n"), []byte("\n\n "), 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := plainArmorBody(tc.block); ok {
				t.Fatalf("plainArmorBody took %q, which is armorBody's to judge", tc.block)
			}
		})
	}
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
