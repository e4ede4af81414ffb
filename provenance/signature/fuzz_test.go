package signature_test

import (
	"bytes"
	"encoding/pem"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"gitgate.dev/gitgate/provenance/signature"
)

// fixtureCommits are the checked-in signed and unsigned objects.
var fixtureCommits = []string{testdataSSHCommit, testdataOpenPGPCommit, testdataX509Commit, testdataUnsigned}

func FuzzParseCommit(f *testing.F) {
	for _, name := range fixtureCommits {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(obj(with("gpgsig "+sshSig, "mergetag object "+parent2, " type commit"), "m\n")))
	f.Add([]byte(obj(with("gpgsig "+sshSig, "gpgsig "+sshSig), "m")))
	f.Add([]byte(obj([]string{"tree " + tree1, "author " + ident, "committer " + ident}, "")))
	f.Add([]byte("tree \n\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := signature.ParseCommit(raw)
		if err != nil {
			if !errors.Is(err, signature.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if len(c.Payload) > len(raw) {
			t.Fatalf("payload longer than the object")
		}
		// The payload is the object without its signature header: an
		// unsigned commit with the same fields.
		u, err := signature.ParseCommit(c.Payload)
		if err != nil {
			t.Fatalf("payload of a valid commit does not parse: %v", err)
		}
		if u.Signature != nil || u.Tree != c.Tree || u.Author != c.Author || u.Committer != c.Committer ||
			u.Message != c.Message || strings.Join(u.Parents, " ") != strings.Join(c.Parents, " ") {
			t.Fatalf("payload parses as %+v, commit as %+v", u, c)
		}
		if (c.Signature == nil) != bytes.Equal(c.Payload, raw) {
			t.Fatalf("payload differs from the object exactly when there is a signature")
		}
	})
}

// Ways FuzzVerify wraps its signature input: as given (armored text), or
// binary wrapped in the armor of one format, so that mutations reach the
// sshsig, CMS and OpenPGP packet parsers instead of breaking base64.
const (
	wrapNone uint8 = iota
	wrapSSH
	wrapX509
	wrapOpenPGP
	wrapKinds
)

func wrapSignature(tb testing.TB, wrap uint8, body []byte) []byte {
	switch wrap % wrapKinds {
	case wrapSSH:
		return pem.EncodeToMemory(&pem.Block{Type: "SSH SIGNATURE", Bytes: body})
	case wrapX509:
		return pem.EncodeToMemory(&pem.Block{Type: "SIGNED MESSAGE", Bytes: body})
	case wrapOpenPGP:
		var buf bytes.Buffer
		w, err := armor.Encode(&buf, "PGP SIGNATURE", nil)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write(body); err != nil {
			tb.Fatal(err)
		}
		if err := w.Close(); err != nil {
			tb.Fatal(err)
		}
		return buf.Bytes()
	}
	return body
}

// unwrapSignature is the binary body of an armored fixture signature.
func unwrapSignature(tb testing.TB, sig []byte) []byte {
	if bytes.HasPrefix(sig, []byte("-----BEGIN PGP")) {
		block, err := armor.Decode(bytes.NewReader(sig))
		if err != nil {
			tb.Fatal(err)
		}
		body, err := io.ReadAll(block.Body)
		if err != nil {
			tb.Fatal(err)
		}
		return body
	}
	block, _ := pem.Decode(sig)
	if block == nil {
		tb.Fatalf("fixture signature is not PEM")
	}
	return block.Bytes
}

func FuzzVerify(f *testing.F) {
	ring := fixtureRing(f)
	var signed [][]byte // payloads that carry a genuine fixture signature
	for _, tc := range []struct {
		name string
		wrap uint8
	}{{testdataSSHCommit, wrapSSH}, {testdataOpenPGPCommit, wrapOpenPGP}, {testdataX509Commit, wrapX509}} {
		c := fixtureCommit(f, tc.name)
		signed = append(signed, c.Payload)
		f.Add(c.Payload, c.Signature, wrapNone)
		f.Add(c.Payload, unwrapSignature(f, c.Signature), tc.wrap)
		// Seeds that reach deeper checks: the signature over another
		// payload, and a truncated signature.
		f.Add(append([]byte("x"), c.Payload...), unwrapSignature(f, c.Signature), tc.wrap)
		f.Add(c.Payload, c.Signature[:len(c.Signature)/2], wrapNone)
	}
	f.Add(fixture(f, testdataUnsigned), []byte(nil), wrapNone)
	f.Add([]byte("payload"), []byte("-----BEGIN SIGNED MESSAGE-----\nMIAGCSqGSIb3DQEHAqCAMIACAQEx\n-----END SIGNED MESSAGE-----\n"), wrapNone)
	f.Add([]byte("payload"), []byte("SSHSIG\x00\x00\x00\x01"), wrapSSH)
	f.Add([]byte("payload"), []byte{0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0, 0x80, 0x30, 0x80, 0, 0, 0, 0, 0, 0}, wrapX509)
	at := time.Now()
	f.Fuzz(func(t *testing.T, payload, sig []byte, wrap uint8) {
		sig = wrapSignature(t, wrap, sig)
		v, err := ring.Verify(payload, sig, at)
		if err != nil {
			if !errors.Is(err, signature.ErrUnsigned) && !errors.Is(err, signature.ErrMalformed) &&
				!errors.Is(err, signature.ErrUntrusted) && !errors.Is(err, signature.ErrInvalid) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if v.Signer == "" || v.KeyID == "" || v.Format == "" {
			t.Fatalf("success without a signer: %+v", v)
		}
		// No mutation can forge a signature: success means the payload
		// is one a fixture key really signed.
		for _, p := range signed {
			if bytes.Equal(p, payload) {
				return
			}
		}
		t.Fatalf("verified a payload no key signed: %q", payload)
	})
}
