package gittest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // gpgsm names certificates by their SHA-1 fingerprint
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Fulcio's certificate extensions naming the OIDC issuer: the current one
// holds a DER UTF8String, the legacy one the raw string bytes.
var (
	OIDFulcioIssuerV2     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}
	OIDFulcioIssuerLegacy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}
)

// CA is a certificate authority made in Go: a self-signed root, or an
// intermediate issued by another CA.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer

	root  *x509.Certificate
	chain []*x509.Certificate // intermediates from this CA up to, not including, the root
}

// NewX509CA makes a root CA (ECDSA P-256) valid from a year ago for ten
// years, so that leaf certificates can be backdated (expired) inside it.
func NewX509CA(t testing.TB) *CA {
	t.Helper()
	key := newECKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: "gitgate test root", Organization: []string{"gitgate tests"}},
		NotBefore:             time.Now().AddDate(-1, 0, 0),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	cert := createCert(t, tmpl, tmpl, key.Public(), key)
	return &CA{Cert: cert, Key: key, root: cert}
}

// NewIntermediate issues an intermediate CA under c.
func (c *CA) NewIntermediate(t testing.TB) *CA {
	t.Helper()
	key := newECKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: "gitgate test intermediate"},
		NotBefore:             time.Now().AddDate(-1, 0, 0),
		NotAfter:              time.Now().AddDate(5, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	cert := createCert(t, tmpl, c.Cert, key.Public(), c.Key)
	return &CA{Cert: cert, Key: key, root: c.root, chain: append([]*x509.Certificate{cert}, c.chain...)}
}

// RootPEM returns the PEM of the root certificate this CA chains to.
func (c *CA) RootPEM() string { return certPEM(c.root) }

// CertPEM returns the PEM of this CA's own certificate.
func (c *CA) CertPEM() string { return certPEM(c.Cert) }

// X509Options describes the leaf certificate NewGPGSMSigner issues.
type X509Options struct {
	// URI adds a URI SAN (as Fulcio does for workload identities).
	URI string
	// Issuer adds Fulcio's OIDC issuer extension 1.3.6.1.4.1.57264.1.8.
	Issuer string
	// LegacyIssuer adds the deprecated extension 1.3.6.1.4.1.57264.1.1.
	LegacyIssuer string
	// NotBefore and NotAfter default to an hour ago and a day from now.
	// A NotAfter in the past makes an expired certificate; gpgsm then signs
	// with a faked clock inside the validity period.
	NotBefore time.Time
	NotAfter  time.Time
	// ExtKeyUsage defaults to code signing, as Fulcio issues.
	ExtKeyUsage []x509.ExtKeyUsage
}

// NewGPGSMSigner issues a leaf certificate with SAN email (when not empty)
// for a key that gpgsm generates (RSA 2048, from its certificate request),
// and sets up an isolated gpgsm home that trusts this CA's root, does no CRL
// or OCSP checks and signs with the certificate, so that `git -c
// gpg.format=x509 -c gpg.x509.program=gpgsm commit -S` works.
func (c *CA) NewGPGSMSigner(t testing.TB, email string, opts X509Options) *Signer {
	t.Helper()
	requireTool(t, "gpgsm")
	requireTool(t, "gpgconf")
	if opts.NotBefore.IsZero() {
		opts.NotBefore = time.Now().Add(-time.Hour)
	}
	if opts.NotAfter.IsZero() {
		opts.NotAfter = time.Now().Add(24 * time.Hour)
	}
	if opts.ExtKeyUsage == nil {
		opts.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
	}
	name := email
	if name == "" {
		name = opts.URI
	}
	s := &Signer{Name: name, Email: email, Format: X509, t: t, baseEnv: baseEnv(t)}
	if s.Email == "" {
		s.Email = "x509@example.com"
	}
	s.Home = gnupgHome(t)

	conf := "disable-crl-checks\ndisable-policy-checks\ndisable-dirmngr\n"
	if now := time.Now(); now.Before(opts.NotBefore) || now.After(opts.NotAfter) {
		// gpgsm refuses to sign with a certificate outside its validity, so
		// sign at a moment inside it; the signature then says when that was.
		mid := opts.NotBefore.Add(opts.NotAfter.Sub(opts.NotBefore) / 2)
		conf += fmt.Sprintf("faked-system-time %d\n", mid.Unix())
	}
	writeFile(t, filepath.Join(s.Home, "gpgsm.conf"), conf)
	writeFile(t, filepath.Join(s.Home, "trustlist.txt"), sha1Hex(c.root, ":")+" S relax\n")

	csr := s.gpgsmRequest(t)
	leaf := c.issueLeaf(t, csr, email, opts)

	for _, cert := range append([]*x509.Certificate{c.root}, c.chain...) {
		s.importCert(t, cert)
	}
	s.importCert(t, leaf)
	s.Fingerprint = sha1Hex(leaf, "")
	s.SigningKey = s.Fingerprint
	return s
}

// gpgsmRequest makes gpgsm generate a key in its agent and returns the
// parsed certificate request.
func (s *Signer) gpgsmRequest(t testing.TB) *x509.CertificateRequest {
	t.Helper()
	params := filepath.Join(s.Home, "keyparams")
	writeFile(t, params, "Key-Type: RSA\nKey-Length: 2048\nKey-Usage: sign\nName-DN: CN=gitgate test signer\n")
	// --passphrase-fd reads an empty passphrase from stdin, so the key has
	// no protection and no pinentry is ever asked.
	out := s.tool(nil, "gpgsm", "--batch", "--pinentry-mode", "loopback", "--passphrase-fd", "0",
		"--armor", "--gen-key", params)
	block, _ := pem.Decode(out)
	if block == nil {
		t.Fatalf("gittest: gpgsm printed no certificate request:\n%s", out)
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		t.Fatalf("gittest: parse gpgsm certificate request: %v", err)
	}
	if err := csr.CheckSignature(); err != nil {
		t.Fatalf("gittest: gpgsm certificate request: %v", err)
	}
	return csr
}

func (c *CA) issueLeaf(t testing.TB, csr *x509.CertificateRequest, email string, opts X509Options) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: "gitgate test signer"},
		NotBefore:    opts.NotBefore,
		NotAfter:     opts.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  opts.ExtKeyUsage,
	}
	if email != "" {
		tmpl.EmailAddresses = []string{email}
	}
	if opts.URI != "" {
		u, err := url.Parse(opts.URI)
		if err != nil {
			t.Fatalf("gittest: URI SAN: %v", err)
		}
		tmpl.URIs = []*url.URL{u}
	}
	if opts.Issuer != "" {
		der, err := asn1.MarshalWithParams(opts.Issuer, "utf8")
		if err != nil {
			t.Fatalf("gittest: issuer extension: %v", err)
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: OIDFulcioIssuerV2, Value: der})
	}
	if opts.LegacyIssuer != "" {
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: OIDFulcioIssuerLegacy, Value: []byte(opts.LegacyIssuer)})
	}
	return createCert(t, tmpl, c.Cert, csr.PublicKey, c.Key)
}

func (s *Signer) importCert(t testing.TB, cert *x509.Certificate) {
	t.Helper()
	s.tool([]byte(certPEM(cert)), "gpgsm", "--batch", "--import")
}

// IssueCert signs tmpl for pub with this CA, for tests that need a
// certificate without gpgsm (e.g. to build CMS signatures in Go).
func (c *CA) IssueCert(t testing.TB, tmpl *x509.Certificate, pub crypto.PublicKey) *x509.Certificate {
	t.Helper()
	if tmpl.SerialNumber == nil {
		tmpl.SerialNumber = serial(t)
	}
	return createCert(t, tmpl, c.Cert, pub, c.Key)
}

// Chain returns the intermediates from this CA up to, not including, the
// root.
func (c *CA) Chain() []*x509.Certificate { return append([]*x509.Certificate(nil), c.chain...) }

func createCert(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		t.Fatalf("gittest: create certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("gittest: parse certificate: %v", err)
	}
	return cert
}

func newECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("gittest: %v", err)
	}
	return key
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatalf("gittest: %v", err)
	}
	return n.Add(n, big.NewInt(1))
}

func certPEM(cert *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
}

func sha1Hex(cert *x509.Certificate, sep string) string {
	sum := sha1.Sum(cert.Raw) //nolint:gosec // an identifier, not a security decision
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	if sep == "" {
		return h
	}
	parts := make([]string, 0, len(sum))
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, sep)
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("gittest: %v", err)
	}
}
