package signature

import (
	"bytes"
	"fmt"
)

var (
	armorBegin = []byte("-----BEGIN ")
	armorEnd   = []byte("-----END ")
	armorDash  = []byte("-----")
)

// Armor types of the three formats, as Git recognises them.
const (
	armorOpenPGP = "PGP SIGNATURE"
	armorSSH     = "SSH SIGNATURE"
	armorX509    = "SIGNED MESSAGE"
)

// splitArmor checks that sig is exactly one armored block (optionally
// followed by white space) and returns its type and the block without the
// trailing white space. Two blocks in one signature would let a commit carry
// several signatures, of which a verifier might check one and a reader
// believe another, so they are refused here once for every format.
func splitArmor(sig []byte) (string, []byte, error) {
	if !bytes.HasPrefix(sig, armorBegin) {
		return "", nil, fmt.Errorf("signature does not start with an armor header")
	}
	eol := bytes.IndexByte(sig, '\n')
	if eol < 0 {
		return "", nil, fmt.Errorf("unterminated armor header")
	}
	first := bytes.TrimRight(sig[:eol], "\r")
	if !bytes.HasSuffix(first, armorDash) || len(first) < len(armorBegin)+len(armorDash)+1 {
		return "", nil, fmt.Errorf("malformed armor header %q", truncate(first))
	}
	typ := string(first[len(armorBegin) : len(first)-len(armorDash)])
	block := bytes.TrimRight(sig, " \t\r\n")
	footer := append(append(append([]byte(nil), armorEnd...), typ...), armorDash...)
	if !bytes.HasSuffix(block, footer) || len(block) < eol+1+len(footer) {
		return "", nil, fmt.Errorf("armored %s block does not end with its footer", typ)
	}
	// The footer must start a line, and nothing in between may begin or
	// end another block.
	inner := block[eol+1 : len(block)-len(footer)]
	if len(inner) > 0 && inner[len(inner)-1] != '\n' {
		return "", nil, fmt.Errorf("armored %s footer does not start a line", typ)
	}
	if bytes.Contains(inner, armorBegin) || bytes.Contains(inner, armorEnd) {
		return "", nil, fmt.Errorf("signature holds more than one armored block")
	}
	return typ, block, nil
}
