package signature

import (
	"bytes"
	"crypto"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
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

func (r *KeyRing) verifyOpenPGP(payload, block []byte, at time.Time) (Verified, error) {
	sig, err := readOpenPGPSignature(block)
	if err != nil {
		return Verified{}, fmt.Errorf("%w: openpgp signature: %w", ErrMalformed, err)
	}
	keyID, err := issuerKeyID(sig)
	if err != nil {
		return Verified{}, fmt.Errorf("%w: openpgp signature: %w", ErrMalformed, err)
	}
	keys := r.pgp[keyID]
	if len(keys) == 0 {
		return Verified{}, fmt.Errorf("%w: openpgp key %016X is not in the trust policy", ErrUntrusted, keyID)
	}
	if err := checkOpenPGPSignature(sig); err != nil {
		return Verified{}, fmt.Errorf("%w: openpgp signature by key %016X: %w", ErrInvalid, keyID, err)
	}
	var lastErr error
	for _, k := range keys {
		if sig.IssuerFingerprint != nil && !bytes.Equal(sig.IssuerFingerprint, k.key.PublicKey.Fingerprint) {
			continue
		}
		if err := verifyWithKey(payload, sig, k, at); err != nil {
			lastErr = err
			continue
		}
		return Verified{Signer: k.signer, Format: OpenPGP, KeyID: k.id}, nil
	}
	if lastErr == nil {
		return Verified{}, fmt.Errorf("%w: openpgp key %X is not in the trust policy", ErrUntrusted, sig.IssuerFingerprint)
	}
	return Verified{}, fmt.Errorf("%w: openpgp signature by key %016X: %w", ErrInvalid, keyID, lastErr)
}

// readOpenPGPSignature decodes the armor and insists on exactly one
// signature packet: git writes one, and a second would be a second
// signature that some verifier might check instead.
func readOpenPGPSignature(block []byte) (*packet.Signature, error) {
	ab, err := armor.Decode(bytes.NewReader(block))
	if err != nil {
		return nil, fmt.Errorf("armor: %w", err)
	}
	if ab.Type != openpgp.SignatureType {
		return nil, fmt.Errorf("armor type %q, want %q", truncate([]byte(ab.Type)), openpgp.SignatureType)
	}
	// Reading through the armor also checks its CRC, if there is one.
	body, err := io.ReadAll(io.LimitReader(ab.Body, maxOpenPGPSigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("armor: %w", err)
	}
	if len(body) > maxOpenPGPSigBytes {
		return nil, fmt.Errorf("signature larger than %d bytes", maxOpenPGPSigBytes)
	}
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
// the signature, not expired then, never revoked.
func verifyWithKey(payload []byte, sig *packet.Signature, k *pgpKey, at time.Time) error {
	pub := k.key.PublicKey
	if err := checkPGPKeyStrength(pub); err != nil {
		return err
	}
	if err := checkPGPKeyState(k.key, sig.CreationTime); err != nil {
		return err
	}
	if sig.SigExpired(at) {
		return fmt.Errorf("signature expired")
	}
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
