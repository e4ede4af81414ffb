package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"
)

func mustAuthority(t testing.TB) *authority {
	t.Helper()
	a, err := newAuthority(start, DefaultCALifetime, caName)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestParseAuthoritiesRoundTrip(t *testing.T) {
	a, b := mustAuthority(t), mustAuthority(t)
	keys, err := encodeKeys([]*authority{a, b})
	if err != nil {
		t.Fatal(err)
	}
	// Keys in the other order still pair up by public key.
	keysSwapped, err := encodeKeys([]*authority{b, a})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range [][]byte{keys, keysSwapped} {
		got, err := parseAuthorities(encodeCerts([]*authority{a, b}), k)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || !got[0].cert.Equal(a.cert) || !got[1].key.Equal(b.key) {
			t.Fatal("round trip lost or mismatched a CA")
		}
	}
}

func TestParseAuthoritiesMalformed(t *testing.T) {
	a := mustAuthority(t)
	certPEM := encodeCerts([]*authority{a})
	keyPEM, err := encodeKeys([]*authority{a})
	if err != nil {
		t.Fatal(err)
	}
	other := mustAuthority(t)
	otherKey, err := encodeKeys([]*authority{other})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := a.issue(start, time.Hour, []string{"x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	leafPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Certificate[0]})
	leafKeyDER, err := x509.MarshalPKCS8PrivateKey(leaf.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	leafKeyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: leafKeyDER})
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384DER, err := x509.MarshalPKCS8PrivateKey(p384)
	if err != nil {
		t.Fatal(err)
	}
	tooMany := bytes.Repeat(certPEM, maxStoredCAs+1)

	cases := []struct {
		name        string
		certs, keys []byte
		want        string
	}{
		{"not PEM", []byte("hello"), keyPEM, "not PEM"},
		{"trailing garbage", append(bytes.Clone(certPEM), "junk"...), keyPEM, "not PEM"},
		{"wrong block type", keyPEM, keyPEM, `PEM block "PRIVATE KEY"`},
		{"bad DER", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x01}}), keyPEM, "certificate 1"},
		{"key missing", certPEM, nil, "1 certificates but 0 keys"},
		{"key of another CA", certPEM, otherKey, "no key for its public key"},
		{"bad key DER", certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2}}), "key"},
		{"P-384 key", certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p384DER}), "no key"},
		{"leaf, not a CA", leafPEM, leafKeyPEM, "not an ECDSA P-256 CA"},
		{"too many", tooMany, bytes.Repeat(keyPEM, maxStoredCAs+1), "more than"},
		{"too large", bytes.Repeat([]byte{' '}, maxStoredBytes+1), nil, "larger than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseAuthorities(tc.certs, tc.keys)
			if !errors.Is(err, ErrMalformedStore) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrMalformedStore mentioning %q", err, tc.want)
			}
		})
	}
}

// FuzzParseAuthorities feeds the parser of the CA Secret arbitrary data:
// it must return CAs or an error, never panic, and whatever it returns must
// be usable CAs.
func FuzzParseAuthorities(f *testing.F) {
	a := mustAuthority(f)
	certPEM := encodeCerts([]*authority{a})
	keyPEM, err := encodeKeys([]*authority{a})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(certPEM, keyPEM)
	f.Add(certPEM[:len(certPEM)/2], keyPEM)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"), []byte{})
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, certs, keys []byte) {
		cas, err := parseAuthorities(certs, keys)
		if err != nil {
			return
		}
		for _, ca := range cas {
			if !ca.cert.IsCA || !ca.key.PublicKey.Equal(ca.cert.PublicKey) {
				t.Fatal("parsed an unusable CA")
			}
		}
	})
}
