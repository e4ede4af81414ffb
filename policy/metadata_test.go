package policy

import (
	"encoding/json"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// reference is what toMessage's general path writes for v.
func reference(v ast.Value) ([]byte, error) {
	raw, err := ast.JSON(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(raw)
}

// checkAppendJSON fails when appendJSON writes anything but reference's
// bytes for a value it accepts.
func checkAppendJSON(t *testing.T, v ast.Value) {
	t.Helper()
	got, ok := appendJSON(nil, v)
	if !ok {
		return
	}
	want, err := reference(v)
	if err != nil {
		t.Fatalf("appendJSON accepted %v, which encoding/json refuses: %v", v, err)
	}
	if string(got) != string(want) {
		t.Errorf("appendJSON(%v)\n got %s\nwant %s", v, got, want)
	}
}

var jsonSeeds = []string{
	`null`, `true`, `false`, `0`, `-1.5e10`, `12345678901234567890123`,
	`"plain"`, `"quote \" and back\\slash"`, `"<tag> & amp"`, `"tab\tnew\nline\r"`,
	`"\u0001\u001f"`, `"héllo ✓"`, `"\u2028\u2029"`, `"emoji 🚀"`,
	`[]`, `[1, "a", null, [true]]`, `{}`, `{"b": 1, "a": {"d": [], "c": "x"}, "A": 2, "é": 3}`,
	`{"details": {"field": "metadata.labels[\"app.kubernetes.io/name\"]", "value": null}, "msg": "m"}`,
	`{1: "non-string key"}`, `{"set": {1, 2}}`, `[{"k": {"x"}}]`,
}

func TestAppendJSON(t *testing.T) {
	for _, s := range jsonSeeds {
		t.Run(s, func(t *testing.T) {
			checkAppendJSON(t, ast.MustParseTerm(s).Value)
		})
	}
	// Values it must leave to encoding/json.
	for _, s := range []string{`{1: "a"}`, `{"a": {1, 2}}`, `[{"k": {"x"}}]`} {
		if _, ok := appendJSON(nil, ast.MustParseTerm(s).Value); ok {
			t.Errorf("appendJSON accepted %s", s)
		}
	}
}

// objectMessage and the general path agree on every message object.
func TestObjectMessage(t *testing.T) {
	r := &rule{query: "data.main.deny"}
	for _, s := range []string{
		`{"msg": "m", "details": {"b": 1, "a": "<x>"}}`,
		`{"msg": "m", "query": "theirs", "z": [1, 2]}`,
		`{"msg": "m"}`,
		`{"msg": "quote \" <&>"}`,
	} {
		t.Run(s, func(t *testing.T) {
			obj := ast.MustParseTerm(s).Value.(ast.Object) //nolint:forcetypeassert // the cases are objects
			fast, ok := objectMessage(obj, r)
			if !ok {
				t.Fatal("objectMessage left a plain message object to the general path")
			}
			raw, err := ast.JSON(obj)
			if err != nil {
				t.Fatal(err)
			}
			m := raw.(map[string]any) //nolint:forcetypeassert // an object
			delete(m, "msg")
			m["query"] = r.query
			want, err := NewMetadata(m)
			if err != nil {
				t.Fatal(err)
			}
			if want := string(obj.Get(msgKey).Value.(ast.String)); fast.Msg != want { //nolint:forcetypeassert // "msg" is a string here
				t.Errorf("msg %q, want %q", fast.Msg, want)
			}
			if string(fast.Metadata) != string(want) {
				t.Errorf("metadata\n got %s\nwant %s", fast.Metadata, want)
			}
		})
	}
	for _, s := range []string{`{"msg": 1}`, `{"detail": "no msg"}`, `{"msg": "m", "_loc": {"file": "f", "line": 1}}`} {
		if _, ok := objectMessage(ast.MustParseTerm(s).Value.(ast.Object), r); ok { //nolint:forcetypeassert // objects
			t.Errorf("objectMessage took %s, which the general path handles", s)
		}
	}
}

func FuzzAppendJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		term, err := ast.ParseTerm(s)
		if err != nil || !term.IsGround() {
			return
		}
		checkAppendJSON(t, term.Value)
	})
}
