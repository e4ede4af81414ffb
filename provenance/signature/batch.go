package signature

import (
	"crypto/rand"
	"crypto/sha512"
	"fmt"
	"hash"

	"filippo.io/edwards25519"
)

// Batched Ed25519 verification.
//
// Checking one Ed25519 signature costs a double scalar multiplication of
// about 256 point doublings; a history of thousands of SSH or OpenPGP
// ed25519 signatures spends most of its verification time there. A Batch
// collects the final equation of many signatures, [S]B = R + [k]A with
// k = SHA-512(R || A || M), and checks them together with one random
// linear combination,
//
//	[8] ( Σ z_i R_i + Σ (z_i k_i) A_i − (Σ z_i S_i) B ) = 0,
//
// with independent random 128-bit z_i: the doublings are shared by the
// whole batch and the terms of one key are merged, so each signature costs
// little more than decoding its R. If some signature does not satisfy its
// (cofactored) equation, the combination is non-zero except with
// probability about 2^-127, the batch fails, and every signature of the
// batch is checked on its own to find the bad ones.
//
// Verdicts are the same as those of the individual checks this package
// made before batching (crypto/ed25519 for SSH keys, circl through
// ProtonMail go-crypto for OpenPGP keys), with one documented difference.
// Before a signature enters a batch its encodings are checked exactly as
// the individual check would judge them: S canonical (S < L), R the
// canonical encoding of a curve point (the individual check compares R's
// bytes with a computed point's canonical encoding, so it rejects every
// other encoding of R), and A decodable as crypto/ed25519 decodes it, or
// canonical for OpenPGP keys as circl requires. What fails those checks is
// judged by the individual check alone, which rejects it with its usual
// reason. So the batch equation only ever sees inputs both checks read the
// same way, and it differs from the individual check only in being
// cofactored: it also holds when R differs from [S]B − [k]A by a point of
// small order (a torsion point, 8T = 0), which the individual, cofactorless
// check rejects. RFC 8032 (section 5.1.7) allows either equation.
//
// Why that difference cannot help a forger: making R − [S]B + [k]A a point
// of small order without the private key is as hard as forging an ordinary
// signature. Multiplying by the cofactor maps the equation into the
// prime-order subgroup, where it is a Schnorr verification; Ed25519 with
// the cofactored equation and canonical S is proven strongly unforgeable
// under the same assumptions as with the cofactorless one (Brendel,
// Cremers, Jackson and Zhao, "The Provable Security of Ed25519: Theory and
// Practice", IEEE S&P 2021). The only signatures the cofactored equation
// adds are ones with an extra small-order component in R (or made with a
// trusted key that carries one), and making them takes the private key:
// they are the key holder's valid signatures with a small-order point
// added, and the key holder could as well sign normally. git's own checks
// (ssh-keygen, gpg) are cofactorless, so such a crafted signature would
// pass gitgate and fail `git log --show-signature`; no one else can make
// one. To keep verdicts deterministic whatever else is in a batch, an
// individual check that fails is followed by the exact cofactored check of
// that one signature; so a signature's verdict never depends on which batch
// it was in, and Verify, which checks a batch of one, judges the same way.

// batchChunk is how many signatures one multi-scalar multiplication
// checks: enough to spread its 256 shared doublings thin, few enough that a
// bad signature sends only that many to individual checks.
const batchChunk = 128

// Batch collects Ed25519 signature equations left open by
// KeyRing.VerifyDeferred and checks them together. A Batch is used by one
// goroutine at a time; the zero value is ready to use.
type Batch struct {
	entries []edEntry
	checked int // entries[:checked] have their verdicts
	// keys holds the public keys decoded so far (nil for one that does
	// not decode): a history has few signers, and decoding a point costs
	// a square root.
	keys map[[32]byte]*edwards25519.Point
}

// edEntry is one open Ed25519 equation.
type edEntry struct {
	key []byte // 32-byte public key A, as the trust policy holds it
	msg []byte // what the key signed (sshsig's signed data; the OpenPGP digest)
	sig []byte // R || S
	// strictKey requires the canonical encoding of A (circl, which checks
	// OpenPGP keys, refuses the others; crypto/ed25519 accepts them).
	strictKey bool
	// check is the individual check as it ran before batching; its error
	// is the verdict's reason.
	check func() error
	err   error
}

// Pending is a signature whose last step, an Ed25519 equation, was left to
// a Batch. The zero Pending has nothing open.
type Pending struct {
	b *Batch
	i int
}

// Deferred reports whether a Batch decides this signature.
func (p Pending) Deferred() bool { return p.b != nil }

// Err is the verdict once the batch was checked: nil when the signature
// holds, otherwise the error Verify returns for it.
func (p Pending) Err() error {
	switch {
	case p.b == nil:
		return nil
	case p.i >= p.b.checked:
		return fmt.Errorf("%w: signature not checked yet (Batch.Check was not called)", ErrInvalid)
	}
	return p.b.entries[p.i].err
}

// Len returns the number of equations collected.
func (b *Batch) Len() int { return len(b.entries) }

func (b *Batch) add(e edEntry) Pending {
	b.entries = append(b.entries, e)
	return Pending{b: b, i: len(b.entries) - 1}
}

// Check decides every equation collected since the last Check.
func (b *Batch) Check() {
	h := sha512.New()
	for b.checked < len(b.entries) {
		n := min(len(b.entries)-b.checked, batchChunk)
		b.checkChunk(b.entries[b.checked:b.checked+n], h)
		b.checked += n
	}
}

// checkChunk decides es: one batch equation when all of them hold, each on
// its own otherwise.
func (b *Batch) checkChunk(es []edEntry, h hash.Hash) {
	if len(es) == 1 {
		es[0].err = es[0].verifyNow()
		return
	}
	if b.keys == nil {
		b.keys = map[[32]byte]*edwards25519.Point{}
	}
	parsed := make([]edParsed, len(es))
	batch := make([]*edParsed, 0, len(es))
	inBatch := make([]bool, len(es))
	for i := range es {
		if parseEd(&es[i], &parsed[i], h, b.keys) {
			batch = append(batch, &parsed[i])
			inBatch[i] = true
		} else {
			es[i].err = es[i].verifyNow()
		}
	}
	if len(batch) > 1 && batchHolds(batch) {
		return // every inBatch entry keeps err == nil
	}
	for i := range es {
		if inBatch[i] {
			es[i].err = es[i].verifyNow()
		}
	}
}

// verifyNow checks one signature: the individual check, and when that
// fails the exact cofactored equation (see the comment at the top).
func (e *edEntry) verifyNow() error {
	err := e.check()
	if err == nil {
		return nil
	}
	var p edParsed
	if parseEd(e, &p, sha512.New(), nil) && p.cofactoredHolds() {
		return nil
	}
	return err
}

// edParsed is an entry whose encodings passed the checks of the individual
// verification, decoded.
type edParsed struct {
	a, r edwards25519.Point
	s, k edwards25519.Scalar
	key  [32]byte
}

// parseEd decodes e into p, refusing every encoding the individual check
// would refuse. keys, when not nil, caches decoded public keys.
func parseEd(e *edEntry, p *edParsed, h hash.Hash, keys map[[32]byte]*edwards25519.Point) bool {
	if len(e.key) != 32 || len(e.sig) != 64 {
		return false
	}
	if e.strictKey && !canonicalPoint(e.key) {
		return false
	}
	if !canonicalPoint(e.sig[:32]) {
		return false
	}
	copy(p.key[:], e.key)
	if !decodeKey(p, keys) {
		return false
	}
	if _, err := p.r.SetBytes(e.sig[:32]); err != nil {
		return false
	}
	if _, err := p.s.SetCanonicalBytes(e.sig[32:]); err != nil {
		return false
	}
	h.Reset()
	h.Write(e.sig[:32])
	h.Write(e.key)
	h.Write(e.msg)
	var digest [sha512.Size]byte
	if _, err := p.k.SetUniformBytes(h.Sum(digest[:0])); err != nil {
		return false
	}
	return true
}

// decodeKey sets p.a from p.key, through the cache when there is one.
func decodeKey(p *edParsed, keys map[[32]byte]*edwards25519.Point) bool {
	if a, ok := keys[p.key]; ok {
		if a == nil {
			return false
		}
		p.a.Set(a)
		return true
	}
	_, err := p.a.SetBytes(p.key[:])
	if keys != nil {
		if err != nil {
			keys[p.key] = nil
		} else {
			keys[p.key] = new(edwards25519.Point).Set(&p.a)
		}
	}
	return err == nil
}

// canonicalPoint reports whether b is the canonical encoding of a y
// coordinate and sign bit: y < p = 2^255 − 19, and no sign bit when x is
// zero (x is zero exactly for y = 1 and y = p − 1). Whether the point is on
// the curve is left to decoding.
func canonicalPoint(b []byte) bool {
	top := b[31] & 0x7f
	middle := func(v byte) bool {
		for _, c := range b[1:31] {
			if c != v {
				return false
			}
		}
		return true
	}
	if top == 0x7f && b[0] >= 0xed && middle(0xff) {
		return false // y >= p
	}
	if b[31]&0x80 != 0 {
		one := top == 0 && b[0] == 1 && middle(0)
		minusOne := top == 0x7f && b[0] == 0xec && middle(0xff)
		if one || minusOne {
			return false
		}
	}
	return true
}

// cofactoredHolds checks [8]([S]B − [k]A − R) = 0 for one signature.
func (p *edParsed) cofactoredHolds() bool {
	var minusA, q edwards25519.Point
	minusA.Negate(&p.a)
	q.VarTimeDoubleScalarBaseMult(&p.k, &minusA, &p.s)
	q.Subtract(&q, &p.r)
	q.MultByCofactor(&q)
	return q.Equal(edwards25519.NewIdentityPoint()) == 1
}

// batchHolds checks the random linear combination of ps's equations (see
// the comment at the top); the terms of one key are merged into one.
func batchHolds(ps []*edParsed) bool {
	random := make([]byte, 16*len(ps))
	if _, err := rand.Read(random); err != nil {
		return false // judged one by one instead
	}
	zs := make([]edwards25519.Scalar, len(ps))
	scalars := make([]*edwards25519.Scalar, 0, len(ps)+4)
	points := make([]*edwards25519.Point, 0, len(ps)+4)
	var bCoef edwards25519.Scalar // −Σ z_i S_i
	scalars = append(scalars, &bCoef)
	points = append(points, edwards25519.NewGeneratorPoint())
	keys := map[[32]byte]*edwards25519.Scalar{}
	for i, p := range ps {
		var zb [32]byte
		copy(zb[:16], random[16*i:16*i+16])
		zb[0] |= 1 // never zero, so every equation counts
		if _, err := zs[i].SetCanonicalBytes(zb[:]); err != nil {
			return false
		}
		var zs2 edwards25519.Scalar
		zs2.Multiply(&zs[i], &p.s)
		bCoef.Subtract(&bCoef, &zs2)
		aCoef, ok := keys[p.key]
		if !ok {
			aCoef = new(edwards25519.Scalar)
			keys[p.key] = aCoef
			scalars = append(scalars, aCoef)
			points = append(points, &p.a)
		}
		aCoef.MultiplyAdd(&zs[i], &p.k, aCoef)
		scalars = append(scalars, &zs[i])
		points = append(points, &p.r)
	}
	var q edwards25519.Point
	q.VarTimeMultiScalarMult(scalars, points)
	q.MultByCofactor(&q)
	return q.Equal(edwards25519.NewIdentityPoint()) == 1
}
