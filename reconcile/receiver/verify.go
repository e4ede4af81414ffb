package receiver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"
)

// signaturePrefix starts the value of X-Hub-Signature-256 and X-Signature.
const signaturePrefix = "sha256="

// verifier authenticates one request: the body is written to it, then
// verify checks the headers.
type verifier struct {
	io.Writer
	kind   Kind
	secret []byte
	mac    hash.Hash // nil for GitLab, whose token does not cover the body
}

func newVerifier(cfg Config) (*verifier, error) {
	if len(cfg.Secret) == 0 {
		// An empty HMAC key is public, so anyone could sign: refuse to
		// serve such a receiver rather than accept everyone.
		return nil, errors.New("the receiver's secret is empty")
	}
	v := &verifier{kind: cfg.Kind, secret: cfg.Secret, Writer: io.Discard}
	switch cfg.Kind {
	case GitHub, Generic:
		v.mac = hmac.New(sha256.New, cfg.Secret)
		v.Writer = v.mac
	case GitLab:
	default:
		return nil, fmt.Errorf("unknown receiver kind %q", cfg.Kind)
	}
	return v, nil
}

// verify checks the request's headers against the secret and the body
// written so far. The reason is for the log only.
func (v *verifier) verify(h http.Header) (string, bool) {
	switch v.kind {
	case GitHub:
		return v.verifyHMAC(h, GitHubSignatureHeader)
	case Generic:
		return v.verifyHMAC(h, SignatureHeader)
	default:
		return v.verifyToken(h)
	}
}

func (v *verifier) verifyHMAC(h http.Header, header string) (string, bool) {
	value, why := single(h, header)
	if why != "" {
		return why, false
	}
	got, ok := parseSignature(value)
	if !ok {
		return header + " is not sha256=<64 hex digits>", false
	}
	if !hmac.Equal(got, v.mac.Sum(nil)) {
		return header + " does not match the body", false
	}
	return "", true
}

// verifyToken compares the GitLab token with the secret through their
// SHA-256 digests: subtle.ConstantTimeCompare returns at once on a length
// mismatch, which would tell a prober the secret's length; digests are
// always 32 bytes.
func (v *verifier) verifyToken(h http.Header) (string, bool) {
	value, why := single(h, GitLabTokenHeader)
	if why != "" {
		return why, false
	}
	got, want := sha256.Sum256([]byte(value)), sha256.Sum256(v.secret)
	if !hmac.Equal(got[:], want[:]) {
		return GitLabTokenHeader + " does not match the secret", false
	}
	return "", true
}

// single returns the one value of header in h. A header sent twice is
// refused: which copy a proxy or this server would read is not worth
// guessing about.
func single(h http.Header, header string) (string, string) {
	switch vs := h.Values(header); len(vs) {
	case 0:
		return "", header + " is missing"
	case 1:
		return vs[0], ""
	default:
		return "", header + " is sent more than once"
	}
}

// parseSignature decodes "sha256=<hex>" into the 32-byte MAC. Hex digits
// may be of either case; the prefix is lower case, as every sender
// writes it.
func parseSignature(value string) ([]byte, bool) {
	digits, ok := strings.CutPrefix(value, signaturePrefix)
	if !ok || len(digits) != 2*sha256.Size {
		return nil, false
	}
	mac, err := hex.DecodeString(digits)
	if err != nil {
		return nil, false
	}
	return mac, true
}
