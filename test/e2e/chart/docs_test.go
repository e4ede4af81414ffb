package chart

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// valueLeaf is a value of values.yaml that holds data rather than further
// values (a scalar, a list or an empty map), with the comment that
// describes it.
type valueLeaf struct {
	path        string
	def         string // the default, as compact JSON
	description string
}

// valueLeaves walks values.yaml and returns its leaves in file order. A
// leaf's description is the comment above or beside its key; a key without
// one takes the comment of the keys it follows without a blank line (one
// comment describing a group), else that of the map holding it.
func valueLeaves(t *testing.T) []valueLeaf {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(chartDir(t), "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		t.Fatal("values.yaml is not a map")
	}
	var leaves []valueLeaf
	var walk func(m *yaml.Node, prefix, inherited string)
	walk = func(m *yaml.Node, prefix, inherited string) {
		group := ""
		for i := 0; i+1 < len(m.Content); i += 2 {
			key, val := m.Content[i], m.Content[i+1]
			path := prefix + key.Value
			own := commentText(key.HeadComment, key.LineComment, val.LineComment)
			switch {
			case own != "":
				group = own
			case i == 0 || key.Line != lastLine(m.Content[i-1])+1:
				group = ""
			}
			desc := group
			if desc == "" {
				desc = inherited
			}
			if val.Kind == yaml.MappingNode && len(val.Content) > 0 {
				walk(val, path+".", desc)
				continue
			}
			var v any
			if err := val.Decode(&v); err != nil {
				t.Fatalf("values.yaml %s: %v", path, err)
			}
			leaves = append(leaves, valueLeaf{path: path, def: compactJSON(t, v), description: desc})
		}
	}
	walk(doc.Content[0], "", "")
	return leaves
}

// commentText joins comment lines into one line, without the "#" and the
// "--" that marks a value's own description.
func commentText(comments ...string) string {
	var words []string
	for _, c := range comments {
		for line := range strings.SplitSeq(c, "\n") {
			line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#"))
			line = strings.TrimSpace(strings.TrimPrefix(line, "--"))
			if line != "" {
				words = append(words, line)
			}
		}
	}
	return strings.Join(words, " ")
}

func lastLine(n *yaml.Node) int {
	line := n.Line
	for _, c := range n.Content {
		line = max(line, lastLine(c))
	}
	return line
}

func compactJSON(t *testing.T, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(buf.String())
}

const (
	tableBegin = "<!-- values table: generated from values.yaml by go test ./test/e2e/chart -run TestValuesDocumented -update -->"
	tableEnd   = "<!-- end of values table -->"
)

// markdownEscaper keeps a description's text as it is inside a table cell:
// "|" would end the cell, "<name>" would vanish as an HTML tag.
var markdownEscaper = strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;")

// valuesTable renders the leaves as the README's Markdown table.
func valuesTable(leaves []valueLeaf) string {
	var b strings.Builder
	b.WriteString("| Value | Default | Description |\n|---|---|---|\n")
	for _, l := range leaves {
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", l.path, strings.ReplaceAll(l.def, "|", `\|`), markdownEscaper.Replace(l.description))
	}
	return b.String()
}

// TestValuesDocumented checks that every value in values.yaml carries a
// comment, and that the chart's README lists every value with its default
// and that comment (the table is generated; -update rewrites it).
func TestValuesDocumented(t *testing.T) {
	leaves := valueLeaves(t)
	if len(leaves) < 50 {
		t.Fatalf("found only %d values; the walk is broken", len(leaves))
	}
	for _, l := range leaves {
		if l.description == "" {
			t.Errorf("values.yaml: %s has no comment", l.path)
		}
	}
	readmePath := filepath.Join(chartDir(t), "README.md")
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok1 := strings.Cut(string(readme), tableBegin+"\n")
	current, after, ok2 := strings.Cut(rest, tableEnd)
	if !ok1 || !ok2 {
		t.Fatalf("README.md lacks the values table markers %q and %q", tableBegin, tableEnd)
	}
	want := valuesTable(leaves)
	if *update {
		if err := os.WriteFile(readmePath, []byte(before+tableBegin+"\n"+want+tableEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if current != want {
		t.Errorf("README.md's values table is not the one values.yaml gives; run\n  go test ./test/e2e/chart -run TestValuesDocumented -update")
	}
}
