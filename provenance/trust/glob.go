package trust

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxGlobLen bounds one glob. Git itself caps paths at PATH_MAX (4096) on
// most systems, so a longer pattern cannot name anything useful, and the
// bound keeps the worst-case cost of matching small.
const maxGlobLen = 4096

type segKind uint8

const (
	segLiteral    segKind = iota // no metacharacters: compared as a string
	segAny                       // "*": any one segment
	segPattern                   // "*", "?", "[...]" or "\" inside a segment
	segDoubleStar                // "**": zero or more whole segments
)

type segment struct {
	kind segKind
	text string // the literal (escapes removed) or the raw pattern
	head int    // segPattern: length of the plain prefix before the first metacharacter
}

// glob is a compiled path pattern. Matching walks the path in place and
// never allocates, so it stays cheap for thousands of changed paths.
type glob struct {
	segs []segment

	// Cheap necessary conditions, checked before the segment walk. Most
	// rules do not match most paths, and these reject them with one
	// string comparison each.
	prefix     string // leading literal segments joined by "/"
	prefixSegs int    // how many segments prefix covers
	suffix     string // literal bytes every match ends with
	need       string // longest other literal segment; must occur in a match
}

var (
	errGlobEmpty      = errors.New("glob is empty")
	errGlobAbsolute   = errors.New("glob must be relative to the repository root (no leading /)")
	errGlobTrailing   = errors.New("glob must not end with / (use dir/** for a folder)")
	errGlobEmptySeg   = errors.New("glob has an empty path segment (//)")
	errGlobDotSeg     = errors.New("glob must not contain . or .. segments")
	errGlobNUL        = errors.New("glob contains a NUL byte")
	errGlobDoubleStar = errors.New("** must be a whole path segment")
	errGlobEscape     = errors.New("glob ends with a lone backslash")
	errGlobClass      = errors.New("unterminated or empty character class")
	errGlobRange      = errors.New("character range is reversed")
)

// compileGlob checks pattern and turns it into segments. Everything that
// can be wrong with a pattern is caught here, so match can assume a
// well-formed pattern.
func compileGlob(pattern string) (glob, error) {
	if err := checkGlobShape(pattern); err != nil {
		return glob{}, err
	}
	parts := strings.Split(pattern, "/")
	segs := make([]segment, 0, len(parts))
	for _, p := range parts {
		s, err := compileSegment(p)
		if err != nil {
			return glob{}, err
		}
		// "a/**/**/b" means the same as "a/**/b"; one ** keeps matching linear.
		if s.kind == segDoubleStar && len(segs) > 0 && segs[len(segs)-1].kind == segDoubleStar {
			continue
		}
		segs = append(segs, s)
	}
	g := glob{segs: segs}
	g.precompute()
	return g, nil
}

func (g *glob) precompute() {
	var lits []string
	for _, s := range g.segs {
		if s.kind != segLiteral {
			break
		}
		lits = append(lits, s.text)
	}
	g.prefix, g.prefixSegs = strings.Join(lits, "/"), len(lits)
	if g.prefixSegs == len(g.segs) {
		return // all literal: the prefix test is an equality test
	}
	last := g.segs[len(g.segs)-1]
	switch last.kind {
	case segLiteral:
		g.suffix = last.text
	case segPattern:
		g.suffix = literalTail(last.text)
	}
	for _, s := range g.segs[g.prefixSegs:] {
		if s.kind == segLiteral && len(s.text) > len(g.need) {
			g.need = s.text
		}
	}
}

// literalTail returns the plain characters at the end of a segment pattern
// after its last metacharacter ("*.yaml" gives ".yaml"). Escapes end the
// tail early, which only makes the test weaker, never wrong.
func literalTail(p string) string {
	i := strings.LastIndexAny(p, `*?[]\`)
	return p[i+1:]
}

func checkGlobShape(pattern string) error {
	switch {
	case pattern == "":
		return errGlobEmpty
	case len(pattern) > maxGlobLen:
		return fmt.Errorf("glob is longer than %d bytes", maxGlobLen)
	case strings.IndexByte(pattern, 0) >= 0:
		return errGlobNUL
	case pattern[0] == '/':
		return errGlobAbsolute
	case pattern[len(pattern)-1] == '/':
		return errGlobTrailing
	}
	return nil
}

func compileSegment(p string) (segment, error) {
	switch p {
	case "":
		return segment{}, errGlobEmptySeg
	case ".", "..":
		return segment{}, errGlobDotSeg
	case "**":
		return segment{kind: segDoubleStar}, nil
	case "*":
		return segment{kind: segAny}, nil
	}
	if strings.Contains(p, "**") {
		return segment{}, errGlobDoubleStar
	}
	if !strings.ContainsAny(p, `*?[\`) {
		return segment{kind: segLiteral, text: p}, nil
	}
	if err := checkSegmentPattern(p); err != nil {
		return segment{}, err
	}
	if lit, ok := unescapeLiteral(p); ok {
		return segment{kind: segLiteral, text: lit}, nil
	}
	return segment{kind: segPattern, text: p, head: strings.IndexAny(p, `*?[\`)}, nil
}

// checkSegmentPattern validates escapes and character classes.
func checkSegmentPattern(p string) error {
	for i := 0; i < len(p); {
		switch p[i] {
		case '\\':
			if i+1 >= len(p) {
				return errGlobEscape
			}
			_, w := utf8.DecodeRuneInString(p[i+1:])
			i += 1 + w
		case '[':
			end, err := scanClass(p, i)
			if err != nil {
				return err
			}
			i = end
		default:
			i++
		}
	}
	return nil
}

// scanClass checks the class that starts at p[start] == '[' and returns the
// index just after its closing ']'.
func scanClass(p string, start int) (int, error) {
	i := start + 1
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		i++
	}
	items := 0
	for i < len(p) && p[i] != ']' {
		lo, next, err := classChar(p, i)
		if err != nil {
			return 0, err
		}
		i = next
		if i+1 < len(p) && p[i] == '-' && p[i+1] != ']' {
			hi, next, err := classChar(p, i+1)
			if err != nil {
				return 0, err
			}
			if hi < lo {
				return 0, errGlobRange
			}
			i = next
		}
		items++
	}
	if i >= len(p) || items == 0 {
		return 0, errGlobClass
	}
	return i + 1, nil
}

// classChar reads one (possibly escaped) character of a class at p[i].
func classChar(p string, i int) (rune, int, error) {
	if p[i] == '\\' {
		i++
		if i >= len(p) {
			return 0, 0, errGlobEscape
		}
	}
	r, w := utf8.DecodeRuneInString(p[i:])
	return r, i + w, nil
}

// unescapeLiteral returns p with escapes removed when p has no wildcard
// left once escapes are taken into account ("a\*b" is the literal "a*b").
func unescapeLiteral(p string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '*', '?', '[':
			return "", false
		case '\\':
			i++
		}
		b.WriteByte(p[i])
	}
	return b.String(), true
}

// match reports whether name (repo-relative, forward slashes) matches.
//
// Both levels use the classic single-backtrack-point wildcard algorithm:
// on a mismatch, return to the most recent star and let it swallow one more
// unit. A later star subsumes an earlier one, so one saved point is enough,
// and the cost is at most O(len(pattern) * len(name)) with no recursion.
func (g *glob) match(name string) bool {
	if !g.maybe(name) {
		return false
	}
	segs := g.segs
	n := len(name)
	// The prefix segments matched in maybe; resume after them.
	pi, start := g.prefixSegs, 0 // next pattern segment; start of next name segment (n+1 = none left)
	if pi > 0 {
		start = len(g.prefix) + 1
	}
	starP, starN := -1, 0
	for start <= n || pi < len(segs) {
		if pi < len(segs) {
			s := &segs[pi]
			if s.kind == segDoubleStar {
				starP, starN = pi, start
				pi++
				continue
			}
			if start <= n {
				end := segmentEnd(name, start)
				if s.matchSegment(name[start:end]) {
					pi++
					start = end + 1
					continue
				}
			}
		}
		if starP < 0 || starN > n {
			return false
		}
		starN = segmentEnd(name, starN) + 1
		pi, start = starP+1, starN
	}
	return true
}

// maybe checks the cheap necessary conditions. For an all-literal glob it
// is the whole answer.
func (g *glob) maybe(name string) bool {
	if g.prefixSegs > 0 {
		if !strings.HasPrefix(name, g.prefix) || len(name) > len(g.prefix) && name[len(g.prefix)] != '/' {
			return false
		}
		if g.prefixSegs == len(g.segs) {
			return len(name) == len(g.prefix)
		}
	}
	return strings.HasSuffix(name, g.suffix) && strings.Contains(name, g.need)
}

func segmentEnd(name string, start int) int {
	if i := strings.IndexByte(name[start:], '/'); i >= 0 {
		return start + i
	}
	return len(name)
}

func (s *segment) matchSegment(seg string) bool {
	switch s.kind {
	case segLiteral:
		return seg == s.text
	case segAny:
		return true
	default:
		// The plain head ("t05-" of "t05-*") rejects most segments with
		// one comparison before the wildcard walk.
		h := s.text[:s.head]
		return strings.HasPrefix(seg, h) && matchPattern(s.text[s.head:], seg[s.head:])
	}
}

// matchPattern matches one segment against a validated segment pattern.
func matchPattern(p, s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) || pi < len(p) {
		if pi < len(p) {
			if p[pi] == '*' {
				starP, starS = pi, si
				pi++
				continue
			}
			if si < len(s) {
				if pw, sw, ok := matchOne(p[pi:], s[si:]); ok {
					pi += pw
					si += sw
					continue
				}
			}
		}
		if starP < 0 || starS >= len(s) {
			return false
		}
		_, w := utf8.DecodeRuneInString(s[starS:])
		starS += w
		pi, si = starP+1, starS
	}
	return true
}

// matchOne matches the single-character pattern item at the start of p
// ('?', a class, an escape or a literal character) against the start of s.
// It returns how many bytes of p and of s it consumed.
func matchOne(p, s string) (pw, sw int, ok bool) {
	switch p[0] {
	case '?':
		_, sw = utf8.DecodeRuneInString(s)
		return 1, sw, true
	case '[':
		return matchClass(p, s)
	case '\\':
		_, w := utf8.DecodeRuneInString(p[1:])
		lit := p[1 : 1+w]
		return 1 + w, w, strings.HasPrefix(s, lit)
	default:
		// Compare bytes, not decoded runes, so two different invalid
		// UTF-8 bytes in a path never compare equal.
		_, w := utf8.DecodeRuneInString(p)
		return w, w, strings.HasPrefix(s, p[:w])
	}
}

// matchClass matches the class at the start of p against the first
// character of s. An invalid UTF-8 byte in s is no character any class
// names, so it matches only negated classes.
func matchClass(p, s string) (pw, sw int, ok bool) {
	r, sw := utf8.DecodeRuneInString(s)
	valid := r != utf8.RuneError || sw != 1
	i := 1
	negate := p[i] == '!' || p[i] == '^'
	if negate {
		i++
	}
	matched := false
	for p[i] != ']' {
		lo, next, _ := classChar(p, i)
		hi := lo
		i = next
		if p[i] == '-' && p[i+1] != ']' {
			hi, i, _ = classChar(p, i+1)
		}
		if valid && lo <= r && r <= hi {
			matched = true
		}
	}
	return i + 1, sw, matched != negate
}
