package vm

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// topdownCall is topdown's answer to the built-in name on args (solid
// terms): its result, or nil and its error.
func topdownCall(t testing.TB, name string, args []*ast.Term) (*ast.Term, error) {
	t.Helper()
	var out *ast.Term
	err := topdown.GetBuiltin(name)(topdown.BuiltinContext{Context: t.Context()}, args, func(r *ast.Term) error {
		out = r
		return nil
	})
	return out, err
}

// agree calls the native of name on the terms args makes from slab and, if
// it answers, requires topdown's result on the same arguments. The slab is
// then reset and filled with other documents before the results are
// compared: a result sharing a doc the next evaluation reuses would
// change. It reports whether the native answered.
func agree(t testing.TB, name string, args func(*docSlab) []*ast.Term) bool {
	t.Helper()
	slab := &docSlab{}
	in := args(slab)
	solids := make([]*ast.Term, len(in))
	for i, a := range in {
		solids[i] = solid(a)
	}
	got, ok := natives[name](in)
	if !ok {
		return false
	}
	want, err := topdownCall(t, name, solids)
	slab.reset()
	for range 64 {
		slab.wrap(map[string]any{"x": []any{"y"}}).Value.(*doc).get("x")
	}
	if err != nil {
		t.Fatalf("%s%v: native gives %v, topdown fails: %v", name, solids, got, err)
	}
	if solid(got).Value.Compare(want.Value) != 0 {
		t.Fatalf("%s%v:\nnative  %v\ntopdown %v", name, solids, got, want)
	}
	return true
}

// value makes a term from slab: an OPA value, or a doc over a Go document.
type value func(*docSlab) *ast.Term

func opa(s string) value { return func(*docSlab) *ast.Term { return ast.MustParseTerm(s) } }

func goDoc(x any) value { return func(b *docSlab) *ast.Term { return b.wrap(x) } }

// builtArray is an array the plan builds around documents.
func builtArray(vs ...value) value {
	return func(b *docSlab) *ast.Term {
		elems := make([]*ast.Term, len(vs))
		for i, v := range vs {
			elems[i] = v(b)
		}
		return b.buildArray(elems)
	}
}

func args(vs ...value) func(*docSlab) []*ast.Term {
	return func(b *docSlab) []*ast.Term {
		ts := make([]*ast.Term, len(vs))
		for i, v := range vs {
			ts[i] = v(b)
		}
		return ts
	}
}

// sprintfValues are the values the differential tests print: strings with
// escapes, quotes and bytes that are no UTF-8; numbers at int64's limits,
// beyond them, with fractions and exponents, out of a float64's range;
// and every other kind of value, as OPA values and as docs.
var sprintfValues = []value{
	opa(`"plain"`), opa(`""`), opa(`"ünïcödé ☃ 😀"`), opa(`"tab\t nl\n quote\" back\\ bell\u0007"`),
	opa(`"%s %d"`), str("bad \xff\xfe utf8"),
	opa(`0`), opa(`-1`), opa(`42`), opa(`9223372036854775807`), opa(`9223372036854775808`),
	opa(`-9223372036854775808`), opa(`-9223372036854775809`), opa(`123456789012345678901234567890`),
	opa(`1.5`), opa(`1.0`), opa(`-0.0`), opa(`1e3`), opa(`2.5E-7`), opa(`1e21`), opa(`1e400`), opa(`-1e-400`),
	opa(`100000000000000000000.0`), opa(`0.1`),
	func(*docSlab) *ast.Term { return ast.NumberTerm("0012") },
	func(*docSlab) *ast.Term { return ast.NumberTerm("+7") },
	opa(`true`), opa(`false`), opa(`null`),
	opa(`[1, "a", [true]]`), opa(`{"b": 1, "a": "x", "c": {"d": null}}`), opa(`{"z", 1, "a"}`), opa(`[]`), opa(`{}`),
	goDoc(map[string]any{"name": "c", "ports": []any{json.Number("80"), 1.5, "x"}, "ok": true, "nil": nil}),
	goDoc([]any{"a", json.Number("1"), map[string]any{"k": "v"}}),
	goDoc("doc string"), goDoc(json.Number("7")), goDoc(2.5),
}

var sprintfFormats = []string{
	"", "plain", "%s", "%v", "%d", "%q", "%%", "%s%%", "100%% %d", "%s.%s[%d]", "%s: %s",
	"container %q uses image %q (%s)", "%v and %q", "%d%d", "ünï %s ☃", "%x", "%5s", "%-s", "%+d", "%#q",
	"%[1]s", "%.2f", "%f", "%g", "%e", "%t", "%c", "%U", "%b", "%o", "%*d", "%", "abc%", "%é", "%\xff", "\xff%s",
	"%s %s %s %s",
}

// TestSprintfAgreesWithTopdown prints every format with each value, with
// random lists of values, and with values inside arrays the plan builds;
// the native must answer the library's formats on strings and integers.
func TestSprintfAgreesWithTopdown(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	answered := 0
	for _, f := range sprintfFormats {
		format := str(f)
		agree(t, "sprintf", args(format, opa(`[]`)))
		for _, v := range sprintfValues {
			if agree(t, "sprintf", args(format, builtArray(v))) {
				answered++
			}
			agree(t, "sprintf", args(format, v)) // no array: declines
			agree(t, "sprintf", args(v, builtArray(v)))
		}
		for range 200 {
			vs := make([]value, rng.IntN(6))
			for i := range vs {
				vs[i] = sprintfValues[rng.IntN(len(sprintfValues))]
			}
			if agree(t, "sprintf", args(format, builtArray(vs...))) {
				answered++
			}
		}
	}
	if answered == 0 {
		t.Fatal("the native answered nothing")
	}
	for _, c := range []struct {
		format string
		args   value
	}{
		{"%s.%s[%d]", opa(`["spec.template.spec", "containers", 3]`)},
		{"container %q uses image %q (%s)", opa(`["app", "nginx:1.25", "x.image"]`)},
		{"%d", opa(`[42]`)},
		{"%v %v %v", opa(`[true, null, -5]`)},
		{"%v", opa(`[1.5]`)},
		{"%s: %s", builtArray(goDoc("Deployment/web"), opa(`"ünï \"x\""`))},
		{"%v", builtArray(goDoc(map[string]any{"a": []any{"b"}}))},
		{"%s %d", goDoc([]any{"x", json.Number("12345678901234567890")})},
		{"%q", opa(`["tab\t\u0000 ☃"]`)},
	} {
		if !agree(t, "sprintf", args(str(c.format), c.args)) {
			t.Errorf("sprintf(%q, ...) declined; the native should answer it", c.format)
		}
	}
}

// str is a string term, which may hold bytes no OPA literal can.
func str(s string) value { return func(*docSlab) *ast.Term { return ast.StringTerm(s) } }

// TestConcatAgreesWithTopdown joins arrays and sets, of OPA values and
// docs, with elements that are and are not strings.
func TestConcatAgreesWithTopdown(t *testing.T) {
	colls := []value{
		opa(`[]`), opa(`set()`), opa(`["a"]`), opa(`{"a"}`), opa(`["a", "b", "ç☃"]`), opa(`{"z", "a", "m"}`),
		opa(`["a", 1]`), opa(`{"a", 1}`), opa(`[1]`), opa(`{"a": "b"}`), opa(`"ab"`), opa(`null`),
		goDoc([]any{"spec", "template", "spec"}), goDoc([]any{"x"}), goDoc([]any{}), goDoc([]any{"x", json.Number("1")}),
		goDoc(map[string]any{"a": "b"}), builtArray(goDoc("x"), opa(`"y"`)), builtArray(goDoc(map[string]any{}), opa(`"y"`)),
	}
	seps := []value{opa(`""`), opa(`"."`), opa(`", "`), opa(`"☃"`), opa(`1`), goDoc("-")}
	if answered := agreePairs(t, "concat", seps, colls); answered != 5*10 {
		t.Fatalf("the native answered %d calls, want the %d on strings", answered, 5*10)
	}
}

// TestObjectUnionAgreesWithTopdown merges pairs of objects, nested and
// not, OPA values and docs, with keys of several types.
func TestObjectUnionAgreesWithTopdown(t *testing.T) {
	objs := []value{
		opa(`{}`), opa(`{"a": 1}`), opa(`{"a": {"b": 1, "c": [1]}, "d": 2}`), opa(`{"a": {"b": {"x": 1}, "e": 3}, "z": null}`),
		opa(`{"a": 2, "b": {"c": 1}}`), opa(`{"a": {}, "b": {"c": {"d": 1}}}`), opa(`{1: "one", "1": "s", true: 1, null: {"a": 1}}`),
		opa(`{1.0: "float", 2: {"a": 1}, null: {"b": 2}, [1]: 1}`), opa(`{"kind": "Deployment", "name": "web"}`),
		opa(`{"policy": "p", "severity": "high", "name": "other"}`),
		goDoc(map[string]any{"a": map[string]any{"b": "doc", "f": []any{"x"}}, "kind": "Pod"}),
		goDoc(map[string]any{}), goDoc(map[string]any{"a": "flat", "name": "d"}),
		opa(`[1]`), opa(`"s"`), opa(`set()`), goDoc([]any{"x"}),
	}
	if answered := agreePairs(t, "object.union", objs, objs); answered != 13*13 {
		t.Fatalf("the native answered %d calls, want the %d on objects", answered, 13*13)
	}
}

// agreePairs calls the built-in name on every pair of xs and ys with
// agree and returns how many calls the native answered.
func agreePairs(t *testing.T, name string, xs, ys []value) int {
	t.Helper()
	answered := 0
	for _, x := range xs {
		for _, y := range ys {
			if agree(t, name, args(x, y)) {
				answered++
			}
		}
	}
	return answered
}

// FuzzSprintfNative prints fuzzed formats with a string, a number and a
// boolean in an order and number the fuzzer picks; where the native
// answers, topdown must print the same.
func FuzzSprintfNative(f *testing.F) {
	f.Add("%s.%s[%d]", "spec", "3", uint8(0x21))
	f.Add("container %q: %v%%", "ünï\"\n", "-1.5e3", uint8(0x05))
	f.Add("%d %s", "x", "99999999999999999999", uint8(0x13))
	f.Fuzz(func(t *testing.T, format, s, num string, pick uint8) {
		if !json.Valid([]byte(num)) || strings.TrimLeft(num, "-0123456789.eE+") != "" || !utf8.ValidString(num) {
			num = "0"
		}
		// The parser refuses some (a number too big); fall back to 0.
		if t, err := ast.ParseTerm(num); err != nil || !isNumber(t) {
			num = "0"
		}
		pool := []value{
			str(s),
			func(*docSlab) *ast.Term { return ast.NumberTerm(json.Number(num)) },
			opa(`true`),
			goDoc(map[string]any{"s": s}),
		}
		vs := make([]value, pick>>6)
		for i := range vs {
			vs[i] = pool[(pick>>(2*i))&3]
		}
		agree(t, "sprintf", args(str(format), builtArray(vs...)))
	})
}

func isNumber(t *ast.Term) bool {
	_, ok := t.Value.(ast.Number)
	return ok
}
