package policy

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// docsJSON renders documents as Rego terms, for compact comparisons.
func docsJSON(docs []ast.Value) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.String()
	}
	return out
}

func TestParseInput(t *testing.T) {
	tests := []struct {
		name string
		file string
		data string
		want []string
	}{
		{"yaml single", "a.yaml", "kind: Pod\nmetadata: {name: p}\n", []string{`{"kind": "Pod", "metadata": {"name": "p"}}`}},
		{"yaml multi", "a.yml", "a: 1\n---\nb: 2\n", []string{`{"a": 1}`, `{"b": 2}`}},
		{"yaml leading separator", "a.yaml", "---\na: 1\n", []string{`{"a": 1}`}},
		{"yaml trailing separator is a null document", "a.yaml", "a: 1\n---\n", []string{`{"a": 1}`, `null`}},
		{"yaml separator with comment", "a.yaml", "a: 1\n--- # second\nb: 2\n", []string{`{"a": 1}`, `{"b": 2}`}},
		{"yaml empty file", "a.yaml", "", []string{`null`}},
		{"yaml comments only", "a.yaml", "# nothing\n", []string{`null`}},
		{"yaml top-level list", "a.yaml", "- a: 1\n- b: 2\n", []string{`{"a": 1}`, `{"b": 2}`}},
		{"yaml list inside multi-doc stays whole", "a.yaml", "- 1\n- 2\n---\nc: 3\n", []string{`[1, 2]`, `{"c": 3}`}},
		{"yaml 1.1 scalars (y and n are booleans, as keys too)", "a.yaml", "y: yes\nn: off\no: 0755\nf: 1.10\nbig: 1000000\nnil: ~\n", []string{`{"big": 1e+06, "f": 1.1, "false": false, "nil": null, "o": 493, "true": true}`}},
		{"yaml non-string keys", "a.yaml", "1: a\ntrue: b\n1.5: c\n", []string{`{"1": "a", "1.5": "c", "true": "b"}`}},
		{"yaml timestamp stays a string", "a.yaml", "t: 2024-01-02T03:04:05Z\n", []string{`{"t": "2024-01-02T03:04:05Z"}`}},
		{"yaml small alias", "a.yaml", "base: &b {x: 1}\nuse: *b\n", []string{`{"base": {"x": 1}, "use": {"x": 1}}`}},
		{"yaml bom", "a.yaml", "\xef\xbb\xbfa: 1\n", []string{`{"a": 1}`}},
		{"json object", "a.json", `{"a": [1, 2.5, "x", null, true]}`, []string{`{"a": [1, 2.5, "x", null, true]}`}},
		{"json array splits", "a.json", `[{"a": 1}, {"b": 2}]`, []string{`{"a": 1}`, `{"b": 2}`}},
		{"json empty array has no documents", "a.json", `[]`, []string{}},
		{"json bom", "a.JSON", "\xef\xbb\xbf{\"a\": 1}", []string{`{"a": 1}`}},
		{"json big integer as float", "a.json", `{"n": 12345678901234567890}`, []string{`{"n": 1.2345678901234567e+19}`}},
		{"stdin is yaml", "-", `{"a": 1}`, []string{`{"a": 1}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := ParseInput(tt.file, []byte(tt.data))
			if err != nil {
				t.Fatalf("ParseInput: %v", err)
			}
			if in.Name != tt.file {
				t.Errorf("name = %q, want %q", in.Name, tt.file)
			}
			got := docsJSON(in.Documents)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") || len(got) != len(tt.want) {
				t.Errorf("documents = %q, want %q", got, tt.want)
			}
		})
	}
}

// aliasBomb is the "billion laughs" YAML: nine levels of nine aliases.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		b.WriteString(n + ": &" + n + " [")
		for k := range 9 {
			if k > 0 {
				b.WriteString(",")
			}
			b.WriteString("*" + prev)
		}
		b.WriteString("]\n")
		prev = n
	}
	return b.String()
}

func TestParseInputMalformed(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		data    []byte
		wantErr string
		is      error
	}{
		{"invalid yaml", "bad.yaml", []byte("a: [1, 2\nb: }\n"), "invalid YAML", nil},
		{"invalid yaml tab indent", "bad.yaml", []byte("a:\n\t- b\n"), "invalid YAML", nil},
		{"alias bomb", "bomb.yaml", []byte(aliasBomb()), "aliases expand", nil},
		{"alias cycle", "cycle.yaml", []byte("a: &a [*a]\n"), "invalid YAML", nil},
		{"too large", "big.yaml", bytes.Repeat([]byte("a"), MaxInputSize+1), "larger than", ErrInputTooLarge},
		{"nul byte", "bin.yaml", []byte("a: 1\x00\n"), "binary file", ErrBinaryInput},
		{"invalid utf-8", "bin.json", []byte("{\"a\": \"\xff\xfe\"}"), "binary file", ErrBinaryInput},
		{"utf-16", "u16.yaml", []byte("\xff\xfea\x00:\x00 \x001\x00"), "binary file", ErrBinaryInput},
		{"invalid json", "bad.json", []byte(`{"a": }`), "invalid JSON", nil},
		{"json trailing data", "bad.json", []byte(`{"a": 1} {"b": 2}`), "data after", nil},
		{"yaml nan", "nan.yaml", []byte("a: .nan\n"), "unsupported number", nil},
		{"yaml inf", "inf.yaml", []byte("a: .inf\n"), "unsupported number", nil},
		{"yaml list as map key", "key.yaml", []byte("? [1, 2]\n: x\n"), "invalid map key", nil},
		{"yaml null map key", "key.yaml", []byte("null: x\n"), "unsupported map key", nil},
		{"unsupported extension", "a.toml", []byte("a = 1\n"), "unsupported file type", nil},
		{"deep nesting", "deep.yaml", []byte(strings.Repeat("[", 20000) + strings.Repeat("]", 20000)), "invalid YAML", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseInput(tt.file, tt.data)
			if err == nil {
				t.Fatal("ParseInput succeeded, want an error")
			}
			var ie *InputError
			if !errors.As(err, &ie) || ie.File != tt.file {
				t.Errorf("error %v is not an InputError for %s", err, tt.file)
			}
			if !strings.Contains(err.Error(), tt.file) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %q, want it to name %s and contain %q", err, tt.file, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error = %v, want errors.Is %v", err, tt.is)
			}
		})
	}
}

func TestReadInputCapsSize(t *testing.T) {
	r := bytes.NewReader(bytes.Repeat([]byte("#"), MaxInputSize+10))
	if _, err := ReadInput("big.yaml", r); !errors.Is(err, ErrInputTooLarge) {
		t.Fatalf("ReadInput = %v, want ErrInputTooLarge", err)
	}
	if r.Len() != 9 {
		t.Errorf("ReadInput read %d bytes past the cap, want to stop at cap+1", MaxInputSize+10-r.Len())
	}
}

// FuzzLoadInput feeds arbitrary bytes to the input loader in both formats:
// it must return documents or an InputError, never panic, and every
// document must be a plain JSON value that Rego can evaluate.
func FuzzLoadInput(f *testing.F) {
	seeds := []string{
		"kind: Pod\nmetadata: {name: p}\n",
		"a: 1\n---\nb: [1, 2, {c: d}]\n---\n",
		"- 1\n- two\n- {three: 3}\n",
		"base: &b {x: 1}\nuse: *b\nmerge: {<<: *b, y: 2}\n",
		aliasBomb(),
		"a: &a [*a]\n",
		"? [1, 2]\n: x\n",
		"y: yes\nn: off\no: 0755\nt: 2024-01-02\n",
		`{"a": [1, 2.5e10, "x", null, true, {"b": {}}]}`,
		`[{"a": 1}, {"b": 2}]`,
		"\xef\xbb\xbf{\"a\": 1}",
		"a: !!binary aGVsbG8=\n",
		"%YAML 1.1\n---\na: 1\n",
		"",
	}
	for _, s := range seeds {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, asYAML bool) {
		format := FormatJSON
		name := "fuzz.json"
		if asYAML {
			format, name = FormatYAML, "fuzz.yaml"
		}
		in, err := ParseInputAs(name, data, format)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || ie.File != name {
				t.Fatalf("error %v is not an InputError naming %s", err, name)
			}
			return
		}
		for _, d := range in.Documents {
			if d == nil {
				t.Fatal("nil document")
			}
			if _, err := ast.JSON(d); err != nil {
				t.Fatalf("document %v is not plain JSON: %v", d, err)
			}
		}
	})
}
