package signature

import (
	"bytes"
	"encoding/pem"
	"os"
	"testing"

	"golang.org/x/crypto/ssh"
)

// sshSignedData is what x/crypto/ssh marshals for the sshsig signed data;
// sshSignedBytes must write the same bytes.
type sshSignedData struct {
	Namespace string
	Reserved  string
	Hash      string
	Digest    string
}

func TestSSHSignedBytes(t *testing.T) {
	for _, tc := range []struct{ ns, hash, digest string }{
		{"git", "sha512", string(bytes.Repeat([]byte{7}, 64))},
		{"file", "sha256", ""},
		{"", "", "x"},
	} {
		want := append(sshMagic[:], ssh.Marshal(sshSignedData{Namespace: tc.ns, Hash: tc.hash, Digest: tc.digest})...)
		if got := sshSignedBytes(tc.ns, tc.hash, []byte(tc.digest)); !bytes.Equal(got, want) {
			t.Errorf("sshSignedBytes(%q, %q) = %x, want %x", tc.ns, tc.hash, got, want)
		}
	}
}

func TestDecodeSSHSigMalformed(t *testing.T) {
	str := func(s string) []byte { return ssh.Marshal(struct{ S string }{s}) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	head := []byte("SSHSIG\x00\x00\x00\x01")
	fields := cat(str("key"), str("git"), str(""), str("sha512"), str("sig"))
	for _, tc := range []struct {
		name string
		data []byte
		ok   bool
	}{
		{"complete", cat(head, fields), true},
		{"empty", nil, false},
		{"magic only", []byte("SSHSIG"), false},
		{"four fields", cat(head, str("key"), str("git"), str(""), str("sha512")), false},
		{"length past the end", cat(head, fields[:len(fields)-1]), false},
		{"huge length", cat(head, []byte{0xff, 0xff, 0xff, 0xff}), false},
		{"trailing byte", cat(head, fields, []byte{0}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var blob sshSigBlob
			if got := decodeSigBlob(tc.data, &blob); got != tc.ok {
				t.Fatalf("decodeSigBlob = %v, want %v", got, tc.ok)
			}
			var ref sshSigBlob
			if err := ssh.Unmarshal(tc.data, &ref); (err == nil) != tc.ok {
				t.Fatalf("ssh.Unmarshal disagrees: %v", err)
			}
		})
	}
}

// FuzzDecodeSSHSig compares the sshsig decoders with ssh.Unmarshal, which
// they replace on the hot path: same acceptance, same fields.
func FuzzDecodeSSHSig(f *testing.F) {
	raw, err := os.ReadFile("testdata/ssh.commit")
	if err != nil {
		f.Fatal(err)
	}
	c, err := ParseCommit(raw)
	if err != nil {
		f.Fatal(err)
	}
	block, _ := pem.Decode(c.Signature)
	if block == nil {
		f.Fatal("fixture signature is not PEM")
	}
	f.Add(block.Bytes)
	var blob sshSigBlob
	if err := ssh.Unmarshal(block.Bytes, &blob); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(blob.Signature))
	f.Add([]byte("SSHSIG\x00\x00\x00\x01\x00\x00\x00\x00"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var got, want sshSigBlob
		ok := decodeSigBlob(data, &got)
		err := ssh.Unmarshal(data, &want)
		if ok != (err == nil) || ok && got != want {
			t.Fatalf("decodeSigBlob = %v %+v; ssh.Unmarshal = %v %+v", ok, got, err, want)
		}
		var gs, ws ssh.Signature
		ok = decodeSignature(data, &gs)
		err = ssh.Unmarshal(data, &ws)
		if ok != (err == nil) || ok && (gs.Format != ws.Format || !bytes.Equal(gs.Blob, ws.Blob) || !bytes.Equal(gs.Rest, ws.Rest)) {
			t.Fatalf("decodeSignature = %v %+v; ssh.Unmarshal = %v %+v", ok, gs, err, ws)
		}
	})
}
