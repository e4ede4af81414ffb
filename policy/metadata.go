package policy

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Keys of a message object, made once.
var (
	msgKey = ast.StringTerm("msg")
	locKey = ast.StringTerm("_loc")
)

// objectMessage is toMessage for an object without "_loc" whose "msg" is a
// string and whose values appendJSON writes: the metadata encoded straight
// from the Rego value, with the bytes that converting it to Go maps and
// json.Marshal would give, and a fraction of their allocations. ok is
// false when the general path must handle the object.
func objectMessage(x ast.Object, r *rule) (Message, bool) {
	msg, isString := termValue(x.Get(msgKey)).(ast.String)
	if !isString || x.Get(locKey) != nil {
		return Message{}, false
	}
	keys := make([]string, 0, x.Len())
	values := make(map[string]ast.Value, x.Len())
	fine := true
	x.Foreach(func(k, v *ast.Term) {
		s, ok := k.Value.(ast.String)
		if !ok {
			fine = false
			return
		}
		switch string(s) {
		case "msg", "query":
			return
		}
		keys = append(keys, string(s))
		values[string(s)] = v.Value
	})
	if !fine {
		return Message{}, false
	}
	keys = append(keys, "query")
	slices.SortFunc(keys, strings.Compare)
	b := make([]byte, 0, 256)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		if k == "query" {
			b = appendJSONString(b, r.query)
			continue
		}
		if b, fine = appendJSON(b, values[k]); !fine {
			return Message{}, false
		}
	}
	b = append(b, '}')
	return Message{Msg: string(msg), Metadata: Metadata(b)}, true
}

func termValue(t *ast.Term) ast.Value {
	if t == nil {
		return nil
	}
	return t.Value
}

// appendJSON appends v encoded as json.Marshal encodes ast.JSON(v): object
// keys sorted, strings escaped for HTML. false for what it leaves to that
// path: sets, objects with keys that are not strings, numbers that are not
// valid JSON.
func appendJSON(b []byte, v ast.Value) ([]byte, bool) {
	switch x := v.(type) {
	case ast.Null:
		return append(b, "null"...), true
	case ast.Boolean:
		if x {
			return append(b, "true"...), true
		}
		return append(b, "false"...), true
	case ast.Number:
		if !json.Valid([]byte(x)) {
			return b, false
		}
		return append(b, x...), true
	case ast.String:
		return appendJSONString(b, string(x)), true
	case *ast.Array:
		b = append(b, '[')
		for i := range x.Len() {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendJSON(b, x.Elem(i).Value); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	case ast.Object:
		keys := make([]*ast.Term, 0, x.Len())
		for _, k := range x.Keys() {
			if _, ok := k.Value.(ast.String); !ok {
				return b, false
			}
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, c *ast.Term) int {
			return strings.Compare(string(a.Value.(ast.String)), string(c.Value.(ast.String))) //nolint:forcetypeassert // checked above
		})
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, string(k.Value.(ast.String))) //nolint:forcetypeassert // checked above
			b = append(b, ':')
			var ok bool
			if b, ok = appendJSON(b, x.Get(k).Value); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	}
	return b, false
}

// appendJSONString appends s quoted as encoding/json quotes it. Printable
// ASCII other than <, > and & is copied, " and \ are escaped; anything
// else (control characters, HTML characters, non-ASCII, invalid UTF-8)
// goes through encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := range len(s) {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			if err != nil {
				// A Go string always encodes; keep the output valid JSON.
				return append(b, `""`...)
			}
			return append(b, q...)
		}
	}
	b = append(b, '"')
	for i := range len(s) {
		if c := s[i]; c == '"' || c == '\\' {
			b = append(b, '\\', c)
		} else {
			b = append(b, c)
		}
	}
	return append(b, '"')
}
