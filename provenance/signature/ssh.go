package signature

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/pem"
	"fmt"
	"hash"

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
	r.ssh[wire] = &sshKey{signer: signer, key: key, id: id}
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

// sshSignedData is what the key actually signs: the namespace and the
// hash of the message, behind the magic preamble.
type sshSignedData struct {
	Namespace string
	Reserved  string
	Hash      string
	Digest    string
}

var sshMagic = [6]byte{'S', 'S', 'H', 'S', 'I', 'G'}

func (r *KeyRing) verifySSH(payload, block []byte) (Verified, error) {
	p, rest := pem.Decode(block)
	if p == nil || len(bytes.TrimSpace(rest)) > 0 {
		return Verified{}, fmt.Errorf("%w: ssh signature: bad armor", ErrMalformed)
	}
	var blob sshSigBlob
	if err := ssh.Unmarshal(p.Bytes, &blob); err != nil {
		return Verified{}, fmt.Errorf("%w: ssh signature: %w", ErrMalformed, err)
	}
	if blob.Magic != sshMagic || blob.Version != 1 {
		return Verified{}, fmt.Errorf("%w: ssh signature: not an sshsig version 1 blob", ErrMalformed)
	}
	var sig ssh.Signature
	if err := ssh.Unmarshal([]byte(blob.Signature), &sig); err != nil {
		return Verified{}, fmt.Errorf("%w: ssh signature: %w", ErrMalformed, err)
	}
	// The key is looked up by its wire bytes, so a trusted key is never
	// parsed again here; an unknown one is parsed only to say what it is.
	k, ok := r.ssh[blob.PublicKey]
	if !ok {
		return Verified{}, unknownSSHKey(blob.PublicKey)
	}
	if blob.Namespace != sshNamespace {
		return Verified{}, fmt.Errorf("%w: ssh signature by %s is for namespace %q, not %q", ErrInvalid, k.id, truncate([]byte(blob.Namespace)), sshNamespace)
	}
	if k.key.Type() == ssh.KeyAlgoRSA && sig.Format != ssh.KeyAlgoRSASHA256 && sig.Format != ssh.KeyAlgoRSASHA512 {
		return Verified{}, fmt.Errorf("%w: ssh signature by %s uses %q; rsa signatures must use rsa-sha2-256 or rsa-sha2-512", ErrInvalid, k.id, truncate([]byte(sig.Format)))
	}
	var h hash.Hash
	switch blob.Hash {
	case "sha256":
		h = sha256.New()
	case "sha512":
		h = sha512.New()
	default:
		return Verified{}, fmt.Errorf("%w: ssh signature by %s uses hash %q (sha256 or sha512 required)", ErrInvalid, k.id, truncate([]byte(blob.Hash)))
	}
	h.Write(payload)
	signed := append(append(make([]byte, 0, 128), sshMagic[:]...), ssh.Marshal(sshSignedData{
		Namespace: blob.Namespace, Hash: blob.Hash, Digest: string(h.Sum(nil)),
	})...)
	if err := k.key.Verify(signed, &sig); err != nil {
		return Verified{}, fmt.Errorf("%w: ssh signature by %s does not match the commit: %w", ErrInvalid, k.id, err)
	}
	return Verified{Signer: k.signer, Format: SSH, KeyID: k.id}, nil
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
