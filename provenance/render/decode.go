package render

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
	apijson "k8s.io/apimachinery/pkg/util/json"
	apiyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

// limits bound what one YAML document may cost.
type limits struct {
	maxDepth      int
	maxAliasNodes int
}

// document is one decoded YAML document of a file.
type document struct {
	n int // 1-based position among the file's documents
	v any // JSON-compatible value; nil for an empty document
}

// decodeDocuments splits data into YAML documents exactly as kubectl does
// (at "---" lines), checks each against lim, and decodes it with kubectl's
// YAML semantics (sigs.k8s.io/yaml, then JSON with int64 and float64
// numbers, as unstructured objects hold them). Errors are *Error for path.
func decodeDocuments(path string, data []byte, lim limits) ([]document, error) {
	r := apiyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs []document
	for n := 1; ; n++ {
		raw, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, docError(path, n, fmt.Errorf("%w: %w", ErrSyntax, err))
		}
		v, err := decodeDocument(raw, lim)
		if err != nil {
			return nil, docError(path, n, err)
		}
		docs = append(docs, document{n: n, v: v})
	}
}

// decodeDocument decodes one document under lim.
//
// Only a document with both an anchor ('&') and an alias ('*') can expand,
// so only such documents are first parsed into YAML nodes and measured
// (checkYAML) before a decoder expands them; the others go straight to the
// strict decoder, which refuses repeated keys, and have their depth
// measured on the decoded value. A strict failure is parsed again to say
// what is wrong, and to let a merge key that a mapping overrides (valid
// YAML, refused by the strict decoder) through.
func decodeDocument(raw []byte, lim limits) (v any, err error) {
	// The parsers are third-party code fed hostile input; a panic in them
	// must become an error, not a crash of the reconciler.
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("%w: parser failure: %v", ErrSyntax, r)
		}
	}()
	var j []byte
	if mayExpand(raw) {
		if err := checkYAML(raw, lim); err != nil {
			return nil, err
		}
		if j, err = sigsyaml.YAMLToJSON(raw); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSyntax, err)
		}
	} else if j, err = sigsyaml.YAMLToJSONStrict(raw); err != nil {
		if cerr := checkYAML(raw, lim); cerr != nil {
			return nil, cerr
		}
		return nil, fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	if bytes.Equal(bytes.TrimSpace(j), []byte("null")) {
		return nil, nil
	}
	if err := apijson.Unmarshal(j, &v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	if depth(v, 0, lim.maxDepth) > lim.maxDepth {
		return nil, limitf("nesting deeper than %d", lim.maxDepth)
	}
	return v, nil
}

// mayExpand reports whether raw could hold an anchor and an alias.
func mayExpand(raw []byte) bool {
	return bytes.IndexByte(raw, '&') >= 0 && bytes.IndexByte(raw, '*') >= 0
}

// depth returns the nesting of mappings and lists in v, below level; it
// stops early once the result is above limit.
func depth(v any, level, limit int) int {
	deepest := level
	switch v := v.(type) {
	case map[string]any:
		deepest = level + 1
		for _, x := range v {
			if deepest > limit {
				break
			}
			deepest = max(deepest, depth(x, level+1, limit))
		}
	case []any:
		deepest = level + 1
		for _, x := range v {
			if deepest > limit {
				break
			}
			deepest = max(deepest, depth(x, level+1, limit))
		}
	}
	return deepest
}

// checkYAML parses raw into YAML nodes, which keeps aliases as references,
// and refuses a document that is nested deeper than lim.maxDepth, whose
// aliases would add more than lim.maxAliasNodes nodes when expanded, or
// that repeats a mapping key. The expanded size is computed over the node
// graph with memoization, so an alias bomb is measured in time and memory
// proportional to its text, and refused before any decoder expands it.
func checkYAML(raw []byte, lim limits) error {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%w: %w", ErrSyntax, err)
		}
		c := nodeChecker{lim: lim, memo: map[*yaml.Node]nodeStat{}}
		st, err := c.stat(&n, 0)
		if err != nil {
			return err
		}
		if added := st.size - int64(len(c.memo)); added > int64(lim.maxAliasNodes) {
			return limitf("YAML aliases expand to %d more nodes, more than the limit of %d", added, lim.maxAliasNodes)
		}
	}
}

// nodeStat is the expanded size (nodes, aliases replaced by what they
// name) and height (nesting of mappings and sequences) of a node.
type nodeStat struct {
	size   int64
	height int
}

type nodeChecker struct {
	lim  limits
	memo map[*yaml.Node]nodeStat
}

// sizeCeiling keeps the saturating sums far from overflow; any size above
// it is refused anyway.
const sizeCeiling = int64(1) << 50

// stat computes n's expanded size and height; level is the nesting at
// which n sits. Anchors precede their aliases in document order, so an
// alias always finds its target in the memo and the recursion depth is the
// text's nesting, which the YAML scanner caps.
func (c *nodeChecker) stat(n *yaml.Node, level int) (nodeStat, error) {
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return nodeStat{}, fmt.Errorf("%w: alias without a target", ErrSyntax)
		}
		st, ok := c.memo[n.Alias]
		if !ok {
			var err error
			if st, err = c.stat(n.Alias, level); err != nil {
				return nodeStat{}, err
			}
		}
		if level+st.height > c.lim.maxDepth {
			return nodeStat{}, limitf("nesting deeper than %d (through an alias)", c.lim.maxDepth)
		}
		return st, nil
	}
	if st, ok := c.memo[n]; ok {
		return st, nil
	}
	childLevel := level
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		childLevel++
		if childLevel > c.lim.maxDepth {
			return nodeStat{}, limitf("nesting deeper than %d", c.lim.maxDepth)
		}
	}
	if n.Kind == yaml.MappingNode {
		if err := checkDuplicateKeys(n); err != nil {
			return nodeStat{}, err
		}
	}
	st := nodeStat{size: 1}
	for _, ch := range n.Content {
		cs, err := c.stat(ch, childLevel)
		if err != nil {
			return nodeStat{}, err
		}
		st.size = min(st.size+cs.size, sizeCeiling)
		st.height = max(st.height, cs.height)
	}
	if childLevel > level {
		st.height++
	}
	c.memo[n] = st
	return st, nil
}

// checkDuplicateKeys refuses a mapping that names a scalar key twice:
// decoders silently keep one of the values, so the document would not say
// one thing.
func checkDuplicateKeys(n *yaml.Node) error {
	var seen map[string]bool
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
			continue
		}
		if seen == nil {
			seen = make(map[string]bool, len(n.Content)/2)
		}
		if seen[k.Value] {
			return fmt.Errorf("%w: line %d: mapping key %q is repeated", ErrSyntax, k.Line, k.Value)
		}
		seen[k.Value] = true
	}
	return nil
}
