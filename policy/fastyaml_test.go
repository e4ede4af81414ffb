package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// slowYAML is the reference: yaml.v2 (as kubectl and conftest read YAML)
// and the conversion to Rego values.
func slowYAML(data []byte) ([]ast.Value, bool, error) {
	raw, multi, err := decodeYAML(data)
	if err != nil {
		return nil, false, err
	}
	docs := make([]ast.Value, len(raw))
	for i, x := range raw {
		if docs[i], err = toValue(x); err != nil {
			return nil, false, err
		}
	}
	return docs, multi, nil
}

// checkSame fails when the fast path answered and its answer differs from
// yaml.v2's.
func checkSame(t *testing.T, data []byte) (accepted bool) {
	t.Helper()
	fast, fmulti, ok := fastYAML(data)
	if !ok {
		return false
	}
	slow, smulti, err := slowYAML(data)
	if err != nil {
		t.Fatalf("fast path accepted %q, yaml.v2 rejects it: %v", data, err)
	}
	if len(fast) != len(slow) || fmulti != smulti {
		t.Fatalf("%q: fast path gives %d documents (multi %v), yaml.v2 %d (multi %v)", data, len(fast), fmulti, len(slow), smulti)
	}
	for i := range fast {
		if ast.Compare(fast[i], slow[i]) != 0 {
			t.Fatalf("%q document %d:\nfast path %v\nyaml.v2   %v", data, i, fast[i], slow[i])
		}
	}
	return true
}

var fastYAMLSeeds = []string{
	"",
	"# only a comment\n",
	"---\n",
	"---\n---\n",
	"a: 1\n---\n",
	"a: 1\n--- # second\nb: 2\n",
	"kind: Pod\nmetadata:\n  name: p\n  labels: {app: web, tier: \"front\"}\nspec:\n  containers:\n  - name: c\n    image: nginx:1.2.3\n    ports:\n    - containerPort: 8080\n    args: [\"--a\", '--b', c]\n",
	"a:\n- 1\n- -2\n- 3.5\n- 0\n- 007\n- 1e3\n- 0x1f\n- 1_000\n- +1\n- .5\n- 2024-01-02\n- 100m\n- 128Mi\n- 1.2.3\n",
	"y: yes\nn: no\no: on\nf: off\nt: True\nnil: ~\nempty:\nnull2: null\n",
	"on: push\n",
	"1: a\n",
	"\"quoted key\": \"a \\\"b\\\" \\n \\t \\u00e9 \\x41\"\n'single': 'it''s'\n",
	"a: b # comment\nc: \"d\" # comment\ne: [1, 2] # comment\n",
	"a: b#c\nurl: http://example.com:8080/x\n",
	"list:\n  - a\n  -   b: 1\n      c: 2\n  -\n    d: 3\n  - - nested\n",
	"a: &x 1\nb: *x\n",
	"a: !!str 1\n",
	"a: |\n  text\n",
	"a: multi\n  line\n",
	"a: 1\na: 2\n",
	"a: {b: [1, {c: d}], e: \"f\"}\n",
	"{\"a\": [1, 2.5, \"x\", null, true], \"b\": {}}\n",
	"[1, 2, 3]\n",
	"- a\n- b\n",
	"a:\n  b:\n    c:\n      d: e\n",
	"key with spaces: value with spaces\n",
	"a: 'x: y'\nb: \"p # q\"\n",
	"a: b: c\n",
	"a: -\n",
	"a: [b, c\n",
	"a: {b: 1, b: 2}\n",
	"- [a, b]\n- {c: d}\n",
	"  indented: doc\n  more: x\n",
	"a: 12345678901234567890\n",
	"a: -0\nb: 0.0\nc: -1.50\n",
	"\"a\":1\n",
	"a: {\"b\":1}\n",
	"a: [\"x\",'y',z]\n",
	"%YAML 1.1\n---\na: 1\n",
	"a: 1\n...\n",
	"A: - 0\n",
	"- a: 1\n  b: 2\n- c\n",
	"a:\n  - b\n  - c: d\n    e: f\n",
	"a: [1, [2, 3], {b: c}]\n",
	"a: 'b'c\n",
	"a: \"b\"c\n",
	"a:\n\n  b: 1\n",
	"a: 1 #c\n  # indented comment\nb: 2\n",
	"-\n-\n",
	"a   : 1\n",
	"a :1\n",
	"a: [a, b, ]\n",
	"a: {b: }\n",
	"a: [-1, - 1]\n",
	"a: ---\n",
	"--- a\n",
	"a: \"\\/\"\n",
}

func TestFastYAMLAgreesWithYAMLv2(t *testing.T) {
	accepted := 0
	for _, s := range fastYAMLSeeds {
		if checkSame(t, []byte(s)) {
			accepted++
		}
	}
	// The corpus of the benchmark and every YAML file of the conftest
	// compatibility cases.
	files, err := filepath.Glob(filepath.Join("testdata", "conftest", "*", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if checkSame(t, data) {
			accepted++
		}
	}
	if !checkSame(t, benchDoc(7)) {
		t.Error("fast path gave up on the benchmark's manifest")
	}
	if accepted < len(fastYAMLSeeds)/2 {
		t.Errorf("fast path accepted only %d inputs", accepted)
	}
}

func TestFastYAMLGivesUp(t *testing.T) {
	for _, s := range []string{
		"a: &x 1\nb: *x\n", "a: !!str 1\n", "a: |\n  text\n", "a: multi\n  line\n", "a: 1\na: 2\n",
		"on: push\n", "1: a\n", "a: 0x1f\n", "a: 1e3\n", "a: .5\n", "a: 2024-01-02\n", "a: 1.2.3\n",
		"a: caf\xc3\xa9\n", "a: b\r\n", "a:\tb\n", "%YAML 1.1\n---\na: 1\n", "a: 1\n...\n", "a: b: c\n",
		"<<: {a: 1}\n", "a: 12345678901234567890\n",
	} {
		if _, _, ok := fastYAML([]byte(s)); ok {
			t.Errorf("fast path accepted %q; it must leave it to yaml.v2", s)
		}
	}
}

// FuzzFastYAML is a differential test: whatever the fast path accepts,
// yaml.v2 must accept too and read the same values.
func FuzzFastYAML(f *testing.F) {
	for _, s := range fastYAMLSeeds {
		f.Add([]byte(s))
	}
	f.Add(benchDoc(3))
	f.Fuzz(func(t *testing.T, data []byte) {
		if strings.Contains(string(data), "\x00") {
			return
		}
		checkSame(t, data)
	})
}
