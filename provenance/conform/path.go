package conform

import (
	"strconv"
	"strings"
)

// segment is one step of a field path: a map key, a list index, a keyed
// list item (rendered from its key fields), or a member of a set.
type segment struct {
	name    string
	index   int
	isIndex bool
	keys    []listKey
	item    map[string]any
	value   any
	isValue bool
}

// renderPath renders segments as spec.template.spec.containers[name=web].image.
func renderPath(segs []segment) string {
	var b strings.Builder
	for i, s := range segs {
		switch {
		case s.isIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		case s.isValue:
			b.WriteString("[=")
			b.WriteString(scalarText(s.value))
			b.WriteByte(']')
		case s.keys != nil:
			b.WriteByte('[')
			for j, k := range s.keys {
				if j > 0 {
					b.WriteByte(',')
				}
				v, _ := keyValue(k, s.item)
				b.WriteString(k.name)
				b.WriteByte('=')
				b.WriteString(scalarText(v))
			}
			b.WriteByte(']')
		case plainName(s.name):
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.name)
		default:
			b.WriteByte('[')
			b.WriteString(strconv.Quote(s.name))
			b.WriteByte(']')
		}
	}
	return b.String()
}

// plainName: a key that reads unambiguously after a dot; others (labels
// such as app.kubernetes.io/name) are quoted in brackets.
func plainName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_' && r != '-' {
			return false
		}
	}
	return true
}

// scalarText renders a key value: bare when it is a plain word or number,
// quoted otherwise.
func scalarText(v any) string {
	if s, ok := v.(string); ok {
		if plainName(s) {
			return s
		}
		return strconv.Quote(s)
	}
	return formatValue(v)
}
