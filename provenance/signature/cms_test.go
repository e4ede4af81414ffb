package signature_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"gitgate.dev/gitgate/provenance/gittest"
	"gitgate.dev/gitgate/provenance/signature"
)

// This file builds CMS signatures in Go the way gitsign does (DER,
// ECDSA P-256 keys, Fulcio-style certificates with an empty subject and a
// code-signing EKU), to cover what gpgsm cannot make: ECDSA and Ed25519
// signers, subject-key-identifier signer ids, and structurally broken
// messages.

type cmsAttribute struct {
	Type   asn1.ObjectIdentifier
	Values []asn1.RawValue `asn1:"set"`
}

type cmsAlgorithm struct {
	Algorithm asn1.ObjectIdentifier
}

type cmsIssuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type cmsSignerInfo struct {
	Version     int
	SID         asn1.RawValue
	Digest      cmsAlgorithm
	SignedAttrs asn1.RawValue `asn1:"optional"`
	SigAlg      cmsAlgorithm
	Signature   []byte
}

// RawValue fields carry their own class and tag when marshalled (struct
// tags other than optional do not apply to them), so [0] EXPLICIT
// wrappers are built by hand.
type cmsEncap struct {
	Type    asn1.ObjectIdentifier
	Content asn1.RawValue `asn1:"optional"`
}

type cmsSignedData struct {
	Version      int
	Digests      []cmsAlgorithm `asn1:"set"`
	Encap        cmsEncap
	Certificates asn1.RawValue   `asn1:"optional"`
	SignerInfos  []cmsSignerInfo `asn1:"set"`
}

type cmsContentInfo struct {
	Type    asn1.ObjectIdentifier
	Content asn1.RawValue
}

func explicit0(der []byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: der}
}

var (
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA1          = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidECDSASHA256   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSASHA384   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidEd25519       = asn1.ObjectIdentifier{1, 3, 101, 112}
)

// cmsOptions tweaks the message cmsSign builds, to make broken ones.
type cmsOptions struct {
	useSKI         bool
	sigAlg         asn1.ObjectIdentifier // default by key type
	digestAlg      asn1.ObjectIdentifier // default SHA-256
	noContentType  bool
	dupDigest      bool
	attached       bool
	twoSigners     bool
	wrongDigest    bool
	extraCerts     [][]byte
	noSignedAttrs  bool
	omitSignerCert bool
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func attr(t *testing.T, oid asn1.ObjectIdentifier, value any) cmsAttribute {
	t.Helper()
	return cmsAttribute{Type: oid, Values: []asn1.RawValue{{FullBytes: mustMarshal(t, value)}}}
}

// cmsSign signs payload with key for cert, as gitsign does, and returns
// the armored signature.
func cmsSign(t *testing.T, payload []byte, cert *x509.Certificate, key crypto.Signer, o cmsOptions) []byte {
	t.Helper()
	digest := sha256.Sum256(payload)
	if o.wrongDigest {
		digest[0] ^= 1
	}
	attrs := []cmsAttribute{
		attr(t, oidSigningTime, time.Now().UTC()),
		attr(t, oidMessageDigest, digest[:]),
	}
	if !o.noContentType {
		attrs = append([]cmsAttribute{attr(t, oidContentType, oidData)}, attrs...)
	}
	if o.dupDigest {
		attrs = append(attrs, attr(t, oidMessageDigest, digest[:]))
	}
	setDER := mustMarshal(t, struct {
		A []cmsAttribute `asn1:"set"`
	}{attrs})
	// The struct wrapper adds a SEQUENCE header; the SET inside it is the
	// DER the signature covers.
	var outer asn1.RawValue
	if _, err := asn1.Unmarshal(setDER, &outer); err != nil {
		t.Fatal(err)
	}
	set := outer.Bytes
	h := sha256.Sum256(set)
	var sig []byte
	var err error
	sigAlg := o.sigAlg
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		sig, err = ecdsa.SignASN1(rand.Reader, k, h[:])
		if sigAlg == nil {
			sigAlg = oidECDSASHA256
		}
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, set)
		if sigAlg == nil {
			sigAlg = oidEd25519
		}
	default:
		t.Fatalf("unsupported key %T", key)
	}
	if err != nil {
		t.Fatal(err)
	}
	digestAlg := o.digestAlg
	if digestAlg == nil {
		digestAlg = oidSHA256
	}
	si := cmsSignerInfo{Version: 1, Digest: cmsAlgorithm{digestAlg}, SigAlg: cmsAlgorithm{sigAlg}, Signature: sig}
	if !o.noSignedAttrs {
		// [0] IMPLICIT: the SET's content under a context tag.
		var setVal asn1.RawValue
		if _, err := asn1.Unmarshal(set, &setVal); err != nil {
			t.Fatal(err)
		}
		si.SignedAttrs = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: setVal.Bytes}
	}
	if o.useSKI {
		si.Version = 3
		si.SID = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: cert.SubjectKeyId}
	} else {
		si.SID = asn1.RawValue{FullBytes: mustMarshal(t, cmsIssuerAndSerial{Issuer: asn1.RawValue{FullBytes: cert.RawIssuer}, Serial: cert.SerialNumber})}
	}
	certs := append([][]byte(nil), o.extraCerts...)
	if !o.omitSignerCert {
		certs = append(certs, cert.Raw)
	}
	var certBytes []byte
	for _, c := range certs {
		certBytes = append(certBytes, c...)
	}
	sd := cmsSignedData{
		Version: 1, Digests: []cmsAlgorithm{{digestAlg}}, Encap: cmsEncap{Type: oidData},
		Certificates: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: certBytes},
		SignerInfos:  []cmsSignerInfo{si},
	}
	if o.twoSigners {
		sd.SignerInfos = append(sd.SignerInfos, si)
	}
	if o.attached {
		sd.Encap.Content = explicit0(mustMarshal(t, payload))
	}
	ci := cmsContentInfo{Type: oidSignedData, Content: explicit0(mustMarshal(t, sd))}
	return pem.EncodeToMemory(&pem.Block{Type: "SIGNED MESSAGE", Bytes: mustMarshal(t, ci)})
}

// fulcioLeaf issues a gitsign-style certificate: empty subject, SAN and
// issuer extension, code signing.
func fulcioLeaf(t *testing.T, ca *gittest.CA, pub crypto.PublicKey, email, issuer string) *x509.Certificate {
	t.Helper()
	der, err := asn1.MarshalWithParams(issuer, "utf8")
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		NotBefore:   time.Now().Add(-time.Minute),
		NotAfter:    time.Now().Add(10 * time.Minute),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	if strings.Contains(email, "@") {
		tmpl.EmailAddresses = []string{email}
	} else {
		u, err := url.Parse(email)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = []*url.URL{u}
	}
	tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: gittest.OIDFulcioIssuerV2, Value: der})
	// Go adds a subject key id only to CA certificates; signers may be
	// named by it, so leaves get one too.
	tmpl.SubjectKeyId = make([]byte, 20)
	if _, err := rand.Read(tmpl.SubjectKeyId); err != nil {
		t.Fatal(err)
	}
	return ca.IssueCert(t, tmpl, pub)
}

func TestCMSGitsignStyle(t *testing.T) {
	t.Parallel()
	ca := gittest.NewX509CA(t)
	inter := ca.NewIntermediate(t)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	const issuer = "https://oauth2.sigstore.dev/auth"
	ecCert := fulcioLeaf(t, inter, ecKey.Public(), "carol@example.com", issuer)
	edCert := fulcioLeaf(t, ca, edKey.Public(), "https://ci.example.com/workflow", issuer)
	interDER := inter.Cert.Raw
	payload := fixture(t, testdataUnsigned)

	ring := signature.NewKeyRing()
	if err := ring.AddX509("carol", signature.X509Identity{Roots: ca.RootPEM(), Identity: "carol@example.com", Issuer: issuer}); err != nil {
		t.Fatal(err)
	}
	if err := ring.AddX509("ci", signature.X509Identity{Roots: ca.RootPEM(), Identity: "https://ci.example.com/workflow", Issuer: issuer}); err != nil {
		t.Fatal(err)
	}
	withInter := cmsOptions{extraCerts: [][]byte{interDER}}
	tlsCert := ca.IssueCert(t, &x509.Certificate{
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		EmailAddresses: []string{"carol@example.com"}, SubjectKeyId: []byte{1, 2, 3},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ecKey.Public())
	cases := []struct {
		name   string
		sig    []byte
		signer string
		want   error
		reason string
	}{
		{name: "ecdsa", sig: cmsSign(t, payload, ecCert, ecKey, withInter), signer: "carol"},
		{name: "ecdsa with subject key id", sig: cmsSign(t, payload, ecCert, ecKey, cmsOptions{useSKI: true, extraCerts: withInter.extraCerts}), signer: "carol"},
		{name: "ed25519 uri identity", sig: cmsSign(t, payload, edCert, edKey, cmsOptions{}), signer: "ci"},
		{name: "intermediate missing", sig: cmsSign(t, payload, ecCert, ecKey, cmsOptions{}), want: signature.ErrUntrusted, reason: "unknown authority"},
		{name: "signer certificate missing", sig: cmsSign(t, payload, ecCert, ecKey, cmsOptions{omitSignerCert: true, extraCerts: withInter.extraCerts}), want: signature.ErrMalformed, reason: "not in the signature"},
		{name: "wrong message digest", sig: cmsSign(t, payload, ecCert, ecKey, cmsOptions{wrongDigest: true, extraCerts: withInter.extraCerts}), want: signature.ErrInvalid, reason: "message digest"},
		{name: "signature algorithm of another hash", sig: cmsSign(t, payload, ecCert, ecKey, cmsOptions{sigAlg: oidECDSASHA384, extraCerts: withInter.extraCerts}), want: signature.ErrInvalid},
		{name: "sha1 digest", sig: cmsSign(t, payload, ecCert, ecKey, cmsOptions{digestAlg: oidSHA1, extraCerts: withInter.extraCerts}), want: signature.ErrInvalid, reason: "SHA-256"},
		{name: "no content type attribute", sig: cmsSign(t, payload, ecCert, ecKey, cmsOptions{noContentType: true, extraCerts: withInter.extraCerts}), want: signature.ErrMalformed},
		{name: "duplicate message digest attribute", sig: cmsSign(t, payload, ecCert, ecKey, cmsOptions{dupDigest: true, extraCerts: withInter.extraCerts}), want: signature.ErrMalformed, reason: "twice"},
		{name: "two signer infos", sig: cmsSign(t, payload, ecCert, ecKey, cmsOptions{twoSigners: true, extraCerts: withInter.extraCerts}), want: signature.ErrMalformed, reason: "exactly one"},
		{name: "attached content", sig: cmsSign(t, payload, ecCert, ecKey, cmsOptions{attached: true, extraCerts: withInter.extraCerts}), want: signature.ErrMalformed, reason: "detached"},
		{name: "tls-only certificate", sig: cmsSign(t, payload, tlsCert, ecKey, cmsOptions{}), want: signature.ErrInvalid, reason: "extended key usage"},
		{name: "no signed attributes", sig: cmsSign(t, payload, ecCert, ecKey, cmsOptions{noSignedAttrs: true, extraCerts: withInter.extraCerts}), want: signature.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := ring.Verify(payload, tc.sig, time.Now())
			if tc.want == nil {
				if err != nil || v.Signer != tc.signer || v.Format != signature.X509 {
					t.Fatalf("Verify = %+v, %v; want signer %s", v, err, tc.signer)
				}
				if _, err := ring.Verify(append([]byte("x"), payload...), tc.sig, time.Now()); !errors.Is(err, signature.ErrInvalid) {
					t.Fatalf("Verify of another payload = %v, want ErrInvalid", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("Verify = %v, want %v saying %q", err, tc.want, tc.reason)
			}
		})
	}
}
