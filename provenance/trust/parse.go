package trust

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"gitgate.dev/gitgate/provenance/signature"
)

// MaxSize is the largest policy Parse reads. A real policy with a few
// hundred keys is well under 1 MiB; the cap bounds memory and time for a
// hostile file before it has been verified.
const MaxSize = 1 << 20

// Error is a problem in a trust policy. Its message has the form
// "<file>:<line>: <field>: <what is wrong>"; Line is 0 and the line is left
// out when the problem concerns the whole file, Field is empty when it
// concerns the whole document.
type Error struct {
	File  string
	Line  int
	Field string // e.g. signers.alice.keys[0].ssh or rules[2].paths[0]
	Err   error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Parse decodes a version-1 trust policy strictly and builds its key ring.
// filename only labels errors. Every error is an *Error.
func Parse(filename string, data []byte) (*Policy, error) {
	if len(data) > MaxSize {
		return nil, &Error{File: filename, Err: fmt.Errorf("policy is %d bytes, larger than the %d-byte limit", len(data), MaxSize)}
	}
	d := &decoder{file: filename}
	root, err := d.document(data)
	if err != nil {
		return nil, err
	}
	return d.policy(root)
}

type decoder struct {
	file string
}

func (d *decoder) fail(n *yaml.Node, field string, err error) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: d.file, Line: line, Field: field, Err: err}
}

func (d *decoder) failf(n *yaml.Node, field, format string, args ...any) error {
	return d.fail(n, field, fmt.Errorf(format, args...))
}

var yamlLineError = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a yaml.v3 error ("yaml: line 3: ...") into an *Error
// that carries the line the same way every other error does.
func (d *decoder) syntaxError(err error) error {
	msg := err.Error()
	if m := yamlLineError.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: d.file, Line: line, Err: errors.New("invalid YAML: " + m[2])}
	}
	return &Error{File: d.file, Err: errors.New("invalid YAML: " + strings.TrimPrefix(msg, "yaml: "))}
}

// document decodes exactly one YAML document into a node tree and refuses
// anchors and aliases anywhere in it. Decoding into yaml.Node never
// expands aliases, so an alias bomb is refused before it can cost anything.
func (d *decoder) document(data []byte) (root *yaml.Node, err error) {
	// yaml.v3 is a large parser fed with unverified input; a panic inside
	// it must become an error, not take the process down.
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, &Error{File: d.file, Err: fmt.Errorf("invalid YAML: parser failed: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: d.file, Err: errors.New("policy is empty; version is required")}
		}
		return nil, d.syntaxError(err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, d.syntaxError(err)
	default:
		return nil, d.failf(&next, "", "only one YAML document is allowed")
	}
	if len(doc.Content) != 1 {
		return nil, d.failf(&doc, "", "policy is empty; version is required")
	}
	root = doc.Content[0]
	if err := d.noAnchors(root, ""); err != nil {
		return nil, err
	}
	return root, nil
}

// noAnchors walks the whole tree: a trust policy has no use for anchors or
// aliases, and they are how YAML alias bombs are built.
func (d *decoder) noAnchors(n *yaml.Node, field string) error {
	if n.Kind == yaml.AliasNode {
		return d.failf(n, field, "YAML aliases are not allowed (*%s)", n.Value)
	}
	if n.Anchor != "" {
		return d.failf(n, field, "YAML anchors are not allowed (&%s)", n.Anchor)
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if err := d.noAnchors(k, field); err != nil {
				return err
			}
			if err := d.noAnchors(n.Content[i+1], join(field, k.Value)); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if err := d.noAnchors(c, index(field, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *decoder) policy(root *yaml.Node) (*Policy, error) {
	if root.Kind != yaml.MappingNode {
		return nil, d.failf(root, "", "the policy must be a mapping of version, signers, groups and rules, got %s", describe(root))
	}
	top, err := d.entries(root, "")
	if err != nil {
		return nil, err
	}
	// The version decides what the other fields mean, so check it first:
	// a version-2 policy should say so, not complain about new fields.
	if err := d.version(root, top); err != nil {
		return nil, err
	}
	if err := d.allowed(top, "", "version", "signers", "groups", "rules"); err != nil {
		return nil, err
	}
	p := &Policy{keys: signature.NewKeyRing()}
	names := newNames()
	if e, ok := top.get("signers"); ok {
		if err := d.signers(e.val, names, p.keys); err != nil {
			return nil, err
		}
	}
	if e, ok := top.get("groups"); ok {
		if err := d.groups(e.val, names); err != nil {
			return nil, err
		}
	}
	ex, err := d.expandGroups(names)
	if err != nil {
		return nil, err
	}
	p.signers = ex.signers
	if e, ok := top.get("rules"); ok {
		if p.rules, err = d.rules(e.val, names, ex); err != nil {
			return nil, err
		}
	}
	p.index = buildIndex(p.rules)
	p.ptrs = make([]*Rule, len(p.rules))
	for i := range p.rules {
		p.ptrs[i] = &p.rules[i]
	}
	return p, nil
}

func (d *decoder) version(root *yaml.Node, top fields) error {
	e, ok := top.get("version")
	if !ok {
		return d.failf(root, "version", "missing; this gitgate reads version %d", Version)
	}
	v, err := d.integer(e.val, "version")
	if err != nil {
		return err
	}
	if v != Version {
		return d.failf(e.val, "version", "unsupported version %d; this gitgate reads version %d", v, Version)
	}
	return nil
}

// signers reads the signers mapping and adds every key to ring.
func (d *decoder) signers(n *yaml.Node, names *nameTable, ring *signature.KeyRing) error {
	es, err := d.entries(n, "signers")
	if err != nil {
		return err
	}
	for _, e := range es {
		field := join("signers", e.name)
		if err := d.checkName(e.key, field, e.name); err != nil {
			return err
		}
		if err := d.signer(e.name, e.val, field, ring); err != nil {
			return err
		}
		names.signers[e.name] = true
	}
	return nil
}

func (d *decoder) signer(name string, n *yaml.Node, field string, ring *signature.KeyRing) error {
	obj, err := d.object(n, field, "keys")
	if err != nil {
		return err
	}
	e, ok := obj.get("keys")
	if !ok {
		return d.failf(n, field+".keys", "missing; a signer needs at least one key")
	}
	keys, err := d.sequence(e.val, field+".keys")
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return d.failf(e.val, field+".keys", "empty; a signer needs at least one key")
	}
	for i, k := range keys {
		if err := d.key(name, k, index(field+".keys", i), ring); err != nil {
			return err
		}
	}
	return nil
}

// key reads one key entry, which holds exactly one of ssh, openpgp, x509.
func (d *decoder) key(signer string, n *yaml.Node, field string, ring *signature.KeyRing) error {
	obj, err := d.object(n, field, "ssh", "openpgp", "x509")
	if err != nil {
		return err
	}
	if len(obj) != 1 {
		return d.failf(n, field, "a key needs exactly one of ssh, openpgp, x509 (found %d)", len(obj))
	}
	e := obj[0]
	kf := join(field, e.name)
	switch e.name {
	case "ssh":
		line, err := d.str(e.val, kf)
		if err != nil {
			return err
		}
		return d.keyError(e.val, kf, ring.AddSSH(signer, line))
	case "openpgp":
		block, err := d.str(e.val, kf)
		if err != nil {
			return err
		}
		return d.keyError(e.val, kf, ring.AddOpenPGP(signer, block))
	default:
		id, err := d.x509(e.val, kf)
		if err != nil {
			return err
		}
		return d.keyError(e.val, kf, ring.AddX509(signer, id))
	}
}

func (d *decoder) keyError(n *yaml.Node, field string, err error) error {
	if err == nil {
		return nil
	}
	return d.fail(n, field, err)
}

func (d *decoder) x509(n *yaml.Node, field string) (signature.X509Identity, error) {
	var id signature.X509Identity
	obj, err := d.object(n, field, "roots", "identity", "identityRegexp", "issuer")
	if err != nil {
		return id, err
	}
	e, ok := obj.get("roots")
	if !ok {
		return id, d.failf(n, field+".roots", "missing; x509 needs the PEM CA certificates to chain to")
	}
	if id.Roots, err = d.str(e.val, field+".roots"); err != nil {
		return id, err
	}
	if err := d.x509Identity(n, field, obj, &id); err != nil {
		return id, err
	}
	if e, ok := obj.get("issuer"); ok {
		if id.Issuer, err = d.str(e.val, field+".issuer"); err != nil {
			return id, err
		}
		// The issuer is compared exactly with the certificate's; a value
		// that is no URL can never match and is surely a mistake.
		if u, err := url.Parse(id.Issuer); err != nil || u.Scheme == "" || u.Host == "" {
			return id, d.failf(e.val, field+".issuer", "must be an absolute URL such as https://issuer.example.com")
		}
	}
	return id, nil
}

func (d *decoder) x509Identity(n *yaml.Node, field string, obj fields, id *signature.X509Identity) error {
	exact, hasExact := obj.get("identity")
	re, hasRe := obj.get("identityRegexp")
	if hasExact == hasRe {
		return d.failf(n, field, "exactly one of identity, identityRegexp is required")
	}
	var err error
	if hasExact {
		id.Identity, err = d.str(exact.val, field+".identity")
		return err
	}
	if id.IdentityRegexp, err = d.str(re.val, field+".identityRegexp"); err != nil {
		return err
	}
	if _, err := regexp.Compile(id.IdentityRegexp); err != nil {
		return d.failf(re.val, field+".identityRegexp", "invalid regular expression: %w", err)
	}
	return nil
}
