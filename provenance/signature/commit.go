package signature

import (
	"bytes"
	"fmt"
)

// Commit is a parsed raw Git commit object (the bytes `git cat-file commit
// <sha>` prints).
type Commit struct {
	Tree      string   // hex object name
	Parents   []string // hex, in order
	Author    string   // raw header value
	Committer string   // raw header value
	Message   string
	// Signature is the armored signature from the gpgsig (or gpgsig-sha256)
	// header, continuation lines joined; nil when unsigned.
	Signature []byte
	// Payload is the object without the signature header: exactly the
	// bytes Git signed. For an unsigned commit it is the object itself and
	// shares memory with the raw bytes given to ParseCommit.
	Payload []byte
}

// Signature headers. Git signs with "gpgsig" in SHA-1 repositories and
// "gpgsig-sha256" in SHA-256 ones; a commit can carry both in a repository
// converted between the two, which we refuse: one commit, one signature.
const (
	headerSig       = "gpgsig"
	headerSigSHA256 = "gpgsig-sha256"
)

// maxParents bounds the parent list: octopus merges exist, but a commit
// with thousands of parents is an attack on the verifier, not a merge.
const maxParents = 64

// ParseCommit rejects malformed objects: missing/duplicate tree, author or
// committer headers, parent/tree not hex, more than one signature header, a
// signature header whose value holds more than one armored block, headers
// out of order, NUL bytes in headers, an unterminated header section, etc.
//
// The header section must start with tree, then the parents, then author,
// then committer, as Git writes it (git fsck enforces the same order); other
// headers (encoding, mergetag, the signature) follow. The payload is computed
// exactly as Git computes it: the object with the signature header line and
// its continuation lines removed.
func ParseCommit(raw []byte) (*Commit, error) {
	pc := &parsedCommit{}
	pc.c.Parents = pc.parents[:0]
	p := commitParser{raw: raw, c: &pc.c}
	p.parents = p.parentsBuf[:0]
	if err := p.parse(); err != nil {
		return nil, fmt.Errorf("%w: commit object: %w", ErrMalformed, err)
	}
	return p.c, nil
}

type commitParser struct {
	raw []byte
	c   *Commit
	// Where the string fields are in raw; finish converts the headers
	// that hold them once and takes substrings, rather than one
	// allocation per field or a copy of the whole object (whose
	// signature is kept as bytes anyway).
	tree, author, committer span
	parents                 []span
	parentsBuf              [1]span

	// state of the header walk
	stage        int // 0 want tree, 1 parents or author, 2 want committer, 3 other headers
	lastHeader   []byte
	sigStart     int // offset of the signature header line, -1 when absent
	sigEnd       int // offset just past its last continuation line
	sigValue     int // offset of the signature header's value
	haveEncoding bool
	hashLen      int
}

// span is a value's offset and length in the raw object.
type span struct{ off, n int }

// parsedCommit holds a Commit and room for its first parent, so that the
// usual commit costs one allocation for both.
type parsedCommit struct {
	c       Commit
	parents [1]string
}

const (
	stageTree = iota
	stageParents
	stageCommitter
	stageOther
)

func (p *commitParser) parse() error {
	p.sigStart = -1
	off := 0
	for {
		if off >= len(p.raw) {
			return fmt.Errorf("header section is not terminated by an empty line")
		}
		eol := bytes.IndexByte(p.raw[off:], '\n')
		if eol < 0 {
			return fmt.Errorf("header line at byte %d does not end with a newline", off)
		}
		line := p.raw[off : off+eol]
		next := off + eol + 1
		if len(line) == 0 {
			if p.stage != stageOther {
				return p.missingHeader()
			}
			p.c.Message = string(p.raw[next:])
			p.setFields()
			return p.finish()
		}
		if bytes.IndexByte(line, 0) >= 0 {
			return fmt.Errorf("NUL byte in header line at byte %d", off)
		}
		if err := p.header(line, off, next); err != nil {
			return err
		}
		off = next
	}
}

func (p *commitParser) missingHeader() error {
	switch p.stage {
	case stageTree:
		return fmt.Errorf("missing tree header")
	case stageParents:
		return fmt.Errorf("missing author header")
	default:
		return fmt.Errorf("missing committer header")
	}
}

// header handles one header line (without its newline) that starts at off;
// next is the offset of the following line.
func (p *commitParser) header(line []byte, off, next int) error {
	if line[0] == ' ' {
		return p.continuation(off, next)
	}
	key, value, ok := bytes.Cut(line, []byte{' '})
	if !ok || len(key) == 0 {
		return fmt.Errorf("header line %q is not \"<key> <value>\"", truncate(line))
	}
	p.lastHeader = key
	valueOff := off + len(key) + 1
	at := span{valueOff, len(value)}
	switch string(key) {
	case "tree":
		return p.treeHeader(value, at)
	case "parent":
		return p.parent(value, at)
	case "author":
		return p.ident(&p.author, value, at, stageParents, stageCommitter)
	case "committer":
		return p.ident(&p.committer, value, at, stageCommitter, stageOther)
	}
	if p.stage != stageOther {
		return fmt.Errorf("header %q before the committer header", truncate(key))
	}
	switch string(key) {
	case "encoding":
		if p.haveEncoding {
			return fmt.Errorf("duplicate encoding header")
		}
		p.haveEncoding = true
	case headerSig, headerSigSHA256:
		if p.sigStart >= 0 {
			return fmt.Errorf("more than one signature header")
		}
		if len(value) == 0 {
			return fmt.Errorf("empty %s header", p.lastHeader)
		}
		p.sigStart, p.sigEnd, p.sigValue = off, next, valueOff
	}
	return nil
}

// continuation handles a line that continues the previous header's value.
func (p *commitParser) continuation(off, next int) error {
	switch string(p.lastHeader) {
	case "", "tree", "parent", "author", "committer", "encoding":
		return fmt.Errorf("continuation line at byte %d after a %q header, which cannot have one", off, p.lastHeader)
	case headerSig, headerSigSHA256:
		if p.sigEnd == off { // continues the signature header itself
			p.sigEnd = next
		}
	}
	return nil
}

func (p *commitParser) treeHeader(value []byte, at span) error {
	if p.stage != stageTree {
		return fmt.Errorf("tree header is duplicate or not first")
	}
	if !isObjectName(value) {
		return fmt.Errorf("tree %q is not a hex object name", truncate(value))
	}
	p.hashLen = len(value)
	p.tree = at
	p.stage = stageParents
	return nil
}

func (p *commitParser) parent(value []byte, at span) error {
	if p.stage != stageParents {
		return fmt.Errorf("parent header out of order (parents follow tree, precede author)")
	}
	if !isObjectName(value) || len(value) != p.hashLen {
		return fmt.Errorf("parent %q is not a hex object name like the tree's", truncate(value))
	}
	if len(p.parents) == maxParents {
		return fmt.Errorf("more than %d parents", maxParents)
	}
	p.parents = append(p.parents, at)
	return nil
}

// ident stores an author or committer value, which must come at stage want
// and moves the walk to stage then.
func (p *commitParser) ident(dst *span, value []byte, at span, want, then int) error {
	if p.stage != want {
		if p.stage > want {
			return fmt.Errorf("duplicate %s header", p.lastHeader)
		}
		return fmt.Errorf("%s header out of order", p.lastHeader)
	}
	if err := checkIdent(value); err != nil {
		return fmt.Errorf("%s: %w", p.lastHeader, err)
	}
	*dst = at
	p.stage = then
	return nil
}

// setFields sets the string fields from one conversion of the header lines
// that hold them (tree, parents, author and committer come first, in that
// order).
func (p *commitParser) setFields() {
	hdr := string(p.raw[:p.committer.off+p.committer.n])
	field := func(s span) string { return hdr[s.off : s.off+s.n] }
	p.c.Tree, p.c.Author, p.c.Committer = field(p.tree), field(p.author), field(p.committer)
	for _, s := range p.parents {
		p.c.Parents = append(p.c.Parents, field(s))
	}
	if len(p.c.Parents) == 0 {
		p.c.Parents = nil
	}
}

// finish builds the payload and the signature once the headers are known:
// both are carved from one buffer.
func (p *commitParser) finish() error {
	if p.sigStart < 0 {
		p.c.Payload = p.raw
		return nil
	}
	// The signature is the header's value and its continuation lines
	// without their leading space, each ending in a newline: the region's
	// length less the key and the space that starts each continuation.
	region := p.raw[p.sigValue:p.sigEnd]
	sigLen := len(region) - bytes.Count(region, []byte("\n "))
	payloadLen := len(p.raw) - (p.sigEnd - p.sigStart)
	buf := make([]byte, 0, payloadLen+sigLen)
	buf = append(buf, p.raw[:p.sigStart]...)
	buf = append(buf, p.raw[p.sigEnd:]...)
	payload := buf[:payloadLen:payloadLen]
	sig := buf[payloadLen:]
	for rest := region; len(rest) > 0; {
		line, after, _ := bytes.Cut(rest, []byte{'\n'})
		sig = append(append(sig, line...), '\n')
		rest = after
		if len(rest) > 0 {
			rest = rest[1:] // the continuation's leading space
		}
	}
	if _, _, err := splitArmor(sig); err != nil {
		return fmt.Errorf("signature header: %w", err)
	}
	p.c.Signature, p.c.Payload = sig, payload
	return nil
}

// isObjectName reports whether b is a lower-case hex SHA-1 or SHA-256 name.
func isObjectName(b []byte) bool {
	if len(b) != 40 && len(b) != 64 {
		return false
	}
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// checkIdent checks "Name <email> <unix-seconds> <+|-hhmm>", the shape git
// writes and git fsck requires.
func checkIdent(v []byte) error {
	lt := bytes.IndexByte(v, '<')
	gt := bytes.IndexByte(v, '>')
	if lt < 0 || gt < lt || bytes.IndexByte(v[gt+1:], '<') >= 0 || bytes.IndexByte(v[gt+1:], '>') >= 0 {
		return fmt.Errorf("%q is not \"Name <email> time zone\"", truncate(v))
	}
	rest := v[gt+1:]
	if len(rest) < 1 || rest[0] != ' ' {
		return fmt.Errorf("%q has no time after the email", truncate(v))
	}
	when, zone, ok := bytes.Cut(rest[1:], []byte{' '})
	if !ok || len(when) == 0 || len(when) > 20 || !allDigits(when) {
		return fmt.Errorf("%q has a malformed time", truncate(v))
	}
	if len(zone) != 5 || (zone[0] != '+' && zone[0] != '-') || !allDigits(zone[1:]) {
		return fmt.Errorf("%q has a malformed time zone", truncate(v))
	}
	return nil
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// truncate keeps error messages about hostile input short.
func truncate(b []byte) string {
	const limit = 64
	if len(b) > limit {
		return string(b[:limit]) + "..."
	}
	return string(b)
}
