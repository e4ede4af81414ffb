package trust

import (
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// entry is one key/value pair of a YAML mapping, in document order.
type entry struct {
	name     string
	key, val *yaml.Node
}

type fields []entry

func (fs fields) get(name string) (entry, bool) {
	for _, e := range fs {
		if e.name == name {
			return e, true
		}
	}
	return entry{}, false
}

// entries returns the pairs of mapping n. Keys must be strings and must not
// repeat: yaml.v3 reports duplicate keys only when decoding into Go values,
// never into nodes, and a repeated key would let a reviewer read one value
// while gitgate uses another.
func (d *decoder) entries(n *yaml.Node, field string) (fields, error) {
	if n.Kind != yaml.MappingNode || n.ShortTag() != "!!map" {
		return nil, d.failf(n, field, "must be a mapping, got %s", describe(n))
	}
	es := make(fields, 0, len(n.Content)/2)
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.ShortTag() == "!!merge" {
			return nil, d.failf(k, join(field, k.Value), "YAML merge keys are not allowed")
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			return nil, d.failf(k, field, "keys must be strings, got %s", describe(k))
		}
		if first, dup := seen[k.Value]; dup {
			return nil, d.failf(k, join(field, k.Value), "duplicate key (first at line %d)", first)
		}
		seen[k.Value] = k.Line
		es = append(es, entry{name: k.Value, key: k, val: v})
	}
	return es, nil
}

// object is entries restricted to the allowed field names.
func (d *decoder) object(n *yaml.Node, field string, allowed ...string) (fields, error) {
	es, err := d.entries(n, field)
	if err != nil {
		return nil, err
	}
	return es, d.allowed(es, field, allowed...)
}

func (d *decoder) allowed(es fields, field string, allowed ...string) error {
	for _, e := range es {
		if !contains(allowed, e.name) {
			return d.failf(e.key, join(field, e.name), "unknown field (allowed: %s)", strings.Join(allowed, ", "))
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (d *decoder) sequence(n *yaml.Node, field string) ([]*yaml.Node, error) {
	if n.Kind != yaml.SequenceNode || n.ShortTag() != "!!seq" {
		return nil, d.failf(n, field, "must be a list, got %s", describe(n))
	}
	return n.Content, nil
}

// str returns a non-empty string scalar. Numbers, booleans and null are
// refused rather than converted: a key or name that YAML reads as
// something else is a mistake the author should see.
func (d *decoder) str(n *yaml.Node, field string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		return "", d.failf(n, field, "must be a string, got %s", describe(n))
	}
	if n.Value == "" {
		return "", d.failf(n, field, "must not be empty")
	}
	return n.Value, nil
}

func (d *decoder) integer(n *yaml.Node, field string) (int, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		return 0, d.failf(n, field, "must be an integer, got %s", describe(n))
	}
	var v int
	if err := n.Decode(&v); err != nil {
		return 0, d.failf(n, field, "integer %s is out of range", n.Value)
	}
	return v, nil
}

// nameRE is what signer and group names may look like. Names end up in
// logs, JSON, Kubernetes annotations (a comma-separated list) and error
// messages, so they stay free of separators, spaces and control characters.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$`)

func (d *decoder) checkName(n *yaml.Node, field, name string) error {
	if !nameRE.MatchString(name) {
		return d.failf(n, field, "invalid name %q: use 1-128 letters, digits and . _ @ + - starting with a letter or digit", name)
	}
	return nil
}

func describe(n *yaml.Node) string {
	tag := n.ShortTag()
	switch n.Kind {
	case yaml.MappingNode:
		if tag != "!!map" {
			return "a mapping tagged " + tag
		}
		return "a mapping"
	case yaml.SequenceNode:
		if tag != "!!seq" {
			return "a list tagged " + tag
		}
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch tag {
		case "!!str":
			return "a string"
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "null"
		}
	}
	return "a value tagged " + tag
}

// join appends a mapping key to a field path; keys that would make the
// path ambiguous are quoted.
func join(field, key string) string {
	if !plainKey(key) {
		key = strconv.Quote(key)
	}
	if field == "" {
		return key
	}
	return field + "." + key
}

func plainKey(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '[' || c == ']' || c == ':' {
			return false
		}
	}
	return true
}

func index(field string, i int) string {
	return field + "[" + strconv.Itoa(i) + "]"
}
