package signature

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/pem"
	"fmt"

	"golang.org/x/crypto/ssh"
)

// sshNamespace is the namespace git signs commits in; a signature made for
// another namespace (files, e-mail, ...) must never pass as a commit
// signature.
const sshNamespace = "git"

// minRSABits is the smallest RSA modulus accepted for SSH keys.
const minRSABits = 2048

type sshKey struct {
	signer string
	key    ssh.PublicKey
	id     string // SHA256:... fingerprint
	// ed25519 is the raw key of an ssh-ed25519 key, whose signature
	// equations can go into a Batch; nil for other key types.
	ed25519 ed25519.PublicKey
}

// AddSSH adds an SSH public key given as an authorized_keys line ("type
// base64 [comment]"). Only ed25519, ecdsa (nistp256/384/521) and rsa keys
// of at least 2048 bits are accepted; authorized_keys options, certificates
// and security-key (sk-*) types are refused.
func (r *KeyRing) AddSSH(signer, authorizedKeyLine string) error {
	if err := checkSigner(signer); err != nil {
		return err
	}
	key, _, options, rest, err := ssh.ParseAuthorizedKey([]byte(authorizedKeyLine))
	if err != nil {
		return fmt.Errorf("%w: ssh key of %q: %w", ErrMalformed, signer, err)
	}
	if len(options) > 0 {
		return fmt.Errorf("%w: ssh key of %q: authorized_keys options are not allowed", ErrMalformed, signer)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return fmt.Errorf("%w: ssh key of %q: more than one key in one entry", ErrMalformed, signer)
	}
	if err := checkSSHKeyType(key); err != nil {
		return fmt.Errorf("%w: ssh key of %q: %w", ErrMalformed, signer, err)
	}
	wire := string(key.Marshal())
	id := ssh.FingerprintSHA256(key)
	if old, ok := r.ssh[wire]; ok {
		if old.signer != signer {
			return conflict("ssh key", id, old.signer, signer)
		}
		return nil
	}
	entry := &sshKey{signer: signer, key: key, id: id}
	if ck, ok := key.(ssh.CryptoPublicKey); ok && key.Type() == ssh.KeyAlgoED25519 {
		if pub, ok := ck.CryptoPublicKey().(ed25519.PublicKey); ok && len(pub) == ed25519.PublicKeySize {
			entry.ed25519 = pub
		}
	}
	r.ssh[wire] = entry
	r.n++
	return nil
}

// checkSSHKeyType enforces the allowed key types and sizes.
func checkSSHKeyType(key ssh.PublicKey) error {
	switch key.Type() {
	case ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521:
		return nil
	case ssh.KeyAlgoRSA:
		ck, ok := key.(ssh.CryptoPublicKey)
		if !ok {
			return fmt.Errorf("rsa key without a public key")
		}
		pub, ok := ck.CryptoPublicKey().(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("rsa key without a public key")
		}
		if bits := pub.N.BitLen(); bits < minRSABits {
			return fmt.Errorf("rsa key has %d bits, at least %d are required", bits, minRSABits)
		}
		return nil
	}
	return fmt.Errorf("key type %q is not allowed (ed25519, ecdsa or rsa >= %d bits)", key.Type(), minRSABits)
}

// sshSigBlob is the sshsig wire format (PROTOCOL.sshsig in OpenSSH).
type sshSigBlob struct {
	Magic     [6]byte
	Version   uint32
	PublicKey string
	Namespace string
	Reserved  string
	Hash      string
	Signature string
}

var sshMagic = [6]byte{'S', 'S', 'H', 'S', 'I', 'G'}

func (r *KeyRing) verifySSH(payload, block []byte, b *Batch) (Verified, Pending, error) {
	p, rest := pem.Decode(block)
	if p == nil || len(bytes.TrimSpace(rest)) > 0 {
		return Verified{}, Pending{}, fmt.Errorf("%w: ssh signature: bad armor", ErrMalformed)
	}
	var blob sshSigBlob
	if !decodeSigBlob(p.Bytes, &blob) {
		// The fast decoder refuses exactly what ssh.Unmarshal refuses;
		// let it say why.
		if err := ssh.Unmarshal(p.Bytes, &blob); err != nil {
			return Verified{}, Pending{}, fmt.Errorf("%w: ssh signature: %w", ErrMalformed, err)
		}
	}
	if blob.Magic != sshMagic || blob.Version != 1 {
		return Verified{}, Pending{}, fmt.Errorf("%w: ssh signature: not an sshsig version 1 blob", ErrMalformed)
	}
	var sig ssh.Signature
	if !decodeSignature([]byte(blob.Signature), &sig) {
		if err := ssh.Unmarshal([]byte(blob.Signature), &sig); err != nil {
			return Verified{}, Pending{}, fmt.Errorf("%w: ssh signature: %w", ErrMalformed, err)
		}
	}
	// The key is looked up by its wire bytes, so a trusted key is never
	// parsed again here; an unknown one is parsed only to say what it is.
	k, ok := r.ssh[blob.PublicKey]
	if !ok {
		return Verified{}, Pending{}, unknownSSHKey(blob.PublicKey)
	}
	if blob.Namespace != sshNamespace {
		return Verified{}, Pending{}, fmt.Errorf("%w: ssh signature by %s is for namespace %q, not %q", ErrInvalid, k.id, truncate([]byte(blob.Namespace)), sshNamespace)
	}
	if k.key.Type() == ssh.KeyAlgoRSA && sig.Format != ssh.KeyAlgoRSASHA256 && sig.Format != ssh.KeyAlgoRSASHA512 {
		return Verified{}, Pending{}, fmt.Errorf("%w: ssh signature by %s uses %q; rsa signatures must use rsa-sha2-256 or rsa-sha2-512", ErrInvalid, k.id, truncate([]byte(sig.Format)))
	}
	var digest []byte
	switch blob.Hash {
	case "sha256":
		sum := sha256.Sum256(payload)
		digest = sum[:]
	case "sha512":
		sum := sha512.Sum512(payload)
		digest = sum[:]
	default:
		return Verified{}, Pending{}, fmt.Errorf("%w: ssh signature by %s uses hash %q (sha256 or sha512 required)", ErrInvalid, k.id, truncate([]byte(blob.Hash)))
	}
	signed := sshSignedBytes(blob.Namespace, blob.Hash, digest)
	check := func() error {
		if err := k.key.Verify(signed, &sig); err != nil {
			return fmt.Errorf("%w: ssh signature by %s does not match the commit: %w", ErrInvalid, k.id, err)
		}
		return nil
	}
	v := Verified{Signer: k.signer, Format: SSH, KeyID: k.id}
	if k.ed25519 != nil && sig.Format == ssh.KeyAlgoED25519 {
		// What x/crypto/ssh's ed25519 Verify does after these two checks
		// (the format, the key size) is the Ed25519 equation itself.
		return v, b.add(edEntry{key: k.ed25519, msg: signed, sig: sig.Blob, check: check}), nil
	}
	if err := check(); err != nil {
		return Verified{}, Pending{}, err
	}
	return v, Pending{}, nil
}

// sshSignedBytes is the sshsig "signed data" (PROTOCOL.sshsig): the magic
// preamble, then namespace, an empty reserved field, the hash name and the
// message's digest as SSH strings; the same bytes ssh.Marshal writes for
// sshSignedData.
func sshSignedBytes(namespace, hashName string, digest []byte) []byte {
	out := make([]byte, 0, len(sshMagic)+4*4+len(namespace)+len(hashName)+len(digest))
	out = append(out, sshMagic[:]...)
	out = appendSSHString(out, namespace)
	out = appendSSHString(out, "")
	out = appendSSHString(out, hashName)
	return appendSSHString(out, string(digest))
}

func appendSSHString(out []byte, s string) []byte {
	out = binary.BigEndian.AppendUint32(out, uint32(len(s))) //nolint:gosec // lengths come from parsed SSH strings or digests
	return append(out, s...)
}

// decodeSigBlob decodes the sshsig wire format into blob, accepting
// exactly what ssh.Unmarshal accepts for sshSigBlob (fixed-size magic,
// uint32 version, five SSH strings, nothing after them); without its
// reflection, which cost more than the rest of the parsing.
func decodeSigBlob(data []byte, blob *sshSigBlob) bool {
	if len(data) < len(blob.Magic)+4 {
		return false
	}
	copy(blob.Magic[:], data)
	blob.Version = binary.BigEndian.Uint32(data[len(blob.Magic):])
	data = data[len(blob.Magic)+4:]
	for _, dst := range []*string{&blob.PublicKey, &blob.Namespace, &blob.Reserved, &blob.Hash, &blob.Signature} {
		v, rest, ok := cutSSHString(data)
		if !ok {
			return false
		}
		*dst, data = string(v), rest
	}
	return len(data) == 0
}

// decodeSignature decodes an SSH signature blob (format string, signature
// string, anything after it kept as Rest) as ssh.Unmarshal does for
// ssh.Signature.
func decodeSignature(data []byte, sig *ssh.Signature) bool {
	if len(data) == 0 {
		return false
	}
	format, rest, ok := cutSSHString(data)
	if !ok {
		return false
	}
	blob, rest, ok := cutSSHString(rest)
	if !ok {
		return false
	}
	*sig = ssh.Signature{Format: string(format), Blob: blob, Rest: rest}
	return true
}

// cutSSHString splits an SSH string (uint32 length, then the bytes) off
// the front of data.
func cutSSHString(data []byte) (v, rest []byte, ok bool) {
	if len(data) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(data)
	data = data[4:]
	if uint64(n) > uint64(len(data)) {
		return nil, nil, false
	}
	return data[:n:n], data[n:], true
}

// unknownSSHKey explains a signature by a key the ring does not hold: a key
// type or size that is never allowed is invalid, anything else untrusted.
func unknownSSHKey(wire string) error {
	key, err := ssh.ParsePublicKey([]byte(wire))
	if err != nil {
		return fmt.Errorf("%w: ssh signature: public key: %w", ErrMalformed, err)
	}
	id := ssh.FingerprintSHA256(key)
	if err := checkSSHKeyType(key); err != nil {
		return fmt.Errorf("%w: ssh signature by %s: %w", ErrInvalid, id, err)
	}
	return fmt.Errorf("%w: ssh key %s is not in the trust policy", ErrUntrusted, id)
}
