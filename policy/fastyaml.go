package policy

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
)

// fastYAML parses the subset of YAML that Kubernetes manifests are written in
// straight into Rego values, several times faster than the general decoder:
// block mappings and sequences, plain and quoted single-line scalars,
// single-line flow collections, comments and "---" separators, in printable
// ASCII. It gives up (ok false) on anything else — anchors, aliases, tags,
// block scalars, multi-line scalars, duplicate keys, keys that are not
// strings, scalars whose YAML 1.1 type it does not decide with certainty —
// and the caller then uses yaml.v2. Where it answers, its answer is the one
// the yaml.v2 path gives; FuzzFastYAML checks that on arbitrary input.
func fastYAML(data []byte) (docs []ast.Value, multi, ok bool) {
	for _, c := range data {
		if (c < 0x20 && c != '\n') || c >= 0x7f {
			return nil, false, false
		}
	}
	var (
		cur     []line
		started bool // the current document was opened by "---" or content
	)
	p := &fastParser{}
	flush := func() bool {
		if !started {
			return true
		}
		v, ok := p.document(cur)
		if !ok {
			return false
		}
		docs = append(docs, v)
		cur, started = cur[:0], false
		return true
	}
	for len(data) > 0 {
		raw := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			raw, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		s := string(raw)
		content := strings.TrimLeft(s, " ")
		if content == "" || content[0] == '#' {
			continue
		}
		indent := len(s) - len(content)
		if indent == 0 && strings.HasPrefix(content, "---") {
			rest := strings.TrimLeft(content[3:], " ")
			if len(content) > 3 && content[3] != ' ' || rest != "" && rest[0] != '#' {
				return nil, false, false
			}
			if !flush() {
				return nil, false, false
			}
			started = true
			continue
		}
		if indent == 0 && (content[0] == '%' || strings.HasPrefix(content, "...")) {
			return nil, false, false
		}
		cur = append(cur, line{indent: indent, content: content})
		started = true
	}
	if !flush() {
		return nil, false, false
	}
	if len(docs) == 0 {
		return []ast.Value{ast.NullValue}, false, true
	}
	return docs, len(docs) > 1, true
}

type line struct {
	indent  int
	content string
}

type fastParser struct {
	lines []line
	i     int
	depth int
}

// maxFastDepth bounds nesting; deeper documents go to the general decoder.
const maxFastDepth = 64

func (p *fastParser) document(lines []line) (ast.Value, bool) {
	if len(lines) == 0 {
		return ast.NullValue, true
	}
	p.lines, p.i, p.depth = lines, 0, 0
	var (
		v  ast.Value
		ok bool
	)
	first := lines[0].content
	if len(lines) == 1 && (first[0] == '[' || first[0] == '{') {
		v, ok = inlineValue(first)
		p.i = 1
	} else {
		v, ok = p.block(lines[0].indent)
	}
	return v, ok && p.i == len(p.lines)
}

func (p *fastParser) block(indent int) (ast.Value, bool) {
	if p.depth++; p.depth > maxFastDepth {
		return nil, false
	}
	defer func() { p.depth-- }()
	if isSeqEntry(p.lines[p.i].content) {
		return p.sequence(indent)
	}
	return p.mapping(indent)
}

// nested parses the value of a key or sequence entry that continues on the
// next lines: a deeper block, a sequence at the key's own indentation
// (allowed for mapping values only), or nothing (null).
func (p *fastParser) nested(indent int, sameIndentSeq bool) (ast.Value, bool) {
	if p.i < len(p.lines) {
		next := p.lines[p.i]
		if next.indent > indent {
			return p.block(next.indent)
		}
		if sameIndentSeq && next.indent == indent && isSeqEntry(next.content) {
			if p.depth++; p.depth > maxFastDepth {
				return nil, false
			}
			defer func() { p.depth-- }()
			return p.sequence(indent)
		}
	}
	return ast.NullValue, true
}

func (p *fastParser) mapping(indent int) (ast.Value, bool) {
	obj := ast.NewObject()
	for p.i < len(p.lines) {
		l := p.lines[p.i]
		if l.indent < indent {
			break
		}
		if l.indent > indent || isSeqEntry(l.content) {
			return nil, false
		}
		key, rest, ok := splitKey(l.content)
		if !ok {
			return nil, false
		}
		p.i++
		var v ast.Value
		if rest == "" {
			v, ok = p.nested(indent, true)
		} else {
			v, ok = inlineValue(rest)
			// A deeper line after an inline value is a multi-line
			// scalar or an error: not ours to decide.
			ok = ok && (p.i == len(p.lines) || p.lines[p.i].indent <= indent)
		}
		if !ok {
			return nil, false
		}
		k := ast.StringTerm(key)
		if obj.Get(k) != nil {
			return nil, false // duplicate key: yaml.v2 decides
		}
		obj.Insert(k, ast.NewTerm(v))
	}
	return obj, true
}

func (p *fastParser) sequence(indent int) (ast.Value, bool) {
	var items []*ast.Term
	for p.i < len(p.lines) {
		l := p.lines[p.i]
		if l.indent != indent || !isSeqEntry(l.content) {
			if l.indent > indent {
				return nil, false
			}
			break
		}
		rest := strings.TrimLeft(l.content[1:], " ")
		col := indent + len(l.content) - len(rest)
		var (
			v  ast.Value
			ok bool
		)
		switch {
		case rest == "" || rest[0] == '#':
			p.i++
			v, ok = p.nested(indent, false)
		case isSeqEntry(rest):
			return nil, false
		case isMapEntry(rest):
			// "- key: value" opens a mapping at the column of its key.
			p.lines[p.i] = line{indent: col, content: rest}
			if p.depth++; p.depth > maxFastDepth {
				return nil, false
			}
			v, ok = p.mapping(col)
			p.depth--
		default:
			p.i++
			v, ok = inlineValue(rest)
			ok = ok && (p.i == len(p.lines) || p.lines[p.i].indent <= indent)
		}
		if !ok {
			return nil, false
		}
		items = append(items, ast.NewTerm(v))
	}
	return ast.NewArray(items...), true
}

func isSeqEntry(s string) bool { return s == "-" || strings.HasPrefix(s, "- ") }

func isMapEntry(s string) bool {
	_, _, ok := splitKey(s)
	return ok
}

// indicators may not start a plain scalar (or are left to yaml.v2).
const indicators = "-?:,[]{}#&*!|>'\"%@`<"

// maxSimpleKey is below YAML's limit of 1024 characters for an implicit
// key, which libyaml enforces.
const maxSimpleKey = 1000

// splitKey splits "key: value" into the key, resolved to a string, and the
// rest of the line ("" for none or a comment).
func splitKey(s string) (key, rest string, ok bool) {
	var after string
	switch s[0] {
	case '"', '\'':
		k, n, ok := quoted(s)
		if !ok || n >= len(s) || s[n] != ':' || n > maxSimpleKey {
			return "", "", false
		}
		key, after = k, s[n+1:]
	default:
		if strings.IndexByte(indicators, s[0]) >= 0 {
			return "", "", false
		}
		pos := -1
		for i := 0; i < len(s); i++ {
			if s[i] == ':' && (i+1 == len(s) || s[i+1] == ' ') {
				pos = i
				break
			}
		}
		if pos <= 0 || pos > maxSimpleKey {
			return "", "", false
		}
		key = strings.TrimRight(s[:pos], " ")
		if strings.Contains(key, " #") {
			return "", "", false
		}
		v, ok := plainScalar(key)
		if !ok {
			return "", "", false
		}
		str, isStr := v.(ast.String)
		if !isStr {
			return "", "", false // bool, null or number keys: yaml.v2 decides
		}
		key, after = string(str), s[pos+1:]
	}
	if after != "" && after[0] != ' ' {
		return "", "", false
	}
	rest = strings.TrimLeft(after, " ")
	if rest != "" && rest[0] == '#' {
		rest = ""
	}
	return key, rest, true
}

// inlineValue parses the value on the rest of a line: a quoted scalar, a
// flow collection or a plain scalar, optionally followed by a comment.
func inlineValue(s string) (ast.Value, bool) {
	switch s[0] {
	case '"', '\'':
		str, n, ok := quoted(s)
		if !ok || !onlyComment(s[n:]) {
			return nil, false
		}
		return ast.String(str), true
	case '[', '{':
		fp := flowParser{s: s}
		v, ok := fp.value()
		if !ok || !onlyComment(s[fp.pos:]) {
			return nil, false
		}
		return v, true
	}
	if strings.IndexByte(indicators, s[0]) >= 0 && s[0] != '-' || isSeqEntry(s) {
		return nil, false
	}
	if i := strings.Index(s, " #"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimRight(s, " ")
	if strings.Contains(s, ": ") || strings.HasSuffix(s, ":") {
		return nil, false
	}
	return plainScalar(s)
}

func onlyComment(s string) bool {
	t := strings.TrimLeft(s, " ")
	return t == "" || t[0] == '#' && len(t) < len(s)
}

// plainScalar resolves a plain scalar the way yaml.v2 (YAML 1.1) does, for
// the forms it is sure of: null and boolean words, decimal integers and
// decimal fractions, and strings that cannot be read as anything else.
// Numbers become float64 as conftest has them (see toValue).
func plainScalar(s string) (ast.Value, bool) {
	switch s {
	case "", "~", "null", "Null", "NULL":
		return ast.NullValue, true
	case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
		return ast.Boolean(true), true
	case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
		return ast.Boolean(false), true
	}
	c := s[0]
	if c == '.' || c == '<' {
		return nil, false // .inf, .5, << and friends
	}
	if c != '+' && c != '-' && (c < '0' || c > '9') {
		return ast.String(s), true
	}
	if isDecimal(s) && len(s) <= 18 {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, false
		}
		v, err := floatNumber(float64(n))
		return v, err == nil
	}
	if isDecimalFraction(s) {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, false
		}
		v, err := floatNumber(f)
		return v, err == nil
	}
	// yaml.v2 would try timestamps, base prefixes, underscores, exponents
	// and binary literals: leave anything made of those characters to it.
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789+-._eExXoObBaAcCdDfF", rune(s[i])) {
			return ast.String(s), true
		}
	}
	return nil, false
}

// isDecimal matches -?(0|[1-9][0-9]*).
func isDecimal(s string) bool {
	if s[0] == '-' {
		s = s[1:]
	}
	if s == "" || s[0] == '0' && len(s) > 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isDecimalFraction matches -?[0-9]+\.[0-9]+.
func isDecimalFraction(s string) bool {
	if s[0] == '-' {
		s = s[1:]
	}
	whole, frac, ok := strings.Cut(s, ".")
	return ok && whole != "" && frac != "" && allDigits(whole) && allDigits(frac)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// quoted reads a single- or double-quoted scalar that closes on this line,
// returning its value and the index after the closing quote.
func quoted(s string) (string, int, bool) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == q && q == '\'':
			if i+1 < len(s) && s[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			return b.String(), i + 1, true
		case c == q:
			return b.String(), i + 1, true
		case c == '\\' && q == '"':
			if i+1 >= len(s) {
				return "", 0, false
			}
			i++
			n, ok := escape(&b, s[i:])
			if !ok {
				return "", 0, false
			}
			i += n - 1
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, false
}

// escape decodes one escape sequence (s starts after the backslash) and
// returns how many bytes it used: the escapes of YAML 1.1 that yaml.v2
// reads, except those that produce non-ASCII line breaks.
func escape(b *strings.Builder, s string) (int, bool) {
	width := 0
	switch s[0] {
	case '0':
		b.WriteByte(0)
	case 'a':
		b.WriteByte(7)
	case 'b':
		b.WriteByte(8)
	case 't':
		b.WriteByte(9)
	case 'n':
		b.WriteByte(10)
	case 'v':
		b.WriteByte(11)
	case 'f':
		b.WriteByte(12)
	case 'r':
		b.WriteByte(13)
	case 'e':
		b.WriteByte(27)
	case ' ', '"', '\'', '\\':
		b.WriteByte(s[0])
	case 'x':
		width = 2
	case 'u':
		width = 4
	case 'U':
		width = 8
	default:
		return 0, false
	}
	if width == 0 {
		return 1, true
	}
	if len(s) < 1+width {
		return 0, false
	}
	code, err := strconv.ParseUint(s[1:1+width], 16, 32)
	if err != nil || code > utf8.MaxRune || code >= 0xd800 && code <= 0xdfff {
		return 0, false
	}
	b.WriteRune(rune(code))
	return 1 + width, true
}

// flowParser reads one single-line flow collection: [a, "b", {c: d}].
type flowParser struct {
	s     string
	pos   int
	depth int
}

func (f *flowParser) skipSpaces() {
	for f.pos < len(f.s) && f.s[f.pos] == ' ' {
		f.pos++
	}
}

func (f *flowParser) value() (ast.Value, bool) {
	f.skipSpaces()
	if f.pos >= len(f.s) {
		return nil, false
	}
	switch f.s[f.pos] {
	case '[', '{':
		if f.depth++; f.depth > maxFastDepth {
			return nil, false
		}
		defer func() { f.depth-- }()
		if f.s[f.pos] == '[' {
			return f.sequence()
		}
		return f.mapping()
	case '"', '\'':
		str, n, ok := quoted(f.s[f.pos:])
		if !ok {
			return nil, false
		}
		f.pos += n
		return ast.String(str), true
	}
	start := f.pos
	for f.pos < len(f.s) {
		c := f.s[f.pos]
		if c == ',' || c == ']' || c == '}' || c == ':' && (f.pos+1 == len(f.s) || strings.IndexByte(" ,]}", f.s[f.pos+1]) >= 0) {
			break
		}
		if !flowPlainChar(c) {
			return nil, false
		}
		f.pos++
	}
	s := strings.TrimRight(f.s[start:f.pos], " ")
	if s == "" || strings.IndexByte(indicators, s[0]) >= 0 && s[0] != '-' || s == "-" || strings.HasPrefix(s, "- ") {
		return nil, false
	}
	return plainScalar(s)
}

// flowPlainChar reports whether c may appear in a plain scalar inside a flow
// collection as far as the fast path is concerned: libyaml's rules there
// differ from block context in ways (for "?", ":", "#" and the other
// indicators) that are not worth matching, so the fast path takes only
// letters, digits, spaces and a few punctuation marks.
func flowPlainChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte(" ._/+=-", c) >= 0
}

func (f *flowParser) sequence() (ast.Value, bool) {
	f.pos++ // [
	var items []*ast.Term
	for {
		f.skipSpaces()
		if f.pos >= len(f.s) {
			return nil, false
		}
		if f.s[f.pos] == ']' {
			f.pos++
			return ast.NewArray(items...), true
		}
		v, ok := f.value()
		if !ok {
			return nil, false
		}
		items = append(items, ast.NewTerm(v))
		if !f.separator(']') {
			return nil, false
		}
	}
}

func (f *flowParser) mapping() (ast.Value, bool) {
	f.pos++ // {
	obj := ast.NewObject()
	for {
		f.skipSpaces()
		if f.pos >= len(f.s) {
			return nil, false
		}
		if f.s[f.pos] == '}' {
			f.pos++
			return obj, true
		}
		start := f.pos
		k, ok := f.value()
		if !ok || f.pos-start > maxSimpleKey {
			return nil, false
		}
		key, isStr := k.(ast.String)
		if !isStr || f.pos >= len(f.s) || f.s[f.pos] != ':' {
			return nil, false
		}
		f.pos++
		if f.pos < len(f.s) && f.s[f.pos] != ' ' && f.s[f.pos-2] != '"' && f.s[f.pos-2] != '\'' {
			return nil, false
		}
		v, ok := f.value()
		if !ok {
			return nil, false
		}
		kt := ast.StringTerm(string(key))
		if obj.Get(kt) != nil {
			return nil, false
		}
		obj.Insert(kt, ast.NewTerm(v))
		if !f.separator('}') {
			return nil, false
		}
	}
}

// separator consumes the ", " between flow entries, or stops before the
// closing bracket.
func (f *flowParser) separator(end byte) bool {
	f.skipSpaces()
	if f.pos >= len(f.s) {
		return false
	}
	switch f.s[f.pos] {
	case ',':
		f.pos++
		return true
	case end:
		return true
	}
	return false
}
