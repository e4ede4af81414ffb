// Package verifytest holds test helpers shared by the provenance tests and
// the CLI's verify tests: a trust policy builder over gittest signers and
// helpers that re-sign raw commit objects to forge them.
package verifytest

import (
	"bytes"
	"fmt"
	"strings"

	"gitgate.dev/gitgate/provenance/gittest"
)

// Policy builds a version-1 trust policy as YAML text.
type Policy struct {
	signers strings.Builder
	groups  strings.Builder
}

// Rule is one rule of a policy.
type Rule struct {
	Paths     []string
	Signers   []string
	Approvals int
}

// NewPolicy starts an empty policy.
func NewPolicy() *Policy { return &Policy{} }

// Signer adds name with the public key of each gittest signer.
func (p *Policy) Signer(name string, keys ...*gittest.Signer) *Policy {
	fmt.Fprintf(&p.signers, "  %s:\n    keys:\n", name)
	for _, k := range keys {
		switch k.Format {
		case gittest.SSH:
			fmt.Fprintf(&p.signers, "      - ssh: %q\n", k.PublicKey())
		case gittest.OpenPGP:
			fmt.Fprintf(&p.signers, "      - openpgp: |\n%s", indent(k.ArmoredPublicKey(), 10))
		default:
			panic("verifytest: use X509 for X.509 signers")
		}
	}
	return p
}

// X509 adds name with an X.509 identity.
func (p *Policy) X509(name, rootsPEM, identity, issuer string) *Policy {
	fmt.Fprintf(&p.signers, "  %s:\n    keys:\n      - x509:\n          roots: |\n%s          identity: %q\n", name, indent(rootsPEM, 12), identity)
	if issuer != "" {
		fmt.Fprintf(&p.signers, "          issuer: %q\n", issuer)
	}
	return p
}

// Group adds a group.
func (p *Policy) Group(name string, members ...string) *Policy {
	fmt.Fprintf(&p.groups, "  %s: [%s]\n", name, strings.Join(members, ", "))
	return p
}

// Rules ends the policy with its rules and returns the YAML.
func (p *Policy) Rules(rs ...Rule) string {
	var b strings.Builder
	b.WriteString("version: 1\nsigners:\n")
	b.WriteString(p.signers.String())
	if p.groups.Len() > 0 {
		b.WriteString("groups:\n")
		b.WriteString(p.groups.String())
	}
	b.WriteString("rules:\n")
	for _, r := range rs {
		quoted := make([]string, len(r.Paths))
		for i, s := range r.Paths {
			quoted[i] = fmt.Sprintf("%q", s)
		}
		fmt.Fprintf(&b, "  - paths: [%s]\n    signers: [%s]\n", strings.Join(quoted, ", "), strings.Join(r.Signers, ", "))
		if r.Approvals > 0 {
			fmt.Fprintf(&b, "    approvals: %d\n", r.Approvals)
		}
	}
	return b.String()
}

func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(pad + line + "\n")
	}
	return b.String()
}

// Resign replaces the signature header of a raw commit (or adds one) with
// sig, formatted as Git writes it: the first line after "gpgsig ", the others
// as continuation lines starting with a space.
func Resign(raw, sig []byte) []byte {
	headers, msg, ok := bytes.Cut(raw, []byte("\n\n"))
	if !ok {
		panic("verifytest: commit without message separator")
	}
	var out [][]byte
	inSig := false
	for _, line := range bytes.Split(headers, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("gpgsig ")) {
			inSig = true
			continue
		}
		if inSig && bytes.HasPrefix(line, []byte(" ")) {
			continue
		}
		inSig = false
		out = append(out, line)
	}
	if sig != nil {
		lines := strings.Split(strings.TrimRight(string(sig), "\n"), "\n")
		h := "gpgsig " + strings.Join(lines, "\n ")
		out = append(out, []byte(h))
	}
	return append(append(bytes.Join(out, []byte("\n")), "\n\n"...), msg...)
}

// StripSig returns the raw commit without its signature header: the payload
// Git signs.
func StripSig(raw []byte) []byte { return Resign(raw, nil) }
