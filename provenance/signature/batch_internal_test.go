package signature

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"errors"
	"fmt"
	"testing"

	"filippo.io/edwards25519"
)

// errStd is the reason of the stand-in individual checks below.
var errStd = errors.New("does not verify")

// stdCheck is the individual check crypto/ed25519 makes (SSH keys).
func stdCheck(key, msg, sig []byte) func() error {
	return func() error {
		if len(key) != ed25519.PublicKeySize || !ed25519.Verify(key, msg, sig) {
			return errStd
		}
		return nil
	}
}

// strictCheck is circl's individual check (OpenPGP keys): crypto/ed25519's
// plus a canonical key encoding.
func strictCheck(key, msg, sig []byte) func() error {
	return func() error {
		if len(key) != ed25519.PublicKeySize || !canonicalPoint(key) {
			return errStd
		}
		return stdCheck(key, msg, sig)()
	}
}

func entry(key, msg, sig []byte, strict bool) edEntry {
	check := stdCheck(key, msg, sig)
	if strict {
		check = strictCheck(key, msg, sig)
	}
	return edEntry{key: key, msg: msg, sig: sig, strictKey: strict, check: check}
}

func randomScalar(t *testing.T) *edwards25519.Scalar {
	t.Helper()
	var b [64]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	s, err := edwards25519.NewScalar().SetUniformBytes(b[:])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// schnorr signs msg with secret scalar a for the key encoded as key, with
// the nonce point R = [r]B + extra: the equation's own arithmetic, so
// that tests can build signatures no Ed25519 signer would make.
func schnorr(t *testing.T, a *edwards25519.Scalar, key []byte, extra *edwards25519.Point, msg []byte) []byte {
	t.Helper()
	r := randomScalar(t)
	R := new(edwards25519.Point).ScalarBaseMult(r)
	if extra != nil {
		R.Add(R, extra)
	}
	h := sha512.New()
	h.Write(R.Bytes())
	h.Write(key)
	h.Write(msg)
	k, err := edwards25519.NewScalar().SetUniformBytes(h.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	s := edwards25519.NewScalar().MultiplyAdd(k, a, r)
	return append(R.Bytes(), s.Bytes()...)
}

// Encodings of the identity (0, 1) and of the point (0, -1) of order 2.
var (
	identity            = append([]byte{1}, make([]byte, 31)...)
	identityNonCanon    = append(append([]byte{0xee}, bytes.Repeat([]byte{0xff}, 30)...), 0x7f) // y = 1 + p
	identityNegZero     = append(append([]byte{1}, make([]byte, 30)...), 0x80)                  // sign bit on x = 0
	minusOne            = append(append([]byte{0xec}, bytes.Repeat([]byte{0xff}, 30)...), 0x7f) // y = p - 1
	minusOneNegZero     = append(append([]byte{0xec}, bytes.Repeat([]byte{0xff}, 30)...), 0xff)
	zeroScalar          = make([]byte, 32)
	orderL              = []byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}
	errUnexpectedVerify = errors.New("unexpected")
)

// addL returns s + L as 32 little-endian bytes: the same scalar modulo L,
// not canonically encoded.
func addL(s []byte) []byte {
	out := make([]byte, 32)
	carry := 0
	for i := range out {
		v := int(s[i]) + int(orderL[i]) + carry
		out[i], carry = byte(v), v>>8
	}
	return out
}

type craftedSig struct {
	name string
	e    edEntry
	want bool
	std  bool // what the individual check says
}

func craftedSignatures(t *testing.T) []craftedSig {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("tree 1234\n\nmessage\n")
	good := ed25519.Sign(priv, msg)
	a := randomScalar(t)
	A := new(edwards25519.Point).ScalarBaseMult(a).Bytes()
	order2, err := new(edwards25519.Point).SetBytes(minusOne)
	if err != nil {
		t.Fatal(err)
	}
	mixedA := new(edwards25519.Point).ScalarBaseMult(a)
	mixedA.Add(mixedA, order2)
	mixedKey := mixedA.Bytes()
	s := randomScalar(t)
	sB := new(edwards25519.Point).ScalarBaseMult(s).Bytes()
	cat := func(a, b []byte) []byte { return append(append([]byte{}, a...), b...) }
	torsionR := schnorr(t, a, A, order2, msg)

	var cs []craftedSig
	add := func(name string, e edEntry, want, std bool) {
		cs = append(cs, craftedSig{name: name, e: e, want: want, std: std})
	}
	add("valid", entry(pub, msg, good, false), true, true)
	add("valid, strict key", entry(pub, msg, good, true), true, true)
	add("other message", entry(pub, []byte("other"), good, false), false, false)
	add("other key", entry(A, msg, good, false), false, false)
	add("S + L", entry(pub, msg, cat(good[:32], addL(good[32:])), false), false, false)
	add("S high bits", entry(pub, msg, cat(good[:32], append(append([]byte{}, good[32:63]...), good[63]|0xe0)), false), false, false)
	add("short signature", entry(pub, msg, good[:63], false), false, false)
	add("short key", entry(pub[:31], msg, good, false), false, false)
	add("key not on the curve", entry(bytes.Repeat([]byte{0x02}, 32), msg, good, false), false, false)
	// Weak keys: the identity signs anything with R = [S]B. Both checks
	// agree; the policy decides whether such a key is trusted.
	add("identity key", entry(identity, msg, cat(sB, s.Bytes()), false), true, true)
	add("identity key, non-canonical, crypto/ed25519", entry(identityNonCanon, msg, cat(sB, s.Bytes()), false), true, true)
	add("identity key, non-canonical, circl", entry(identityNonCanon, msg, cat(sB, s.Bytes()), true), false, false)
	add("identity key, negative zero, crypto/ed25519", entry(identityNegZero, msg, cat(sB, s.Bytes()), false), true, true)
	add("identity key, negative zero, circl", entry(identityNegZero, msg, cat(sB, s.Bytes()), true), false, false)
	// R must be the canonical encoding: the individual check compares
	// bytes, a batch compares points.
	add("R identity", entry(identity, msg, cat(identity, zeroScalar), false), true, true)
	add("R identity, non-canonical", entry(identity, msg, cat(identityNonCanon, zeroScalar), false), false, false)
	add("R identity, negative zero", entry(identity, msg, cat(identityNegZero, zeroScalar), false), false, false)
	add("R (0,-1), negative zero", entry(identity, msg, cat(minusOneNegZero, zeroScalar), false), false, false)
	// The documented difference: a torsion component in R (or in the
	// key) fails the cofactorless individual check and passes the
	// cofactored equation, in a batch and alone alike.
	add("torsion in R", entry(A, msg, torsionR, false), true, false)
	for i := 0; ; i++ {
		sig := schnorr(t, a, mixedKey, nil, msg)
		if !ed25519.Verify(mixedKey, msg, sig) { // k odd: the torsion shows
			add("torsion in the key", entry(mixedKey, msg, sig, false), true, false)
			break
		}
		if i > 64 {
			t.Fatal("no signature with an odd k in 64 tries")
		}
	}
	return cs
}

// TestBatchVerdicts checks every crafted signature alone and inside a batch
// of valid ones: the verdict is the same in both, it is the individual
// check's except for the documented torsion cases, and the valid
// neighbours stay valid.
func TestBatchVerdicts(t *testing.T) {
	type keyPair struct {
		pub  ed25519.PublicKey
		priv ed25519.PrivateKey
	}
	var pool []keyPair
	for range 5 {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pool = append(pool, keyPair{pub, priv})
	}
	// Several signatures per key: their terms are merged in the batch.
	neighbours := make([]edEntry, 40)
	for i := range neighbours {
		k := pool[i%len(pool)]
		msg := fmt.Appendf(nil, "commit %d", i)
		neighbours[i] = entry(k.pub, msg, ed25519.Sign(k.priv, msg), false)
	}
	for _, c := range craftedSignatures(t) {
		t.Run(c.name, func(t *testing.T) {
			if got := c.e.check() == nil; got != c.std {
				t.Fatalf("individual check = %v, the test expects %v", got, c.std)
			}
			var alone Batch
			p := alone.add(c.e)
			alone.Check()
			if got := p.Err() == nil; got != c.want {
				t.Errorf("alone: valid = %v, want %v (%v)", got, c.want, p.Err())
			}
			if !c.want && !errors.Is(p.Err(), errStd) {
				t.Errorf("alone: reason %v, want the individual check's", p.Err())
			}
			var b Batch
			var ps []Pending
			for i, n := range neighbours {
				if i == 7 {
					ps = append(ps, b.add(c.e))
				}
				ps = append(ps, b.add(n))
			}
			b.Check()
			for i, p := range ps {
				want := i != 7 || c.want
				if got := p.Err() == nil; got != want {
					t.Errorf("in a batch, entry %d: valid = %v, want %v (%v)", i, got, want, p.Err())
				}
			}
		})
	}
}

// TestBatchHolds checks the batch equation itself, without the fallback
// to individual checks.
func TestBatchHolds(t *testing.T) {
	var ps []*edParsed
	h := sha512.New()
	keys := map[[32]byte]*edwards25519.Point{}
	for i := range 10 {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		msg := fmt.Appendf(nil, "m%d", i)
		e := entry(pub, msg, ed25519.Sign(priv, msg), false)
		var p edParsed
		if !parseEd(&e, &p, h, keys) {
			t.Fatal("valid signature not parsed")
		}
		ps = append(ps, &p)
	}
	if !batchHolds(ps) {
		t.Fatal("a batch of valid signatures fails")
	}
	bad := *ps[4]
	var one [32]byte
	one[0] = 1
	oneScalar, err := edwards25519.NewScalar().SetCanonicalBytes(one[:])
	if err != nil {
		t.Fatal(err)
	}
	bad.k.Add(&bad.k, oneScalar) // another message's k
	ps[4] = &bad
	if batchHolds(ps) {
		t.Fatal("a batch with a forged signature holds")
	}
}

// TestPendingBeforeCheck: a verdict cannot be read before the batch ran.
func TestPendingBeforeCheck(t *testing.T) {
	var b Batch
	p := b.add(edEntry{check: func() error { return errUnexpectedVerify }})
	if !errors.Is(p.Err(), ErrInvalid) {
		t.Fatalf("Err before Check = %v, want ErrInvalid", p.Err())
	}
	if (Pending{}).Err() != nil || (Pending{}).Deferred() {
		t.Fatal("the zero Pending is not empty")
	}
}

// FuzzCanonicalPoint compares canonicalPoint with its definition: decoding
// succeeds and encoding gives the same bytes back.
func FuzzCanonicalPoint(f *testing.F) {
	for _, seed := range [][]byte{identity, identityNonCanon, identityNegZero, minusOne, minusOneNegZero, orderL,
		edwards25519.NewGeneratorPoint().Bytes(), bytes.Repeat([]byte{0xff}, 32)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) != 32 {
			return
		}
		p, err := new(edwards25519.Point).SetBytes(b)
		want := err == nil && bytes.Equal(p.Bytes(), b)
		if got := err == nil && canonicalPoint(b); got != want {
			t.Fatalf("canonicalPoint(%x) && decodes = %v, want %v", b, got, want)
		}
	})
}
