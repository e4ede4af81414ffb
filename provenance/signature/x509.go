package signature

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// X509Identity describes who may sign with an X.509 certificate: a
// certificate chaining to Roots whose SAN names Identity (or matches
// IdentityRegexp) and, when Issuer is set, whose Fulcio issuer extension
// names Issuer.
type X509Identity struct {
	Roots          string // PEM CA certificate(s)
	Identity       string // exact SAN email or URI
	IdentityRegexp string // RE2, alternative to Identity
	Issuer         string // optional OIDC issuer (Fulcio issuer extension)
}

// Fulcio's OIDC issuer extensions: the current one holds a DER UTF8String,
// the deprecated one the raw string.
var (
	oidFulcioIssuerV2     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}
	oidFulcioIssuerLegacy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}
)

// maxRootCerts bounds a policy entry's PEM bundle.
const maxRootCerts = 64

type x509Entry struct {
	signer   string
	roots    *x509.CertPool
	rootsKey string // identifies the bundle, to tell duplicate entries apart
	identity string
	re       *regexp.Regexp
	issuer   string
}

// AddX509 adds an X.509 identity. A signature passes when its signer
// certificate
//   - chains, through the intermediates carried in the signature, to one of
//     Roots, every certificate valid at the verification time;
//   - has a SAN email or URI equal to Identity, or fully matching
//     IdentityRegexp (the expression is anchored at both ends);
//   - names Issuer in its Fulcio issuer extension (1.3.6.1.4.1.57264.1.8,
//     or the legacy 1.3.6.1.4.1.57264.1.1), when Issuer is set;
//   - may sign: key usage, if present, includes digital signature or
//     content commitment; extended key usage, if present, includes code
//     signing, email protection or any. That is as permissive as gitsign
//     (Fulcio issues code-signing certificates) and gpgsm (S/MIME
//     certificates carry email protection), and refuses TLS-only
//     certificates.
func (r *KeyRing) AddX509(signer string, id X509Identity) error {
	if err := checkSigner(signer); err != nil {
		return err
	}
	e, err := newX509Entry(signer, id)
	if err != nil {
		return fmt.Errorf("%w: x509 identity of %q: %w", ErrMalformed, signer, err)
	}
	others := r.x509Re
	if e.re == nil {
		others = r.x509ID[e.identity]
	}
	for _, old := range others {
		if old.rootsKey == e.rootsKey && old.issuer == e.issuer && old.identity == e.identity && sameRegexp(old.re, e.re) {
			if old.signer != signer {
				return conflict("x509 identity", e.describe(), old.signer, signer)
			}
			return nil
		}
	}
	if e.re == nil {
		r.x509ID[e.identity] = append(r.x509ID[e.identity], e)
	} else {
		r.x509Re = append(r.x509Re, e)
	}
	r.n++
	return nil
}

func newX509Entry(signer string, id X509Identity) (*x509Entry, error) {
	if (id.Identity == "") == (id.IdentityRegexp == "") {
		return nil, fmt.Errorf("exactly one of identity and identityRegexp must be set")
	}
	certs, err := cryptoutils.UnmarshalCertificatesFromPEMLimited([]byte(id.Roots), maxRootCerts)
	if err != nil {
		return nil, fmt.Errorf("roots: %w", err)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("roots: no certificate")
	}
	pool := x509.NewCertPool()
	sum := sha256.New()
	for _, c := range certs {
		pool.AddCert(c)
		sum.Write(c.Raw)
	}
	e := &x509Entry{signer: signer, roots: pool, rootsKey: string(sum.Sum(nil)), identity: id.Identity, issuer: id.Issuer}
	if id.IdentityRegexp != "" {
		if e.re, err = regexp.Compile("^(?:" + id.IdentityRegexp + ")$"); err != nil {
			return nil, fmt.Errorf("identityRegexp: %w", err)
		}
	}
	return e, nil
}

func sameRegexp(a, b *regexp.Regexp) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.String() == b.String()
}

func (e *x509Entry) describe() string {
	if e.re != nil {
		return fmt.Sprintf("matching %q", e.re.String())
	}
	return fmt.Sprintf("%q", e.identity)
}

func (r *KeyRing) verifyX509(payload, block []byte, at time.Time) (Verified, error) {
	p, rest := pem.Decode(block)
	if p == nil || len(bytes.TrimSpace(rest)) > 0 {
		return Verified{}, fmt.Errorf("%w: x509 signature: bad armor", ErrMalformed)
	}
	sd, err := parseCMS(p.Bytes)
	if err != nil {
		return Verified{}, fmt.Errorf("%w: x509 signature: %w", ErrMalformed, err)
	}
	leaf, others, err := sd.signerCert()
	if err != nil {
		return Verified{}, fmt.Errorf("%w: x509 signature: %w", ErrMalformed, err)
	}
	keyID := certID(leaf)
	if err := sd.signer.verify(payload, leaf); err != nil {
		return Verified{}, fmt.Errorf("%w: x509 signature by certificate %s: %w", ErrInvalid, keyID, err)
	}
	signer, err := r.trustX509(leaf, others, at)
	if err != nil {
		return Verified{}, fmt.Errorf("x509 signature by certificate %s (%s): %w", keyID, describeCert(leaf), err)
	}
	return Verified{Signer: signer, Format: X509, KeyID: keyID}, nil
}

// signerCert parses the certificates in the message and returns the one
// the signer info names, and the others as intermediates.
func (sd *cmsSignedData) signerCert() (*x509.Certificate, *x509.CertPool, error) {
	var leaf *x509.Certificate
	others := x509.NewCertPool()
	for _, der := range sd.certs {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, nil, fmt.Errorf("certificate: %w", err)
		}
		if sd.signer.names(c) {
			if leaf != nil {
				return nil, nil, fmt.Errorf("two certificates match the signer")
			}
			leaf = c
			continue
		}
		others.AddCert(c)
	}
	if leaf == nil {
		return nil, nil, fmt.Errorf("the signer's certificate is not in the signature")
	}
	return leaf, others, nil
}

func (si *cmsSignerInfo) names(c *x509.Certificate) bool {
	if si.sidKeyID != nil {
		return len(c.SubjectKeyId) > 0 && bytes.Equal(c.SubjectKeyId, si.sidKeyID)
	}
	return bytes.Equal(c.RawIssuer, si.sidIssuer) && c.SerialNumber.Cmp(si.sidSerial) == 0
}

// Digest and signature algorithm identifiers.
var (
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}

	oidRSA            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidRSASHA256      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidRSASHA384      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidRSASHA512      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidECPublicKey    = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidECDSASHA256    = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSASHA384    = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSASHA512    = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidEd25519        = asn1.ObjectIdentifier{1, 3, 101, 112}
	errUnsupportedAlg = errors.New("unsupported algorithm")
)

func digestHash(oid asn1.ObjectIdentifier) (crypto.Hash, error) {
	switch {
	case oid.Equal(oidSHA256):
		return crypto.SHA256, nil
	case oid.Equal(oidSHA384):
		return crypto.SHA384, nil
	case oid.Equal(oidSHA512):
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("digest algorithm %v: %w (SHA-256, SHA-384 or SHA-512 required)", oid, errUnsupportedAlg)
}

// verify checks the message digest attribute against the payload and the
// signature over the signed attributes with the certificate's key.
func (si *cmsSignerInfo) verify(payload []byte, cert *x509.Certificate) error {
	h, err := digestHash(si.digestAlg)
	if err != nil {
		return err
	}
	d := h.New()
	d.Write(payload)
	if subtle.ConstantTimeCompare(d.Sum(nil), si.digest) != 1 {
		return fmt.Errorf("message digest does not match the commit")
	}
	d.Reset()
	d.Write(si.signedAttr)
	attrDigest := d.Sum(nil)
	alg := si.sigAlg
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if err := algHashMatches(alg, h, oidRSA, oidRSASHA256, oidRSASHA384, oidRSASHA512); err != nil {
			return err
		}
		if pub.N.BitLen() < minRSABits {
			return fmt.Errorf("rsa key has %d bits, at least %d are required", pub.N.BitLen(), minRSABits)
		}
		if err := rsa.VerifyPKCS1v15(pub, h, attrDigest, si.signature); err != nil {
			return fmt.Errorf("signature does not match: %w", err)
		}
	case *ecdsa.PublicKey:
		if err := algHashMatches(alg, h, oidECPublicKey, oidECDSASHA256, oidECDSASHA384, oidECDSASHA512); err != nil {
			return err
		}
		if !ecdsa.VerifyASN1(pub, attrDigest, si.signature) {
			return fmt.Errorf("signature does not match")
		}
	case ed25519.PublicKey:
		if !alg.Equal(oidEd25519) {
			return fmt.Errorf("signature algorithm %v does not fit an ed25519 key", alg)
		}
		if !ed25519.Verify(pub, si.signedAttr, si.signature) {
			return fmt.Errorf("signature does not match")
		}
	default:
		return fmt.Errorf("certificate key type %T is not supported", cert.PublicKey)
	}
	return nil
}

// algHashMatches accepts the key's plain algorithm identifier (the digest
// algorithm then names the hash) or a combined one naming the same hash
// as the digest algorithm, in the order SHA-256, SHA-384, SHA-512.
func algHashMatches(alg asn1.ObjectIdentifier, h crypto.Hash, plain, s256, s384, s512 asn1.ObjectIdentifier) error {
	switch {
	case alg.Equal(plain),
		alg.Equal(s256) && h == crypto.SHA256,
		alg.Equal(s384) && h == crypto.SHA384,
		alg.Equal(s512) && h == crypto.SHA512:
		return nil
	}
	return fmt.Errorf("signature algorithm %v: %w with digest %v", alg, errUnsupportedAlg, h)
}

// trustX509 finds the policy entry that vouches for the certificate and
// returns its signer. An identity that no entry names, or a certificate
// that chains to none of the roots of the entries naming it, is untrusted;
// a certificate that is expired (or not yet valid) at `at` is invalid.
func (r *KeyRing) trustX509(leaf *x509.Certificate, intermediates *x509.CertPool, at time.Time) (string, error) {
	if at.Before(leaf.NotBefore) || at.After(leaf.NotAfter) {
		return "", fmt.Errorf("%w: certificate is valid from %s to %s, not at %s", ErrInvalid,
			leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
	}
	if err := checkCertUsage(leaf); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	candidates := r.x509Candidates(leaf)
	if len(candidates) == 0 {
		return "", fmt.Errorf("%w: no x509 identity in the trust policy names %s", ErrUntrusted, strings.Join(certIdentities(leaf), ", "))
	}
	issuer, err := certIssuer(leaf)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	signers := map[string]bool{}
	var chainErr, issuerErr error
	for _, e := range candidates {
		if e.issuer != "" && e.issuer != issuer {
			issuerErr = fmt.Errorf("%w: certificate issuer is %q, the trust policy wants %q", ErrUntrusted, issuer, e.issuer)
			continue
		}
		_, err := leaf.Verify(x509.VerifyOptions{
			Roots: e.roots, Intermediates: intermediates, CurrentTime: at,
			// Extended key usage is checked on the leaf by checkCertUsage.
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		})
		if err != nil {
			chainErr = chainError(err)
			continue
		}
		signers[e.signer] = true
	}
	switch len(signers) {
	case 0:
		if chainErr != nil {
			return "", chainErr
		}
		return "", issuerErr
	case 1:
		for s := range signers {
			return s, nil
		}
	}
	names := make([]string, 0, len(signers))
	for s := range signers {
		names = append(names, s)
	}
	sort.Strings(names)
	return "", fmt.Errorf("%w: certificate matches the identities of several signers (%s)", ErrUntrusted, strings.Join(names, ", "))
}

// chainError classifies a chain failure: expiry of a CA is invalid, any
// other failure (unknown authority above all) untrusted.
func chainError(err error) error {
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) && inv.Reason == x509.Expired {
		return fmt.Errorf("%w: certificate chain: %w", ErrInvalid, err)
	}
	return fmt.Errorf("%w: certificate chain: %w", ErrUntrusted, err)
}

func (r *KeyRing) x509Candidates(leaf *x509.Certificate) []*x509Entry {
	var out []*x509Entry
	ids := certIdentities(leaf)
	for _, id := range ids {
		out = append(out, r.x509ID[id]...)
	}
	for _, e := range r.x509Re {
		for _, id := range ids {
			if e.re.MatchString(id) {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

// certIdentities lists the SAN emails and URIs.
func certIdentities(c *x509.Certificate) []string {
	ids := append([]string(nil), c.EmailAddresses...)
	for _, u := range c.URIs {
		ids = append(ids, u.String())
	}
	return ids
}

// certIssuer reads the Fulcio OIDC issuer; the current extension wins over
// the legacy one, and two that disagree are refused.
func certIssuer(c *x509.Certificate) (string, error) {
	var v2, legacy string
	var haveV2, haveLegacy bool
	for _, ext := range c.Extensions {
		switch {
		case ext.Id.Equal(oidFulcioIssuerV2):
			if haveV2 {
				return "", fmt.Errorf("certificate has two issuer extensions")
			}
			rest, err := asn1.UnmarshalWithParams(ext.Value, &v2, "utf8")
			if err != nil || len(rest) > 0 {
				return "", fmt.Errorf("certificate issuer extension is not a UTF8String")
			}
			haveV2 = true
		case ext.Id.Equal(oidFulcioIssuerLegacy):
			if haveLegacy {
				return "", fmt.Errorf("certificate has two legacy issuer extensions")
			}
			legacy, haveLegacy = string(ext.Value), true
		}
	}
	if haveV2 && haveLegacy && v2 != legacy {
		return "", fmt.Errorf("certificate issuer extensions disagree (%q, %q)", v2, legacy)
	}
	if haveV2 {
		return v2, nil
	}
	return legacy, nil
}

// checkCertUsage applies the key usage rules documented on AddX509.
func checkCertUsage(c *x509.Certificate) error {
	if c.KeyUsage != 0 && c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return fmt.Errorf("certificate key usage does not allow signatures")
	}
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return nil
	}
	for _, u := range c.ExtKeyUsage {
		switch u {
		case x509.ExtKeyUsageCodeSigning, x509.ExtKeyUsageEmailProtection, x509.ExtKeyUsageAny:
			return nil
		}
	}
	return fmt.Errorf("certificate extended key usage allows neither code signing nor email protection")
}

// certID is the hex SHA-256 of the certificate.
func certID(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

func describeCert(c *x509.Certificate) string {
	ids := certIdentities(c)
	if len(ids) == 0 {
		return "no SAN email or URI"
	}
	return strings.Join(ids, ", ")
}
