package signature_test

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"

	"gitgate.dev/gitgate/provenance/signature"
)

// batchSigner signs payloads in-process, as git would with its key.
type batchSigner interface {
	sign(t *testing.T, payload []byte) []byte
	add(t *testing.T, ring *signature.KeyRing, name string)
}

type sshBatchSigner struct{ s ssh.Signer }

func newSSHBatchSigner(t *testing.T) *sshBatchSigner {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return &sshBatchSigner{s: s}
}

func (b *sshBatchSigner) sign(t *testing.T, payload []byte) []byte {
	t.Helper()
	return b.signNamespace(t, payload, "git")
}

func (b *sshBatchSigner) signNamespace(t *testing.T, payload []byte, namespace string) []byte {
	t.Helper()
	sig, err := sshsig.Sign(bytes.NewReader(payload), b.s, sshsig.HashSHA512, namespace)
	if err != nil {
		t.Fatal(err)
	}
	return sshsig.Armor(sig)
}

func (b *sshBatchSigner) add(t *testing.T, ring *signature.KeyRing, name string) {
	t.Helper()
	if err := ring.AddSSH(name, string(ssh.MarshalAuthorizedKey(b.s.PublicKey()))); err != nil {
		t.Fatal(err)
	}
}

type pgpBatchSigner struct{ e *openpgp.Entity }

func newPGPBatchSigner(t *testing.T, name string) *pgpBatchSigner {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", name+"@example.com", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, DefaultHash: crypto.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	return &pgpBatchSigner{e: e}
}

func (b *pgpBatchSigner) sign(t *testing.T, payload []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&out, b.e, bytes.NewReader(payload), &packet.Config{DefaultHash: crypto.SHA256}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func (b *pgpBatchSigner) add(t *testing.T, ring *signature.KeyRing, name string) {
	t.Helper()
	var out bytes.Buffer
	w, err := armor.Encode(&out, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.e.Serialize(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ring.AddOpenPGP(name, out.String()); err != nil {
		t.Fatal(err)
	}
}

// orderL is the order of the Ed25519 group, little-endian.
var orderL = []byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}

// plusL returns the 32-byte little-endian scalar s + L: the same value
// modulo L, but not its canonical encoding (a malleated signature).
func plusL(s []byte) []byte {
	out := make([]byte, 32)
	carry := 0
	for i := range out {
		v := int(s[i]) + int(orderL[i]) + carry
		out[i], carry = byte(v), v>>8
	}
	return out
}

// malleateSSH replaces S in an armored SSH signature by S + L.
func malleateSSH(t *testing.T, armored []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(armored)
	var blob struct {
		Magic     [6]byte
		Version   uint32
		PublicKey string
		Namespace string
		Reserved  string
		Hash      string
		Signature string
	}
	if err := ssh.Unmarshal(block.Bytes, &blob); err != nil {
		t.Fatal(err)
	}
	var sig ssh.Signature
	if err := ssh.Unmarshal([]byte(blob.Signature), &sig); err != nil {
		t.Fatal(err)
	}
	sig.Blob = append(append([]byte{}, sig.Blob[:32]...), plusL(sig.Blob[32:])...)
	blob.Signature = string(ssh.Marshal(sig))
	return pem.EncodeToMemory(&pem.Block{Type: "SSH SIGNATURE", Bytes: ssh.Marshal(blob)})
}

// malleatePGP replaces S in an armored OpenPGP EdDSA signature by S + L
// (S is an MPI, big-endian).
func malleatePGP(t *testing.T, armored []byte) []byte {
	t.Helper()
	blk, err := armor.Decode(bytes.NewReader(armored))
	if err != nil {
		t.Fatal(err)
	}
	p, err := packet.Read(blk.Body)
	if err != nil {
		t.Fatal(err)
	}
	sig := p.(*packet.Signature)
	be := sig.EdDSASigS.Bytes()
	le := make([]byte, 32)
	for i, c := range be {
		le[len(be)-1-i] = c
	}
	le = plusL(le)
	out := make([]byte, 32)
	for i, c := range le {
		out[31-i] = c
	}
	// Overwrite the MPI in place: a two-byte bit count, then the bytes.
	mpi := binary.BigEndian.AppendUint16(nil, uint16(256-bitsLeadingZero(out[0])))
	if _, err := sig.EdDSASigS.ReadFrom(bytes.NewReader(append(mpi, out...))); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.SignatureType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sig.Serialize(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type batchCase struct {
	name    string
	payload []byte
	sig     []byte
	want    error // nil for a valid signature, else the error class
}

// batchCases returns n signed payloads for every signer, with forged,
// malleated and untrusted ones among them.
func batchCases(t *testing.T, signers []batchSigner, untrusted batchSigner, n int) []batchCase {
	t.Helper()
	var cs []batchCase
	for i := range n {
		s := signers[i%len(signers)]
		payload := fmt.Appendf(nil, "tree %040d\nauthor a <a@example.com> 1 +0000\n\ncommit %d\n", i, i)
		sig := s.sign(t, payload)
		switch i {
		case 17:
			cs = append(cs, batchCase{"signature of another payload", append(payload, '!'), sig, signature.ErrInvalid})
		case 150:
			cs = append(cs, batchCase{"untrusted key", payload, untrusted.sign(t, payload), signature.ErrUntrusted})
		case 151:
			switch s := s.(type) {
			case *sshBatchSigner:
				cs = append(cs, batchCase{"S + L", payload, malleateSSH(t, sig), signature.ErrInvalid})
			case *pgpBatchSigner:
				cs = append(cs, batchCase{"S + L", payload, malleatePGP(t, sig), signature.ErrInvalid})
			default:
				t.Fatalf("unknown signer %T", s)
			}
		case 152:
			if s, ok := s.(*sshBatchSigner); ok {
				cs = append(cs, batchCase{"namespace other than git", payload, s.signNamespace(t, payload, "file"), signature.ErrInvalid})
				continue
			}
			cs = append(cs, batchCase{"truncated", payload, sig[:len(sig)/2], signature.ErrMalformed})
		default:
			cs = append(cs, batchCase{fmt.Sprintf("valid %d", i), payload, sig, nil})
		}
	}
	return cs
}

// TestVerifyDeferredMatchesVerify checks a few hundred real SSH and OpenPGP
// ed25519 signatures (more than one batch chunk, bad ones among them) with
// one Batch, and each on its own with Verify: same signers, same errors.
func TestVerifyDeferredMatchesVerify(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"ssh", "openpgp"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			var signers []batchSigner
			var untrusted batchSigner
			if format == "ssh" {
				signers = []batchSigner{newSSHBatchSigner(t), newSSHBatchSigner(t), newSSHBatchSigner(t)}
				untrusted = newSSHBatchSigner(t)
			} else {
				signers = []batchSigner{newPGPBatchSigner(t, "a"), newPGPBatchSigner(t, "b")}
				untrusted = newPGPBatchSigner(t, "m")
			}
			ring := signature.NewKeyRing()
			for i, s := range signers {
				s.add(t, ring, fmt.Sprintf("signer%d", i))
			}
			cases := batchCases(t, signers, untrusted, 300)
			at := time.Now()
			var b signature.Batch
			type result struct {
				v       signature.Verified
				pending signature.Pending
				err     error
			}
			results := make([]result, len(cases))
			for i, c := range cases {
				v, p, err := ring.VerifyDeferred(c.payload, c.sig, at, &b)
				results[i] = result{v, p, err}
			}
			if b.Len() < 290 {
				t.Fatalf("only %d of %d signatures were batched", b.Len(), len(cases))
			}
			b.Check()
			for i, c := range cases {
				r := results[i]
				err := r.err
				if err == nil {
					err = r.pending.Err()
				}
				want, wantErr := ring.Verify(c.payload, c.sig, at)
				if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
					t.Errorf("%s: batched error %v, want %v", c.name, err, c.want)
				}
				if fmt.Sprint(err) != fmt.Sprint(wantErr) {
					t.Errorf("%s: batched error %v, Verify says %v", c.name, err, wantErr)
				}
				if err == nil && r.v != want {
					t.Errorf("%s: batched %+v, Verify says %+v", c.name, r.v, want)
				}
			}
		})
	}
}

// FuzzVerifyDeferred judges a mutated signature inside a batch of genuine
// ones: its verdict and reason must be Verify's, and the genuine ones must
// stay valid.
func FuzzVerifyDeferred(f *testing.F) {
	ring := fixtureRing(f)
	var genuine []*signature.Commit
	for _, name := range []string{testdataSSHCommit, testdataOpenPGPCommit} {
		c := fixtureCommit(f, name)
		genuine = append(genuine, c)
		f.Add(c.Payload, c.Signature)
		f.Add(append([]byte("x"), c.Payload...), c.Signature)
		sig := bytes.Clone(c.Signature)
		sig[len(sig)/2] ^= 1
		f.Add(c.Payload, sig)
	}
	at := time.Now()
	f.Fuzz(func(t *testing.T, payload, sig []byte) {
		var b signature.Batch
		var pendings []signature.Pending
		for _, c := range genuine {
			_, p, err := ring.VerifyDeferred(c.Payload, c.Signature, at, &b)
			if err != nil {
				t.Fatal(err)
			}
			pendings = append(pendings, p)
		}
		v, p, err := ring.VerifyDeferred(payload, sig, at, &b)
		for _, c := range genuine {
			if _, q, err := ring.VerifyDeferred(c.Payload, c.Signature, at, &b); err == nil {
				pendings = append(pendings, q)
			}
		}
		b.Check()
		if err == nil {
			err = p.Err()
		}
		want, wantErr := ring.Verify(payload, sig, at)
		if fmt.Sprint(err) != fmt.Sprint(wantErr) || err == nil && v != want {
			t.Fatalf("batched: %+v, %v; Verify: %+v, %v", v, err, want, wantErr)
		}
		for i, q := range pendings {
			if err := q.Err(); err != nil {
				t.Fatalf("genuine signature %d fails in a batch: %v", i, err)
			}
		}
	})
}

// bitsLeadingZero counts the zero bits above the highest set bit of c.
func bitsLeadingZero(c byte) int {
	n := 8
	for ; c != 0; c >>= 1 {
		n--
	}
	return n
}
