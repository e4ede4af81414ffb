package signature

import (
	"encoding/asn1"
	"fmt"
	"math/big"
)

// This file reads the detached CMS SignedData (RFC 5652) that gpgsm and
// gitsign write. gpgsm (libksba) streams its output with BER
// indefinite-length encoding, so encoding/asn1 (DER only) cannot read it;
// the small reader below accepts definite and indefinite lengths for
// constructed values, and nothing else that DER forbids. The parts that are
// signed or parsed further (signed attributes, certificates) must be DER.

// ASN.1 identifiers used below.
var (
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
)

const (
	classUniversal   = 0
	classContext     = 2
	tagInteger       = 2
	tagOctetString   = 4
	tagOID           = 6
	tagSequence      = 16
	tagSet           = 17
	maxBERDepth      = 32
	maxCMSCerts      = 16
	maxSignedAttrs   = 32
	maxCMSInputBytes = 256 << 10
)

// berValue is one decoded TLV.
type berValue struct {
	class       int
	tag         int
	constructed bool
	content     []byte // the value's content (for indefinite length: without the end-of-contents octets)
	full        []byte // header, content and end-of-contents octets
	indefinite  bool
}

// readBER reads one TLV from b and returns it and the bytes after it.
func readBER(b []byte, depth int) (berValue, []byte, error) {
	var v berValue
	if depth > maxBERDepth {
		return v, nil, fmt.Errorf("ber: nested more than %d levels", maxBERDepth)
	}
	if len(b) < 2 {
		return v, nil, fmt.Errorf("ber: truncated header")
	}
	v.class = int(b[0] >> 6)
	v.constructed = b[0]&0x20 != 0
	v.tag = int(b[0] & 0x1f)
	if v.tag == 0x1f {
		return v, nil, fmt.Errorf("ber: high tag numbers are not used in CMS")
	}
	l := int(b[1])
	off := 2
	switch {
	case l == 0x80:
		if !v.constructed {
			return v, nil, fmt.Errorf("ber: indefinite length on a primitive value")
		}
		v.indefinite = true
		return readIndefinite(b, v, off, depth)
	case l > 0x80:
		n := l & 0x7f
		// Three length octets allow 16 MiB, far above maxCMSInputBytes,
		// and keep the arithmetic far from overflow.
		if n > 3 || len(b) < off+n {
			return v, nil, fmt.Errorf("ber: bad length")
		}
		l = 0
		for _, c := range b[off : off+n] {
			l = l<<8 | int(c)
		}
		off += n
		if l < 0x80 || (n > 1 && l>>(8*(n-1)) == 0) {
			return v, nil, fmt.Errorf("ber: length not minimally encoded")
		}
	}
	if l > len(b)-off {
		return v, nil, fmt.Errorf("ber: value longer than its input")
	}
	v.content = b[off : off+l]
	v.full = b[:off+l]
	return v, b[off+l:], nil
}

// readIndefinite finds the end-of-contents octets of an indefinite-length
// value by reading its elements.
func readIndefinite(b []byte, v berValue, off, depth int) (berValue, []byte, error) {
	rest := b[off:]
	for {
		if len(rest) >= 2 && rest[0] == 0 && rest[1] == 0 {
			end := len(b) - len(rest)
			v.content = b[off:end]
			v.full = b[:end+2]
			return v, rest[2:], nil
		}
		var err error
		if _, rest, err = readBER(rest, depth+1); err != nil {
			return v, nil, err
		}
	}
}

// children reads the elements of a constructed value.
func (v berValue) children(depth int) ([]berValue, error) {
	if !v.constructed {
		return nil, fmt.Errorf("ber: expected a constructed value")
	}
	var out []berValue
	rest := v.content
	for len(rest) > 0 {
		c, r, err := readBER(rest, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		rest = r
	}
	return out, nil
}

func (v berValue) is(class, tag int, constructed bool) bool {
	return v.class == class && v.tag == tag && v.constructed == constructed
}

// der checks that a value and everything in it is definite-length (as DER
// requires), for the parts that are hashed or handed to DER parsers.
func (v berValue) der(what string) error {
	if v.indefinite || (v.constructed && containsIndefinite(v.content, 0)) {
		return fmt.Errorf("%s is not DER encoded", what)
	}
	return nil
}

// containsIndefinite reports whether any constructed value inside b uses
// indefinite length.
func containsIndefinite(b []byte, depth int) bool {
	for len(b) > 0 {
		v, rest, err := readBER(b, depth)
		if err != nil {
			// Not parseable as BER: the DER parser that follows will say
			// why; here it only matters that no indefinite length hides.
			return false
		}
		if v.indefinite {
			return true
		}
		if v.constructed && containsIndefinite(v.content, depth+1) {
			return true
		}
		b = rest
	}
	return false
}

// cmsSignedData is what verification needs from a SignedData.
type cmsSignedData struct {
	certs  [][]byte // DER certificates carried in the message
	signer cmsSignerInfo
}

type cmsSignerInfo struct {
	sidIssuer  []byte   // DER issuer Name (IssuerAndSerialNumber form)
	sidSerial  *big.Int // serial number (IssuerAndSerialNumber form)
	sidKeyID   []byte   // SubjectKeyIdentifier form
	digestAlg  asn1.ObjectIdentifier
	sigAlg     asn1.ObjectIdentifier
	signedAttr []byte // DER of the signed attributes, re-tagged as SET OF
	digest     []byte // the messageDigest attribute
	signature  []byte
}

// parseCMS reads a detached ContentInfo holding SignedData with exactly
// one signer.
func parseCMS(der []byte) (*cmsSignedData, error) {
	if len(der) > maxCMSInputBytes {
		return nil, fmt.Errorf("cms: larger than %d bytes", maxCMSInputBytes)
	}
	ci, rest, err := readBER(der, 0)
	if err != nil {
		return nil, fmt.Errorf("cms: %w", err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("cms: trailing data after the content info")
	}
	f, err := fields(ci, 0, "content info", 2, 2)
	if err != nil {
		return nil, err
	}
	if err := wantOID(f[0], oidSignedData, "content type"); err != nil {
		return nil, err
	}
	if !f[1].is(classContext, 0, true) {
		return nil, fmt.Errorf("cms: content is not [0] EXPLICIT")
	}
	inner, err := f[1].children(1)
	if err != nil || len(inner) != 1 {
		return nil, fmt.Errorf("cms: content must hold one SignedData")
	}
	return parseSignedData(inner[0])
}

// fields returns the elements of a SEQUENCE, checking their count.
func fields(v berValue, depth int, what string, minN, maxN int) ([]berValue, error) {
	if !v.is(classUniversal, tagSequence, true) {
		return nil, fmt.Errorf("cms: %s is not a SEQUENCE", what)
	}
	f, err := v.children(depth)
	if err != nil {
		return nil, fmt.Errorf("cms: %s: %w", what, err)
	}
	if len(f) < minN || len(f) > maxN {
		return nil, fmt.Errorf("cms: %s has %d fields", what, len(f))
	}
	return f, nil
}

func wantOID(v berValue, want asn1.ObjectIdentifier, what string) error {
	got, err := parseOID(v)
	if err != nil {
		return fmt.Errorf("cms: %s: %w", what, err)
	}
	if !got.Equal(want) {
		return fmt.Errorf("cms: %s is %v, want %v", what, got, want)
	}
	return nil
}

func parseOID(v berValue) (asn1.ObjectIdentifier, error) {
	if !v.is(classUniversal, tagOID, false) {
		return nil, fmt.Errorf("not an OBJECT IDENTIFIER")
	}
	var oid asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(v.full, &oid); err != nil {
		return nil, err
	}
	return oid, nil
}

func parseSignedData(sd berValue) (*cmsSignedData, error) {
	f, err := fields(sd, 2, "SignedData", 4, 6)
	if err != nil {
		return nil, err
	}
	if !f[0].is(classUniversal, tagInteger, false) {
		return nil, fmt.Errorf("cms: SignedData version is not an INTEGER")
	}
	if !f[1].is(classUniversal, tagSet, true) {
		return nil, fmt.Errorf("cms: digest algorithms are not a SET")
	}
	if err := checkEncapContent(f[2]); err != nil {
		return nil, err
	}
	out := &cmsSignedData{}
	i := 3
	for ; i < len(f)-1; i++ {
		switch {
		case f[i].is(classContext, 0, true) && out.certs == nil:
			if out.certs, err = certificates(f[i]); err != nil {
				return nil, err
			}
		case f[i].is(classContext, 1, true):
			// CRLs: not used; revocation is the trust policy's business.
		default:
			return nil, fmt.Errorf("cms: unexpected field in SignedData")
		}
	}
	infos := f[i]
	if !infos.is(classUniversal, tagSet, true) {
		return nil, fmt.Errorf("cms: signer infos are not a SET")
	}
	list, err := infos.children(3)
	if err != nil {
		return nil, fmt.Errorf("cms: signer infos: %w", err)
	}
	if len(list) != 1 {
		return nil, fmt.Errorf("cms: %d signer infos, exactly one is allowed", len(list))
	}
	if out.signer, err = parseSignerInfo(list[0]); err != nil {
		return nil, err
	}
	return out, nil
}

// checkEncapContent requires id-data without content: the signature must
// be detached, over the commit payload and nothing else.
func checkEncapContent(v berValue) error {
	f, err := fields(v, 3, "encapsulated content info", 1, 2)
	if err != nil {
		return err
	}
	if err := wantOID(f[0], oidData, "encapsulated content type"); err != nil {
		return err
	}
	if len(f) == 2 {
		return fmt.Errorf("cms: signature is not detached (it carries content)")
	}
	return nil
}

func certificates(v berValue) ([][]byte, error) {
	list, err := v.children(3)
	if err != nil {
		return nil, fmt.Errorf("cms: certificates: %w", err)
	}
	if len(list) > maxCMSCerts {
		return nil, fmt.Errorf("cms: more than %d certificates", maxCMSCerts)
	}
	var out [][]byte
	for _, c := range list {
		// Other certificate formats (attribute certificates, [0]..[3])
		// cannot be part of an X.509 chain; skip them.
		if !c.is(classUniversal, tagSequence, true) {
			continue
		}
		if err := c.der("certificate"); err != nil {
			return nil, fmt.Errorf("cms: %w", err)
		}
		out = append(out, c.full)
	}
	return out, nil
}

// parseSignerInfo reads version, sid, digestAlgorithm, [0] signedAttrs,
// signatureAlgorithm, signature and optional [1] unsignedAttrs. Signed
// attributes are required: gpgsm and gitsign always write them, and they
// bind the content type to the signature.
func parseSignerInfo(v berValue) (cmsSignerInfo, error) {
	var si cmsSignerInfo
	f, err := fields(v, 4, "SignerInfo", 6, 7)
	if err != nil {
		return si, err
	}
	if !f[0].is(classUniversal, tagInteger, false) {
		return si, fmt.Errorf("cms: SignerInfo version is not an INTEGER")
	}
	if err := si.parseSID(f[1]); err != nil {
		return si, err
	}
	if si.digestAlg, err = algorithm(f[2], "digest algorithm"); err != nil {
		return si, err
	}
	if !f[3].is(classContext, 0, true) {
		return si, fmt.Errorf("cms: signer info has no signed attributes")
	}
	if err := si.parseSignedAttrs(f[3]); err != nil {
		return si, err
	}
	if si.sigAlg, err = algorithm(f[4], "signature algorithm"); err != nil {
		return si, err
	}
	if !f[5].is(classUniversal, tagOctetString, false) {
		return si, fmt.Errorf("cms: signature is not an OCTET STRING")
	}
	si.signature = f[5].content
	if len(f) == 7 && !f[6].is(classContext, 1, true) {
		return si, fmt.Errorf("cms: unexpected field after the signature")
	}
	return si, nil
}

func (si *cmsSignerInfo) parseSID(v berValue) error {
	switch {
	case v.is(classUniversal, tagSequence, true):
		f, err := fields(v, 5, "issuer and serial number", 2, 2)
		if err != nil {
			return err
		}
		if err := f[0].der("issuer name"); err != nil || !f[0].is(classUniversal, tagSequence, true) {
			return fmt.Errorf("cms: issuer name is not a DER SEQUENCE")
		}
		si.sidIssuer = f[0].full
		si.sidSerial = new(big.Int)
		if _, err := asn1.Unmarshal(f[1].full, &si.sidSerial); err != nil {
			return fmt.Errorf("cms: serial number: %w", err)
		}
	case v.is(classContext, 0, false):
		si.sidKeyID = v.content
	default:
		return fmt.Errorf("cms: unknown signer identifier")
	}
	return nil
}

func algorithm(v berValue, what string) (asn1.ObjectIdentifier, error) {
	f, err := fields(v, 5, what, 1, 2)
	if err != nil {
		return nil, err
	}
	oid, err := parseOID(f[0])
	if err != nil {
		return nil, fmt.Errorf("cms: %s: %w", what, err)
	}
	return oid, nil
}

// parseSignedAttrs keeps the DER of the attributes, re-tagged from [0]
// IMPLICIT to SET OF as RFC 5652 §5.4 says the signature covers, and takes
// the content type and message digest; no attribute may occur twice.
func (si *cmsSignerInfo) parseSignedAttrs(v berValue) error {
	if err := v.der("signed attributes"); err != nil {
		return fmt.Errorf("cms: %w", err)
	}
	attrs, err := v.children(5)
	if err != nil {
		return fmt.Errorf("cms: signed attributes: %w", err)
	}
	if len(attrs) > maxSignedAttrs {
		return fmt.Errorf("cms: more than %d signed attributes", maxSignedAttrs)
	}
	seen := map[string]bool{}
	var haveType bool
	for _, a := range attrs {
		f, err := fields(a, 6, "attribute", 2, 2)
		if err != nil {
			return err
		}
		oid, err := parseOID(f[0])
		if err != nil {
			return fmt.Errorf("cms: attribute type: %w", err)
		}
		if seen[oid.String()] {
			return fmt.Errorf("cms: attribute %v occurs twice", oid)
		}
		seen[oid.String()] = true
		if !f[1].is(classUniversal, tagSet, true) {
			return fmt.Errorf("cms: attribute %v values are not a SET", oid)
		}
		values, err := f[1].children(7)
		if err != nil {
			return fmt.Errorf("cms: attribute %v: %w", oid, err)
		}
		switch {
		case oid.Equal(oidContentType):
			if len(values) != 1 {
				return fmt.Errorf("cms: content type attribute must have one value")
			}
			if err := wantOID(values[0], oidData, "content type attribute"); err != nil {
				return err
			}
			haveType = true
		case oid.Equal(oidMessageDigest):
			if len(values) != 1 || !values[0].is(classUniversal, tagOctetString, false) {
				return fmt.Errorf("cms: message digest attribute must be one OCTET STRING")
			}
			si.digest = values[0].content
		}
	}
	if !haveType || si.digest == nil {
		return fmt.Errorf("cms: signed attributes lack the content type or the message digest")
	}
	si.signedAttr = append([]byte(nil), v.full...)
	si.signedAttr[0] = 0x31 // SET OF, constructed
	return nil
}
