package trust

import (
	"slices"
	"sort"
	"strings"

	"gitgate.dev/gitgate/provenance/signature"
)

// Path is where a repository keeps its trust policy.
const Path = ".gitgate/trust.yaml"

// Version is the schema version this package reads.
const Version = 1

// Policy is a parsed, validated trust policy. It is immutable after Parse
// and safe for concurrent use.
type Policy struct {
	keys    *signature.KeyRing
	signers []string // sorted
	rules   []Rule
	ptrs    []*Rule // into rules, handed out by Rules
	index   ruleIndex
}

// Keys returns the key ring holding every key the policy lists, each tagged
// with its signer's name. It is built once by Parse; callers must not add
// keys to it.
func (p *Policy) Keys() *signature.KeyRing { return p.keys }

// Signers returns the names of all signers, sorted.
func (p *Policy) Signers() []string { return slices.Clone(p.signers) }

// Rules returns the rules in the order they are tried.
func (p *Policy) Rules() []*Rule { return slices.Clone(p.ptrs) }

// RuleFor returns the first rule whose globs match path (repo-relative,
// forward slashes), or nil when no rule does: such a path cannot change.
// It does not allocate.
func (p *Policy) RuleFor(path string) *Rule {
	if path == "" {
		return nil
	}
	first := path
	if i := strings.IndexByte(path, '/'); i >= 0 {
		first = path[:i]
	}
	// Merge the rules that name this first segment with the rules whose
	// globs can start anywhere, in rule order, so the first match wins
	// exactly as in a plain scan of all rules.
	a, b := p.index.byFirst[first], p.index.anyFirst
	for len(a) > 0 || len(b) > 0 {
		var i int32
		switch {
		case len(b) == 0 || len(a) > 0 && a[0] < b[0]:
			i, a = a[0], a[1:]
		case len(a) == 0 || b[0] < a[0]:
			i, b = b[0], b[1:]
		default: // the rule is in both lists
			i, a, b = a[0], a[1:], b[1:]
		}
		if p.rules[i].matches(path) {
			return &p.rules[i]
		}
	}
	return nil
}

// ruleIndex narrows RuleFor to the rules that can match a path's first
// segment. Most globs start with a literal folder ("clusters/prod/**"), so
// in a policy with many rules a path is tested against few of them. The
// index holds each rule at most once per list, so its size is linear in
// the policy.
type ruleIndex struct {
	byFirst  map[string][]int32 // literal first segment -> rules with a glob starting with it
	anyFirst []int32            // rules with a glob whose first segment is a pattern or **
}

func buildIndex(rules []Rule) ruleIndex {
	idx := ruleIndex{byFirst: map[string][]int32{}}
	for i := range rules {
		r := int32(i)
		for _, g := range rules[i].globs {
			if s := g.segs[0]; s.kind == segLiteral {
				if l := idx.byFirst[s.text]; len(l) == 0 || l[len(l)-1] != r {
					idx.byFirst[s.text] = append(l, r)
				}
			} else if n := len(idx.anyFirst); n == 0 || idx.anyFirst[n-1] != r {
				idx.anyFirst = append(idx.anyFirst, r)
			}
		}
	}
	return idx
}

// Rule says who may change the paths it matches.
type Rule struct {
	Index     int      // position in rules, 0-based
	Line      int      // line of the rule in the policy file
	Paths     []string // globs as written
	Signers   []string // groups expanded to signer names; sorted, unique
	Approvals int      // distinct authorized signers a change needs; at least 1

	globs []glob
}

// Allows reports whether signer is one of the rule's signers. A nil rule
// (a path no rule matches) allows no one.
func (r *Rule) Allows(signer string) bool {
	if r == nil {
		return false
	}
	i := sort.SearchStrings(r.Signers, signer)
	return i < len(r.Signers) && r.Signers[i] == signer
}

func (r *Rule) matches(path string) bool {
	for i := range r.globs {
		if r.globs[i].match(path) {
			return true
		}
	}
	return false
}
