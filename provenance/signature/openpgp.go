package signature

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgped25519 "github.com/ProtonMail/go-crypto/openpgp/ed25519"
	"github.com/ProtonMail/go-crypto/openpgp/eddsa"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// pgpKey is one primary key or subkey of a trusted OpenPGP certificate.
type pgpKey struct {
	signer string
	key    openpgp.Key
	id     string // primary key fingerprint, upper-case hex as gpg prints it
}

// maxOpenPGPSigBytes bounds the binary signature: a detached signature is
// a few hundred bytes; anything much larger is not one.
const maxOpenPGPSigBytes = 64 << 10

// AddOpenPGP adds the certificates of an ASCII-armored public key block
// ("-----BEGIN PGP PUBLIC KEY BLOCK-----"). Every primary key and subkey is
// indexed by key id; which of them may sign is decided per signature from
// their key flags.
func (r *KeyRing) AddOpenPGP(signer, armoredPublicKey string) error {
	if err := checkSigner(signer); err != nil {
		return err
	}
	entities, err := openpgp.ReadArmoredKeyRing(strings.NewReader(armoredPublicKey))
	if err != nil {
		return fmt.Errorf("%w: openpgp key of %q: %w", ErrMalformed, signer, err)
	}
	if len(entities) == 0 {
		return fmt.Errorf("%w: openpgp key of %q: no key in the block", ErrMalformed, signer)
	}
	// Check every conflict before changing the ring, so a failed add
	// leaves it as it was.
	var add []*pgpKey
	for _, e := range entities {
		if e.PrivateKey != nil {
			return fmt.Errorf("%w: openpgp key of %q: a private key was given, the policy needs the public key", ErrMalformed, signer)
		}
		selfSig, _ := e.PrimarySelfSignature()
		id := strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
		add = append(add, &pgpKey{signer: signer, id: id, key: openpgp.Key{
			Entity: e, PublicKey: e.PrimaryKey, SelfSignature: selfSig, Revocations: e.Revocations,
		}})
		for _, sub := range e.Subkeys {
			add = append(add, &pgpKey{signer: signer, id: id, key: openpgp.Key{
				Entity: e, PublicKey: sub.PublicKey, SelfSignature: sub.Sig, Revocations: sub.Revocations,
			}})
		}
	}
	for _, k := range add {
		for _, old := range r.pgp[k.key.PublicKey.KeyId] {
			if old.signer != signer {
				return conflict("openpgp key", k.key.PublicKey.KeyIdString(), old.signer, signer)
			}
		}
	}
	for _, k := range add {
		r.pgp[k.key.PublicKey.KeyId] = append(r.pgp[k.key.PublicKey.KeyId], k)
	}
	r.n += len(entities)
	return nil
}

func (r *KeyRing) verifyOpenPGP(payload, block []byte, at time.Time, b *Batch) (Verified, Pending, error) {
	sig, err := readOpenPGPSignature(block)
	if err != nil {
		return Verified{}, Pending{}, fmt.Errorf("%w: openpgp signature: %w", ErrMalformed, err)
	}
	keyID, err := issuerKeyID(sig)
	if err != nil {
		return Verified{}, Pending{}, fmt.Errorf("%w: openpgp signature: %w", ErrMalformed, err)
	}
	keys := r.pgp[keyID]
	if len(keys) == 0 {
		return Verified{}, Pending{}, fmt.Errorf("%w: openpgp key %016X is not in the trust policy", ErrUntrusted, keyID)
	}
	if err := checkOpenPGPSignature(sig); err != nil {
		return Verified{}, Pending{}, fmt.Errorf("%w: openpgp signature by key %016X: %w", ErrInvalid, keyID, err)
	}
	candidates := make([]*pgpKey, 0, len(keys))
	for _, k := range keys {
		if sig.IssuerFingerprint != nil && !bytes.Equal(sig.IssuerFingerprint, k.key.PublicKey.Fingerprint) {
			continue
		}
		candidates = append(candidates, k)
	}
	invalid := func(err error) error {
		return fmt.Errorf("%w: openpgp signature by key %016X: %w", ErrInvalid, keyID, err)
	}
	var lastErr error
	for _, k := range candidates {
		eq, err := verifyWithKey(payload, sig, k, at)
		if err == nil && eq != nil {
			if len(candidates) == 1 {
				// The one key that can have made it: its verdict is
				// the signature's, so the equation may wait for the
				// batch.
				check := eq.check
				eq.check = func() error {
					if err := check(); err != nil {
						return invalid(err)
					}
					return nil
				}
				return Verified{Signer: k.signer, Format: OpenPGP, KeyID: k.id}, b.add(*eq), nil
			}
			err = eq.verifyNow()
		}
		if err != nil {
			lastErr = err
			continue
		}
		return Verified{Signer: k.signer, Format: OpenPGP, KeyID: k.id}, Pending{}, nil
	}
	if lastErr == nil {
		return Verified{}, Pending{}, fmt.Errorf("%w: openpgp key %X is not in the trust policy", ErrUntrusted, sig.IssuerFingerprint)
	}
	return Verified{}, Pending{}, invalid(lastErr)
}

// readOpenPGPSignature decodes the armor and insists on exactly one
// signature packet: git writes one, and a second would be a second
// signature that some verifier might check instead.
func readOpenPGPSignature(block []byte) (*packet.Signature, error) {
	body, ok := plainArmorBody(block)
	if !ok {
		var err error
		if body, err = armorBody(block); err != nil {
			return nil, err
		}
	}
	if len(body) > maxOpenPGPSigBytes {
		return nil, fmt.Errorf("signature larger than %d bytes", maxOpenPGPSigBytes)
	}
	if sig, ok := fastOpenPGPSignature(body); ok {
		return sig, nil
	}
	return readOpenPGPPacket(body)
}

// readOpenPGPPacket is readOpenPGPSignature's packet reading through
// go-crypto.
func readOpenPGPPacket(body []byte) (*packet.Signature, error) {
	packets := packet.NewReader(bytes.NewReader(body))
	p, err := packets.Next()
	if err != nil {
		return nil, fmt.Errorf("packet: %w", err)
	}
	sig, ok := p.(*packet.Signature)
	if !ok {
		return nil, fmt.Errorf("packet of type %T where a signature was expected", p)
	}
	if _, err := packets.Next(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("more than one packet (a signature must be one signature packet)")
	}
	return sig, nil
}

// armorBody decodes the armor with go-crypto, which takes any armor
// OpenPGP allows (headers, white space, long lines up to its limits). Like
// gpg, go-crypto no longer checks the armor's checksum line: what counts is
// the signature inside.
func armorBody(block []byte) ([]byte, error) {
	ab, err := armor.Decode(bytes.NewReader(block))
	if err != nil {
		return nil, fmt.Errorf("armor: %w", err)
	}
	if ab.Type != openpgp.SignatureType {
		return nil, fmt.Errorf("armor type %q, want %q", truncate([]byte(ab.Type)), openpgp.SignatureType)
	}
	body, err := io.ReadAll(io.LimitReader(ab.Body, maxOpenPGPSigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("armor: %w", err)
	}
	return body, nil
}

// plainArmorBody decodes, without go-crypto's streaming readers, the armor
// gpg writes for git: the header line, an empty line, lines of base64 (no
// white space, at most 96 characters, padding only at the very end), an
// optional five-character "=" checksum line (not checked, as armorBody
// does not check it), the footer. For such a block the result is what
// armorBody returns (FuzzPlainArmorBody checks it); anything else is left to
// armorBody (ok false).
func plainArmorBody(block []byte) (body []byte, ok bool) {
	line, rest, found := bytes.Cut(block, []byte{'\n'})
	if !found || string(line) != "-----BEGIN "+openpgp.SignatureType+"-----" {
		return nil, false
	}
	if line, rest, found = bytes.Cut(rest, []byte{'\n'}); !found || len(line) != 0 {
		return nil, false
	}
	var enc [2 * maxArmorLine]byte // one allocation less for usual signatures
	b64 := enc[:0]
	padded := false
	for {
		line, rest, found = bytes.Cut(rest, []byte{'\n'})
		if !found { // the block ends with its footer
			if string(line) != "-----END "+openpgp.SignatureType+"-----" {
				return nil, false
			}
			break
		}
		if len(line) == 5 && line[0] == '=' { // the checksum; the footer must follow
			if string(rest) != "-----END "+openpgp.SignatureType+"-----" {
				return nil, false
			}
			break
		}
		if padded || len(line) == 0 || len(line) > maxArmorLine {
			return nil, false
		}
		for i, c := range line {
			switch {
			case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/':
			case c == '=' && i >= len(line)-2:
				padded = true
			default:
				return nil, false
			}
		}
		b64 = append(b64, line...)
	}
	if len(b64)%4 != 0 {
		return nil, false
	}
	body = make([]byte, base64.StdEncoding.DecodedLen(len(b64)))
	n, err := base64.StdEncoding.Decode(body, b64)
	if err != nil {
		return nil, false
	}
	return body[:n], true
}

// maxArmorLine is the longest body line go-crypto's armor reader accepts.
const maxArmorLine = 96

// issuerKeyID returns the key id the signature names, from the issuer key
// id subpacket or, for v6 signatures, the issuer fingerprint.
func issuerKeyID(sig *packet.Signature) (uint64, error) {
	if sig.IssuerKeyId != nil {
		return *sig.IssuerKeyId, nil
	}
	switch fp := sig.IssuerFingerprint; len(fp) {
	case 20: // v4: the key id is the low 64 bits
		return binary.BigEndian.Uint64(fp[12:]), nil
	case 32: // v6: the key id is the high 64 bits
		return binary.BigEndian.Uint64(fp[:8]), nil
	}
	return 0, fmt.Errorf("signature names no issuer")
}

// checkOpenPGPSignature refuses signature kinds git never makes and hashes
// that can be forged.
func checkOpenPGPSignature(sig *packet.Signature) error {
	if sig.SigType != packet.SigTypeBinary {
		return fmt.Errorf("signature type %#x, git signs binary (0x00) signatures", uint8(sig.SigType))
	}
	switch sig.Hash {
	case crypto.SHA224, crypto.SHA256, crypto.SHA384, crypto.SHA512, crypto.SHA3_256, crypto.SHA3_512:
		return nil
	}
	return fmt.Errorf("hash %v is not accepted (SHA-2 or SHA-3 required)", sig.Hash)
}

// verifyWithKey checks the signature with one candidate key and the key's
// state when the signature was made: usable for signing, created before
// the signature, not expired then, never revoked. For an Ed25519 key it
// returns the signature equation unchecked (its check field is the whole
// cryptographic check as go-crypto makes it); otherwise it checks.
func verifyWithKey(payload []byte, sig *packet.Signature, k *pgpKey, at time.Time) (*edEntry, error) {
	pub := k.key.PublicKey
	if err := checkPGPKeyStrength(pub); err != nil {
		return nil, err
	}
	if err := checkPGPKeyState(k.key, sig.CreationTime); err != nil {
		return nil, err
	}
	if sig.SigExpired(at) {
		return nil, fmt.Errorf("signature expired")
	}
	check := func() error {
		h, err := sig.PrepareVerify()
		if err != nil {
			return err
		}
		h.Write(payload)
		if err := pub.VerifySignature(h, sig); err != nil {
			return fmt.Errorf("signature does not match the commit: %w", err)
		}
		return nil
	}
	if eq := ed25519Equation(payload, sig, pub); eq != nil {
		eq.check = check
		return eq, nil
	}
	return nil, check()
}

// ed25519Equation returns the Ed25519 equation go-crypto's VerifySignature
// ends with for an EdDSA (legacy, curve Ed25519) or Ed25519 key, after the
// same preliminary checks; nil when the signature is anything else or one
// of those checks fails (the full check then runs and reports it). Version
// 5 signatures are left to go-crypto, which changes them while verifying.
func ed25519Equation(payload []byte, sig *packet.Signature, pub *packet.PublicKey) *edEntry {
	if !pub.CanSign() || sig.Version == 5 || pub.PubKeyAlgo != sig.PubKeyAlgo {
		return nil
	}
	var key, rs []byte
	switch pub.PubKeyAlgo {
	case packet.PubKeyAlgoEdDSA:
		epk, ok := pub.PublicKey.(*eddsa.PublicKey)
		if !ok || epk.GetCurve() == nil || epk.GetCurve().GetCurveName() != "ed25519" || sig.EdDSASigR == nil || sig.EdDSASigS == nil {
			return nil
		}
		// R and S are MPIs without their leading zeros, restored as
		// go-crypto does before it calls circl.
		r, s := sig.EdDSASigR.Bytes(), sig.EdDSASigS.Bytes()
		if len(r) > 32 || len(s) > 32 {
			return nil
		}
		rs = make([]byte, 64)
		copy(rs[32-len(r):32], r)
		copy(rs[64-len(s):], s)
		key = epk.X
	case packet.PubKeyAlgoEd25519:
		epk, ok := pub.PublicKey.(*pgped25519.PublicKey)
		if !ok {
			return nil
		}
		key, rs = epk.Point, sig.EdSig
	default:
		return nil
	}
	h, err := sig.PrepareVerify()
	if err != nil {
		return nil
	}
	h.Write(payload)
	h.Write(sig.HashSuffix)
	digest := h.Sum(nil)
	if sig.Version >= 5 && (len(digest) < 2 || digest[0] != sig.HashTag[0] || digest[1] != sig.HashTag[1]) {
		return nil
	}
	// circl refuses non-canonical keys, crypto/ed25519 does not.
	return &edEntry{key: key, msg: digest, sig: rs, strictKey: true}
}

func checkPGPKeyStrength(pub *packet.PublicKey) error {
	switch pub.PubKeyAlgo {
	case packet.PubKeyAlgoRSA, packet.PubKeyAlgoRSASignOnly:
		bits, err := pub.BitLength()
		if err != nil {
			return fmt.Errorf("rsa key: %w", err)
		}
		if bits < minRSABits {
			return fmt.Errorf("rsa key has %d bits, at least %d are required", bits, minRSABits)
		}
	case packet.PubKeyAlgoDSA, packet.PubKeyAlgoElGamal:
		return fmt.Errorf("key algorithm %d is not accepted for signing", pub.PubKeyAlgo)
	}
	return nil
}

// checkPGPKeyState judges the key at the signature's creation time.
// Revocation counts whatever its date: go-crypto's revocation check, like
// gpg's, does not trust a revoked key's earlier signatures either, because
// the revocation may be the owner saying the key was compromised.
func checkPGPKeyState(k openpgp.Key, created time.Time) error {
	e := k.Entity
	sub := k.PublicKey != e.PrimaryKey
	if created.Before(k.PublicKey.CreationTime) {
		return fmt.Errorf("signature made %s, before the key was created %s", created.UTC().Format(time.RFC3339), k.PublicKey.CreationTime.UTC().Format(time.RFC3339))
	}
	primarySig, primaryID := e.PrimarySelfSignature()
	if primarySig == nil {
		return fmt.Errorf("key has no valid self-signature")
	}
	if e.Revoked(created) || (sub && k.Revoked(created)) || (primaryID != nil && primaryID.Revoked(created)) {
		return fmt.Errorf("key is revoked")
	}
	if e.PrimaryKey.KeyExpired(primarySig, created) || primarySig.SigExpired(created) {
		return fmt.Errorf("key had expired when the signature was made (%s)", created.UTC().Format(time.RFC3339))
	}
	if k.SelfSignature == nil || !k.SelfSignature.FlagsValid || !k.SelfSignature.FlagSign {
		return fmt.Errorf("key %s is not a signing key", k.PublicKey.KeyIdString())
	}
	if sub && (k.PublicKey.KeyExpired(k.SelfSignature, created) || k.SelfSignature.SigExpired(created)) {
		return fmt.Errorf("signing subkey had expired when the signature was made (%s)", created.UTC().Format(time.RFC3339))
	}
	return nil
}
