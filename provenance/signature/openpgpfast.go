package signature

import (
	"crypto"
	"encoding/binary"
	"io"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// fastOpenPGPSignature decodes the signature packet gpg writes for git
// without go-crypto's packet reader: one version 4 signature packet by an
// EdDSA (Ed25519) key, with a SHA-2 hash, whose subpackets are only the
// creation time, a signature expiration time, notations, the issuer key id
// and the issuer fingerprint. go-crypto reads each signature through layers of
// readers and buffers (a dozen allocations), which was most of what an
// OpenPGP commit cost besides the signature equation itself.
//
// For such a packet the result holds what go-crypto's parser puts in every
// exported field; FuzzFastOpenPGPSignature checks that it accepts nothing
// go-crypto refuses and decodes the same values. Anything else (ok false),
// including what is malformed, is left to go-crypto, which says what is
// wrong.
func fastOpenPGPSignature(b []byte) (sig *packet.Signature, ok bool) {
	body, ok := onePacket(b, 2) // tag 2: signature
	if !ok || len(body) < 6 || body[0] != 4 {
		return nil, false
	}
	sig = &packet.Signature{
		Version:    4,
		SigType:    packet.SignatureType(body[1]),
		PubKeyAlgo: packet.PublicKeyAlgorithm(body[2]),
	}
	if sig.PubKeyAlgo != packet.PubKeyAlgoEdDSA && sig.PubKeyAlgo != packet.PubKeyAlgoEd25519 {
		return nil, false
	}
	if sig.Hash, ok = sha2ByID[body[3]]; !ok {
		return nil, false
	}
	r := body[4:]
	hashed, r, ok := cut16(r)
	if !ok || !fastSubpackets(sig, hashed, true) {
		return nil, false
	}
	// What is hashed after the data (RFC 4880, 5.2.4): the packet up to
	// the end of the hashed subpackets, then 0x04 0xff and its length.
	n := 6 + len(hashed)
	sig.HashSuffix = make([]byte, 0, n+6)
	sig.HashSuffix = append(sig.HashSuffix, body[:n]...)
	sig.HashSuffix = append(sig.HashSuffix, 4, 0xff)
	sig.HashSuffix = binary.BigEndian.AppendUint32(sig.HashSuffix, uint32(n)) //nolint:gosec // < 2^17
	unhashed, r, ok := cut16(r)
	if !ok || !fastSubpackets(sig, unhashed, false) || sig.CreationTime.IsZero() || len(r) < 2 {
		return nil, false
	}
	sig.HashTag = [2]byte{r[0], r[1]}
	r = r[2:]
	if sig.PubKeyAlgo == packet.PubKeyAlgoEd25519 {
		if len(r) != 64 {
			return nil, false
		}
		sig.EdSig = append([]byte(nil), r...)
		return sig, true
	}
	var R, S *mpi
	if R, r, ok = readMPI(r); !ok {
		return nil, false
	}
	if S, r, ok = readMPI(r); !ok || len(r) != 0 {
		return nil, false
	}
	sig.EdDSASigR, sig.EdDSASigS = R, S
	return sig, true
}

// sha2ByID maps OpenPGP hash ids to the SHA-2 hashes (as go-crypto does).
var sha2ByID = map[byte]crypto.Hash{8: crypto.SHA256, 9: crypto.SHA384, 10: crypto.SHA512, 11: crypto.SHA224}

// onePacket returns the body of b when b is exactly one packet with the
// given tag and a definite length (no partial lengths).
func onePacket(b []byte, tag byte) ([]byte, bool) {
	if len(b) < 2 || b[0]&0x80 == 0 {
		return nil, false
	}
	var n, hdr int
	if b[0]&0x40 == 0 { // old format
		if (b[0]&0x3f)>>2 != tag {
			return nil, false
		}
		switch b[0] & 3 {
		case 0:
			n, hdr = int(b[1]), 2
		case 1:
			if len(b) < 3 {
				return nil, false
			}
			n, hdr = int(binary.BigEndian.Uint16(b[1:])), 3
		default: // four-octet lengths (never this short) and indeterminate ones
			return nil, false
		}
	} else {
		if b[0]&0x3f != tag {
			return nil, false
		}
		switch c := int(b[1]); {
		case c < 192:
			n, hdr = c, 2
		case c < 224 && len(b) >= 3:
			n, hdr = (c-192)<<8+int(b[2])+192, 3
		default: // partial lengths, five-octet lengths
			return nil, false
		}
	}
	if len(b)-hdr != n {
		return nil, false
	}
	return b[hdr:], true
}

// cut16 splits off a field with a two-octet length.
func cut16(b []byte) (field, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, nil, false
	}
	n := int(binary.BigEndian.Uint16(b))
	if len(b)-2 < n {
		return nil, nil, false
	}
	return b[2 : 2+n], b[2+n:], true
}

// fastSubpackets applies the subpackets of one area as go-crypto does
// (a later one of a kind overrides an earlier one), for the five kinds it
// knows; any other kind is left to go-crypto.
func fastSubpackets(sig *packet.Signature, b []byte, hashed bool) bool {
	for len(b) > 0 {
		var n int
		switch c := int(b[0]); {
		case c < 192:
			n, b = c, b[1:]
		case c < 255 && len(b) >= 2:
			n, b = (c-192)<<8+int(b[1])+192, b[2:]
		default:
			return false
		}
		if n == 0 || n > len(b) {
			return false
		}
		b0 := b[0]
		typ, data := b0&0x7f, b[1:n]
		b = b[n:]
		switch {
		case typ == 2 && hashed && len(data) == 4: // creation time
			sig.CreationTime = time.Unix(int64(binary.BigEndian.Uint32(data)), 0)
		case typ == 3 && hashed && len(data) == 4: // signature expiration
			secs := binary.BigEndian.Uint32(data)
			sig.SigLifetimeSecs = &secs
		case typ == 16 && len(data) == 8: // issuer key id
			id := binary.BigEndian.Uint64(data)
			sig.IssuerKeyId = &id
		case typ == 20 && hashed && len(data) >= 8: // notation (go-crypto salts its signatures with one)
			nameLen, valueLen := int(binary.BigEndian.Uint16(data[4:])), int(binary.BigEndian.Uint16(data[6:]))
			if len(data) != 8+nameLen+valueLen {
				return false
			}
			sig.Notations = append(sig.Notations, &packet.Notation{
				IsHumanReadable: data[0]&0x80 != 0,
				Name:            string(data[8 : 8+nameLen]),
				Value:           data[8+nameLen:],
				IsCritical:      b0&0x80 != 0,
			})
		case typ == 33 && len(data) == 21 && data[0] == 4: // v4 issuer fingerprint
			sig.IssuerKeyVersion = 4
			sig.IssuerFingerprint = append([]byte(nil), data[1:]...)
			id := binary.BigEndian.Uint64(data[13:])
			sig.IssuerKeyId = &id
		default:
			return false
		}
	}
	return true
}

// mpi is an OpenPGP multiprecision integer as go-crypto keeps one (the
// bytes as sent, leading zeros included), for the signature's EdDSA
// fields.
type mpi struct {
	bytes     []byte
	bitLength uint16
}

func readMPI(b []byte) (*mpi, []byte, bool) {
	if len(b) < 2 {
		return nil, nil, false
	}
	bitLen := binary.BigEndian.Uint16(b)
	n := (int(bitLen) + 7) / 8
	if len(b)-2 < n {
		return nil, nil, false
	}
	return &mpi{bytes: append([]byte(nil), b[2:2+n]...), bitLength: bitLen}, b[2+n:], true
}

func (m *mpi) Bytes() []byte         { return m.bytes }
func (m *mpi) BitLength() uint16     { return m.bitLength }
func (m *mpi) EncodedLength() uint16 { return uint16(2 + len(m.bytes)) } //nolint:gosec // < 2^13

func (m *mpi) EncodedBytes() []byte {
	return append(binary.BigEndian.AppendUint16(nil, m.bitLength), m.bytes...)
}

// ReadFrom is part of go-crypto's field interface; a parsed signature's
// fields are never read again.
func (m *mpi) ReadFrom(io.Reader) (int64, error) { return 0, io.ErrUnexpectedEOF }
