package trust

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds arbitrary bytes to Parse. It must never panic; an error
// must be an *Error that names the file; a policy it accepts must hold the
// invariants other packages rely on.
func FuzzParse(f *testing.F) {
	for _, tt := range parseErrorCases {
		f.Add([]byte(tt.src))
	}
	f.Add([]byte(head))
	f.Add([]byte(head + "groups:\n  g: [alice, h]\n  h: [bob]\nrules:\n  - paths: [\".gitgate/**\", \"a/*/b?[!c]\"]\n    signers: [g]\n    approvals: 2\n  - {paths: [\"**\"], signers: [alice]}\n"))
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("f.yaml", data)
		if err != nil {
			var perr *Error
			if !errors.As(err, &perr) || perr.File != "f.yaml" || !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error %q (%T) is not an *Error naming the file", err, err)
			}
			return
		}
		checkInvariants(t, p)
	})
}

func checkInvariants(t *testing.T, p *Policy) {
	t.Helper()
	signers := p.Signers()
	if !slices.IsSorted(signers) || len(slices.Compact(slices.Clone(signers))) != len(signers) {
		t.Fatalf("Signers() %q is not sorted and unique", signers)
	}
	if len(signers) > 0 && p.Keys().Len() == 0 {
		t.Fatalf("%d signers but an empty key ring", len(signers))
	}
	for i, r := range p.Rules() {
		if r.Index != i || len(r.Paths) == 0 || len(r.Paths) != len(r.globs) {
			t.Fatalf("rule %d malformed: %+v", i, r)
		}
		if len(r.Signers) == 0 || !slices.IsSorted(r.Signers) || len(slices.Compact(slices.Clone(r.Signers))) != len(r.Signers) {
			t.Fatalf("rule %d signers %q are not sorted, unique and non-empty", i, r.Signers)
		}
		for _, s := range r.Signers {
			if _, ok := slices.BinarySearch(signers, s); !ok || !r.Allows(s) {
				t.Fatalf("rule %d names %q, which is not a signer or not allowed", i, s)
			}
		}
		if r.Approvals < 1 || r.Approvals > len(r.Signers) {
			t.Fatalf("rule %d approvals %d out of [1, %d]", i, r.Approvals, len(r.Signers))
		}
		// A glob's own text, where it is a plain path, must be matched by
		// this rule or an earlier one.
		for _, path := range r.Paths {
			if strings.ContainsAny(path, `*?[\`) {
				continue
			}
			if got := p.RuleFor(path); got == nil || got.Index > i {
				t.Fatalf("literal glob %q of rule %d is not governed by it or an earlier rule", path, i)
			}
		}
	}
	for _, path := range probePaths(p) {
		if got, want := p.RuleFor(path), linearRuleFor(p, path); got != want {
			t.Fatalf("RuleFor(%q) = %v, a scan of all rules gives %v", path, got, want)
		}
	}
}

// linearRuleFor is RuleFor without the index: the definition of first
// match wins.
func linearRuleFor(p *Policy, path string) *Rule {
	if path == "" {
		return nil
	}
	for _, r := range p.Rules() {
		if r.matches(path) {
			return r
		}
	}
	return nil
}

// probePaths makes paths that hit the rules' globs in several ways: the
// glob text itself, with wildcards filled in, and with folders around it.
func probePaths(p *Policy) []string {
	paths := []string{"a", "a/b", "README.md", Path, "x/y/z.yaml"}
	fill := strings.NewReplacer("**", "q/r", "*", "s", "?", "t", "[", "", "]", "", "\\", "")
	for _, r := range p.Rules() {
		for _, g := range r.Paths {
			f := fill.Replace(g)
			paths = append(paths, g, f, "pre/"+f, f+"/post", strings.TrimPrefix(f, "q/r/"))
		}
	}
	return paths
}

// FuzzGlobMatch checks the linear matcher against a plain recursive one.
func FuzzGlobMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"**", "a/b"}, {"a/**", "a"}, {"**/x.yaml", "d/x.yaml"}, {"a/**/b/**/c", "a/b/b/c"},
		{"*a*b", "xaybab"}, {"[!a-c]?", "dé"}, {`\*x`, "*x"}, {"a/*/c", "a//c"}, {"[é-ë]*", "ê\xff"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if len(pattern) > 48 || len(name) > 48 {
			return // keep the exponential reference matcher fast
		}
		g, err := compileGlob(pattern)
		if err != nil {
			return
		}
		want := refGlob(strings.Split(pattern, "/"), strings.Split(name, "/"))
		if got := g.match(name); got != want {
			t.Fatalf("match(%q, %q) = %v, reference says %v", pattern, name, got, want)
		}
	})
}

// refGlob is the definition of the glob semantics written as directly as
// possible: "**" takes zero or more segments, anything else exactly one.
func refGlob(pat, name []string) bool {
	if len(pat) == 0 {
		return len(name) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(name); i++ {
			if refGlob(pat[1:], name[i:]) {
				return true
			}
		}
		return false
	}
	return len(name) > 0 && refSegment(pat[0], name[0]) && refGlob(pat[1:], name[1:])
}

func refSegment(p, s string) bool {
	if p == "" {
		return s == ""
	}
	if p[0] == '*' {
		for i := 0; ; {
			if refSegment(p[1:], s[i:]) {
				return true
			}
			if i == len(s) {
				return false
			}
			_, w := utf8.DecodeRuneInString(s[i:])
			i += w
		}
	}
	if s == "" {
		return false
	}
	pw, sw, ok := matchOne(p, s)
	return ok && refSegment(p[pw:], s[sw:])
}
