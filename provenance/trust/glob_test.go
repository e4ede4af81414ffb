package trust

import (
	"errors"
	"path"
	"strings"
	"testing"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		glob  string
		match []string
		miss  []string
	}{
		{
			glob:  "**",
			match: []string{"a", "a/b", "a/b/c", ".gitgate/trust.yaml", "x y/z"},
		},
		{
			glob:  "a/**",
			match: []string{"a", "a/b", "a/b/c", "a/.hidden"},
			miss:  []string{"ab", "ab/c", "b/a", "b/a/c", "A/b"},
		},
		{
			glob:  "**/x.yaml",
			match: []string{"x.yaml", "d/x.yaml", "d/e/x.yaml"},
			miss:  []string{"x.yml", "dx.yaml", "d/x.yaml/e", "d/ax.yaml"},
		},
		{
			glob:  "a/**/b",
			match: []string{"a/b", "a/x/b", "a/x/y/b", "a/b/b"},
			miss:  []string{"a", "b", "a/bb", "a/b/c", "x/a/b"},
		},
		{
			glob:  "a/**/b/**/c",
			match: []string{"a/b/c", "a/1/b/2/c", "a/b/b/c", "a/1/2/b/3/4/c", "a/b/c/b/c"},
			miss:  []string{"a/c", "a/b", "a/b/c/d", "a/c/b"},
		},
		{
			glob:  "a/**/**/b",
			match: []string{"a/b", "a/x/b", "a/x/y/b"},
			miss:  []string{"a/bx"},
		},
		{
			glob:  "clusters/prod/**",
			match: []string{"clusters/prod/app.yaml", "clusters/prod/ns/a/b.yaml"},
			miss:  []string{"clusters/production/app.yaml", "clusters/dev/app.yaml", "clusters/app.yaml"},
		},
		{
			glob:  "*",
			match: []string{"a", "README.md", ".gitgate"},
			miss:  []string{"a/b", ".gitgate/trust.yaml"},
		},
		{
			glob:  "*.yaml",
			match: []string{"a.yaml", ".yaml", "x.y.yaml"},
			miss:  []string{"d/a.yaml", "a.yml", "a.yaml.bak"},
		},
		{
			glob:  "apps/*/deploy.yaml",
			match: []string{"apps/web/deploy.yaml", "apps/.x/deploy.yaml"},
			miss:  []string{"apps/deploy.yaml", "apps/a/b/deploy.yaml"},
		},
		{
			glob:  "a*b*c",
			match: []string{"abc", "aXbYc", "abbbc", "a-b-c-b-c", "abcbc"},
			miss:  []string{"ab", "acb", "abcd", "a/b/c", "ab/c"},
		},
		{
			glob:  "?.txt",
			match: []string{"a.txt", "é.txt", "日.txt"},
			miss:  []string{".txt", "ab.txt", "/.txt"},
		},
		{
			glob:  "file[0-9].txt",
			match: []string{"file0.txt", "file9.txt"},
			miss:  []string{"filea.txt", "file.txt", "file10.txt"},
		},
		{
			glob:  "[!a-c]x",
			match: []string{"dx", "Ax", "éx"},
			miss:  []string{"ax", "bx", "cx", "x"},
		},
		{
			glob:  "[^a-c]x",
			match: []string{"dx"},
			miss:  []string{"ax"},
		},
		{
			glob:  "[a-]x",
			match: []string{"ax", "-x"},
			miss:  []string{"bx"},
		},
		{
			glob:  `[\]]x`,
			match: []string{"]x"},
			miss:  []string{`\x`},
		},
		{
			glob:  "[é-ë]",
			match: []string{"é", "ê", "ë"},
			miss:  []string{"e", "ì"},
		},
		{
			glob:  `a\*b`,
			match: []string{"a*b"},
			miss:  []string{"ab", "aXb"},
		},
		{
			glob:  `\?*`,
			match: []string{"?", "?abc"},
			miss:  []string{"abc"},
		},
		{
			glob:  ".gitgate/trust.yaml",
			match: []string{".gitgate/trust.yaml"},
			miss:  []string{".gitgate/trust.yml", ".gitgate", "x/.gitgate/trust.yaml", ".gitgate/trust.yaml/x"},
		},
		{
			glob:  "docs/**/*.md",
			match: []string{"docs/a.md", "docs/x/y/a.md"},
			miss:  []string{"docs/a.txt", "a.md", "docs"},
		},
		{
			// Non-UTF-8 bytes are compared as bytes: two different invalid
			// bytes must not count as the same character.
			glob:  "a\xffb",
			match: []string{"a\xffb"},
			miss:  []string{"a\xfeb", "a\uFFFDb"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.glob, func(t *testing.T) {
			g, err := compileGlob(tt.glob)
			if err != nil {
				t.Fatalf("compileGlob(%q): %v", tt.glob, err)
			}
			for _, p := range tt.match {
				if !g.match(p) {
					t.Errorf("%q does not match %q, want match", tt.glob, p)
				}
			}
			for _, p := range tt.miss {
				if g.match(p) {
					t.Errorf("%q matches %q, want no match", tt.glob, p)
				}
			}
		})
	}
}

func TestGlobInvalid(t *testing.T) {
	tests := []struct {
		glob string
		want error
	}{
		{"", errGlobEmpty},
		{"/etc/passwd", errGlobAbsolute},
		{"docs/", errGlobTrailing},
		{"a//b", errGlobEmptySeg},
		{"./a", errGlobDotSeg},
		{"a/../b", errGlobDotSeg},
		{"a/.", errGlobDotSeg},
		{"a\x00b", errGlobNUL},
		{"a**", errGlobDoubleStar},
		{"**.yaml", errGlobDoubleStar},
		{"a/***/b", errGlobDoubleStar},
		{`a\`, errGlobEscape},
		{"[abc", errGlobClass},
		{"[]", errGlobClass},
		{"[!]", errGlobClass},
		{"a[", errGlobClass},
		{`[a\`, errGlobEscape},
		{"[z-a]", errGlobRange},
	}
	for _, tt := range tests {
		t.Run(tt.glob, func(t *testing.T) {
			_, err := compileGlob(tt.glob)
			if !errors.Is(err, tt.want) {
				t.Fatalf("compileGlob(%q) = %v, want %v", tt.glob, err, tt.want)
			}
		})
	}
	if _, err := compileGlob(strings.Repeat("a", maxGlobLen+1)); err == nil {
		t.Fatalf("compileGlob accepted a glob longer than %d bytes", maxGlobLen)
	}
}

// TestGlobAgreesWithPathMatch checks single-segment patterns (no "**")
// against the standard library's path.Match, which shares the meaning of
// "*", "?" and classes when no segment crosses a slash.
func TestGlobAgreesWithPathMatch(t *testing.T) {
	globs := []string{"*", "a*", "*b", "a?c", "*.yaml", "[a-c]*", "[^x]?", "a/*/c", "*/*", `\*`, "a*b*c*d"}
	names := []string{"", "a", "b", "abc", "a.yaml", "x.yaml", "ab/c", "a/b/c", "a/bb/c", "xy", "*", "aXbYcZd", "abcd/e"}
	for _, pat := range globs {
		g, err := compileGlob(pat)
		if err != nil {
			t.Fatalf("compileGlob(%q): %v", pat, err)
		}
		for _, name := range names {
			want, err := path.Match(pat, name)
			if err != nil {
				t.Fatalf("path.Match(%q): %v", pat, err)
			}
			if got := g.match(name); got != want {
				t.Errorf("match(%q, %q) = %v, path.Match says %v", pat, name, got, want)
			}
		}
	}
}

func TestGlobMatchDoesNotAllocate(t *testing.T) {
	g, err := compileGlob("a/**/[b-d]*/**/x?.yaml")
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		g.match("a/1/2/c3/4/5/xy.yaml")
		g.match("a/1/2/e3/4/5/xy.yaml")
	})
	if allocs != 0 {
		t.Fatalf("match allocates %v times per run, want 0", allocs)
	}
}

// TestGlobPathologicalIsLinear makes sure a pattern built to make a
// backtracking matcher explode stays cheap: it must finish at all, which a
// recursive matcher does not within the test timeout for these sizes.
func TestGlobPathologicalIsLinear(t *testing.T) {
	seg := strings.Repeat("*a", 200) + "*b"
	g, err := compileGlob(seg)
	if err != nil {
		t.Fatal(err)
	}
	if g.match(strings.Repeat("a", 4000)) {
		t.Fatal("pattern needs a final b")
	}
	deep := strings.Repeat("**/a/", 300) + "b"
	g, err = compileGlob(deep)
	if err != nil {
		t.Fatal(err)
	}
	if g.match(strings.Repeat("a/", 2000) + "c") {
		t.Fatal("pattern needs a final b segment")
	}
}
