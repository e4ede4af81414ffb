// Package signature parses raw Git commit objects and verifies their
// signatures against the trusted keys of a trust policy.
//
// Three formats are supported, detected from the signature's armor:
//   - OpenPGP ("-----BEGIN PGP SIGNATURE-----", gpg.format=openpgp), checked
//     with ProtonMail go-crypto; the key must be able to sign, and must be
//     neither expired at the signature's creation time nor revoked.
//   - SSH ("-----BEGIN SSH SIGNATURE-----", gpg.format=ssh), the sshsig
//     format of ssh-keygen -Y sign; namespace "git", hash sha256 or sha512,
//     keys ed25519, ecdsa (nistp256/384/521) or rsa of at least 2048 bits.
//   - X.509 ("-----BEGIN SIGNED MESSAGE-----", gpg.format=x509), detached
//     CMS SignedData as gpgsm and gitsign write it; see AddX509 for the
//     certificate rules.
//
// A KeyRing is built once per trust policy (keys are parsed and indexed when
// added) and is then safe for concurrent use by any number of Verify calls.
// VerifyDeferred leaves the final equation of Ed25519 signatures (SSH and
// OpenPGP) to a Batch, which checks many of them at a fraction of the cost
// of checking each; see Batch for how its verdicts relate to Verify's.
// Every error wraps one of ErrUnsigned, ErrMalformed, ErrUntrusted or
// ErrInvalid and says why in words.
package signature

import (
	"errors"
	"fmt"
	"time"
)

// Format is a signature format, named as git's gpg.format names it.
type Format string

// The signature formats.
const (
	OpenPGP Format = "openpgp"
	SSH     Format = "ssh"
	X509    Format = "x509"
)

// The error classes. Every error of this package wraps exactly one.
var (
	ErrUnsigned  = errors.New("commit is not signed")
	ErrMalformed = errors.New("malformed")         // wrapped with detail
	ErrUntrusted = errors.New("no trusted key")    // signature by a key the policy does not list (or wrong identity/issuer/root)
	ErrInvalid   = errors.New("invalid signature") // bad signature, tampered payload, wrong SSH namespace, expired/revoked key or cert
)

// Verified is the result of a successful verification.
type Verified struct {
	Signer string // the name the trust policy gives the key's owner
	Format Format
	// KeyID is the key's fingerprint: SSH "SHA256:<base64>" as ssh-keygen
	// prints it, OpenPGP the primary key's fingerprint in upper-case hex
	// as gpg prints it, X.509 the lower-case hex SHA-256 of the signer's
	// certificate.
	KeyID string
}

// KeyRing holds the trusted public keys of one trust policy, each tagged
// with its signer's name. SSH keys are indexed by their wire encoding,
// OpenPGP keys by key id, X.509 identities by exact SAN; a lookup costs one
// map access. A key may belong to one signer only.
type KeyRing struct {
	ssh    map[string]*sshKey
	pgp    map[uint64][]*pgpKey
	x509ID map[string][]*x509Entry // exact identity -> entries
	x509Re []*x509Entry            // entries matched by regular expression
	n      int
}

// NewKeyRing returns an empty key ring.
func NewKeyRing() *KeyRing {
	return &KeyRing{
		ssh:    map[string]*sshKey{},
		pgp:    map[uint64][]*pgpKey{},
		x509ID: map[string][]*x509Entry{},
	}
}

// Len returns the number of keys (SSH keys, OpenPGP certificates, X.509
// identities) in the ring.
func (r *KeyRing) Len() int { return r.n }

// Verify checks the armored signature sig over payload. `at` is the
// verification time (X.509 certificate validity; OpenPGP signature expiry).
// It detects the format from the armor.
func (r *KeyRing) Verify(payload, sig []byte, at time.Time) (Verified, error) {
	var b Batch
	v, p, err := r.VerifyDeferred(payload, sig, at, &b)
	if err != nil || !p.Deferred() {
		return v, err
	}
	b.Check()
	if err := p.Err(); err != nil {
		return Verified{}, err
	}
	return v, nil
}

// VerifyDeferred is Verify for many signatures at once: every check is
// made except, for Ed25519 keys (SSH ssh-ed25519, OpenPGP EdDSA and
// Ed25519), the final signature equation, which is added to b. Then the
// returned Verified holds only if, after b.Check, the Pending's Err is nil;
// an error returned here is final. Verdicts and reasons are those of
// Verify (see Batch for how the batch decides).
func (r *KeyRing) VerifyDeferred(payload, sig []byte, at time.Time, b *Batch) (Verified, Pending, error) {
	if len(sig) == 0 {
		return Verified{}, Pending{}, ErrUnsigned
	}
	typ, block, err := splitArmor(sig)
	if err != nil {
		return Verified{}, Pending{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	switch typ {
	case armorSSH:
		return r.verifySSH(payload, block, b)
	case armorOpenPGP:
		return r.verifyOpenPGP(payload, block, at, b)
	case armorX509:
		v, err := r.verifyX509(payload, block, at)
		return v, Pending{}, err
	}
	return Verified{}, Pending{}, fmt.Errorf("%w: unsupported signature armor %q", ErrMalformed, truncate([]byte(typ)))
}

func checkSigner(signer string) error {
	if signer == "" {
		return fmt.Errorf("%w: empty signer name", ErrMalformed)
	}
	return nil
}

func conflict(kind, key, owner, signer string) error {
	return fmt.Errorf("%w: %s %s already belongs to signer %q, cannot also belong to %q", ErrMalformed, kind, key, owner, signer)
}
