package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// backdate moves NotBefore into the past so that a peer whose clock is a
// little behind ours accepts a certificate made a moment ago.
const backdate = 5 * time.Minute

// authority is one CA: its certificate and signing key.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// renewAt returns the time at which a certificate is due for renewal: two
// thirds into its validity.
func renewAt(c *x509.Certificate) time.Time {
	life := c.NotAfter.Sub(c.NotBefore)
	return c.NotBefore.Add(life / 3 * 2)
}

func serialNumber() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

// newAuthority makes a self-signed CA valid from now-backdate for lifetime.
func newAuthority(now time.Time, lifetime time.Duration, commonName string) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("ca key: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: fmt.Sprintf("%s %s", commonName, now.UTC().Format("2006-01-02T15:04:05Z"))},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(lifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		// The CA signs only leaf certificates.
		MaxPathLenZero: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("ca certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca certificate: %w", err)
	}
	return &authority{cert: cert, key: key}, nil
}

// issue signs a serving certificate for the names, valid from now-backdate
// for lifetime but never beyond the CA.
func (a *authority) issue(now time.Time, lifetime time.Duration, dnsNames []string, ips []net.IP) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("serving key: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	notAfter := now.Add(lifetime)
	if notAfter.After(a.cert.NotAfter) {
		notAfter = a.cert.NotAfter
	}
	cn := "gitgate-webhook"
	if len(dnsNames) > 0 {
		cn = dnsNames[0]
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              dnsNames,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// encodeCerts writes the certificates as PEM, in order.
func encodeCerts(cas []*authority) []byte {
	var b bytes.Buffer
	for _, a := range cas {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: a.cert.Raw})
	}
	return b.Bytes()
}

// encodeKeys writes the CAs' keys as PKCS #8 PEM, in the certificates'
// order.
func encodeKeys(cas []*authority) ([]byte, error) {
	var b bytes.Buffer
	for _, a := range cas {
		der, err := x509.MarshalPKCS8PrivateKey(a.key)
		if err != nil {
			return nil, fmt.Errorf("encode ca key: %w", err)
		}
		_ = pem.Encode(&b, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	return b.Bytes(), nil
}

// Limits on stored CA material: a few CAs overlap at most during rotation,
// so anything larger is not ours.
const (
	maxStoredBytes = 64 << 10
	maxStoredCAs   = 8
)

// ErrMalformedStore is wrapped by errors about stored CA material that
// cannot be used.
var ErrMalformedStore = errors.New("malformed stored CA")

// parseAuthorities reads CA certificates and their keys as encodeCerts and
// encodeKeys write them, pairing each certificate with the key of the same
// public key. Every certificate must be a CA with an ECDSA P-256 key that
// signed itself, and have its key; there must be as many keys as
// certificates.
func parseAuthorities(certsPEM, keysPEM []byte) ([]*authority, error) {
	if len(certsPEM) > maxStoredBytes || len(keysPEM) > maxStoredBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrMalformedStore, maxStoredBytes)
	}
	certs, err := pemBlocks(certsPEM, "CERTIFICATE")
	if err != nil {
		return nil, err
	}
	keys, err := pemBlocks(keysPEM, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	if len(certs) != len(keys) {
		return nil, fmt.Errorf("%w: %d certificates but %d keys", ErrMalformedStore, len(certs), len(keys))
	}
	cas := make([]*authority, 0, len(certs))
	for i, der := range certs {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate %d: %w", ErrMalformedStore, i+1, err)
		}
		pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
		if !ok || pub.Curve != elliptic.P256() || !cert.IsCA {
			return nil, fmt.Errorf("%w: certificate %d is not an ECDSA P-256 CA", ErrMalformedStore, i+1)
		}
		if err := cert.CheckSignatureFrom(cert); err != nil {
			return nil, fmt.Errorf("%w: certificate %d is not self-signed: %w", ErrMalformedStore, i+1, err)
		}
		key, err := matchingKey(keys, pub)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate %d: %w", ErrMalformedStore, i+1, err)
		}
		cas = append(cas, &authority{cert: cert, key: key})
	}
	return cas, nil
}

func pemBlocks(data []byte, typ string) ([][]byte, error) {
	var out [][]byte
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != typ {
			return nil, fmt.Errorf("%w: PEM block %q, want %q", ErrMalformedStore, b.Type, typ)
		}
		if len(out) == maxStoredCAs {
			return nil, fmt.Errorf("%w: more than %d %s blocks", ErrMalformedStore, maxStoredCAs, typ)
		}
		out = append(out, b.Bytes)
	}
	if len(bytes.TrimSpace(data)) > 0 {
		return nil, fmt.Errorf("%w: data that is not PEM", ErrMalformedStore)
	}
	return out, nil
}

func matchingKey(keys [][]byte, pub *ecdsa.PublicKey) (*ecdsa.PrivateKey, error) {
	for _, der := range keys {
		k, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("key: %w", err)
		}
		ek, ok := k.(*ecdsa.PrivateKey)
		if ok && ek.PublicKey.Equal(pub) {
			return ek, nil
		}
	}
	return nil, errors.New("no key for its public key")
}
