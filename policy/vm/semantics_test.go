package vm_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/topdown/print"

	"gitgate.dev/gitgate/policy/vm"
)

// outcome is what a query gave: its results as one value (a set of
// binding objects), or its error.
type outcome struct {
	results ast.Value
	err     error
}

func (o outcome) String() string {
	if o.err != nil {
		return "error: " + o.err.Error()
	}
	return o.results.String()
}

// evalTopdown evaluates query on topdown as the engine prepares it: data
// in an in-memory store, read as AST.
func evalTopdown(t *testing.T, module, query string, input, data ast.Value, strict bool) outcome {
	t.Helper()
	ctx := t.Context()
	d, err := ast.JSON(data)
	if err != nil {
		t.Fatal(err)
	}
	store := inmem.NewFromObjectWithOpts(d.(map[string]any), inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))
	pq, err := rego.New(rego.Query(query), rego.Module("test.rego", module), rego.Store(store),
		rego.StoreReadAST(true), rego.StrictBuiltinErrors(strict)).PrepareForEval(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := pq.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		return outcome{err: err}
	}
	set := ast.NewSet()
	for _, r := range rs {
		obj := ast.NewObject()
		for k, v := range r.Bindings {
			val, err := ast.InterfaceToValue(v)
			if err != nil {
				t.Fatal(err)
			}
			obj.Insert(ast.StringTerm(k), ast.NewTerm(val))
		}
		set.Add(ast.NewTerm(obj))
	}
	return outcome{results: set}
}

// prepareVM plans query for the VM.
func prepareVM(t *testing.T, module, query string) *vm.Program {
	t.Helper()
	prog, err := vm.Prepare(t.Context(), rego.Query(query), rego.Module("test.rego", module))
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// evalVM evaluates prog as the engine does, its results turned to JSON
// values as rego turns topdown's.
func evalVM(t *testing.T, prog *vm.Program, input, data ast.Value, strict bool) outcome {
	t.Helper()
	var in *ast.Term
	if input != nil {
		in = ast.NewTerm(input)
	}
	rs, err := prog.Eval(context.Background(), 0, in, ast.NewTerm(data), vm.Options{StrictBuiltinErrors: strict})
	if err != nil {
		return outcome{err: err}
	}
	set := ast.NewSet()
	for _, r := range rs {
		j, err := ast.JSON(r.Value)
		if err != nil {
			t.Fatal(err)
		}
		set.Add(ast.NewTerm(ast.MustInterfaceToValue(j)))
	}
	return outcome{results: set}
}

// same reports whether the VM's outcome agrees with topdown's: equal
// results, or errors with the same topdown code and message. topdown goes
// back over a conflicting rule to list its values after the message; the
// VM stops at the first conflict.
func same(vm, td outcome) bool {
	if vm.err != nil || td.err != nil {
		var x, y *topdown.Error
		if !errors.As(vm.err, &x) || !errors.As(td.err, &y) {
			return vm.err != nil && td.err != nil && vm.err.Error() == td.err.Error()
		}
		if x.Code == topdown.ConflictErr {
			return y.Code == x.Code && strings.HasPrefix(y.Message, x.Message)
		}
		return x.Code == y.Code && x.Message == y.Message
	}
	return vm.results.Compare(td.results) == 0
}

type semanticsCase struct {
	name, module, query string
	input, data         string
	strict              bool
	// undefined: topdown finds no result (else a case that finds none
	// by mistake would check nothing).
	undefined bool
}

// TestSemanticsAgreeWithTopdown evaluates, on the VM and on topdown,
// queries at the corners where the VM's reading of a plan could part from
// topdown's: refs into base documents with keys of another type, conflicts,
// built-in errors in rules the VM evaluates once per program.
func TestSemanticsAgreeWithTopdown(t *testing.T) {
	for _, tc := range []semanticsCase{{
		name:   "number key into a base object",
		module: "package t\np := data.m[2]\nq := data.m[input.n]",
		query:  "x := data.t.p; y := data.t.q",
		input:  `{"n": 2}`,
		data:   `{"m": {"2": "two"}}`,
	}, {
		name:   "string key into a base array",
		module: "package t\np := data.a[\"1\"]\nq := data.a[input.i]",
		query:  "x := data.t.p; y := data.t.q",
		input:  `{"i": "0"}`,
		data:   `{"a": ["zero", "one"]}`,
	}, {
		name:      "number key into an input object",
		module:    "package t\np := input.m[2]",
		query:     "x := data.t.p",
		input:     `{"m": {"2": "two"}}`,
		data:      `{}`,
		undefined: true,
	}, {
		name:      "number key into a base object bound to a variable",
		module:    "package t\np := v if { d := data.m; v := d[2] }",
		query:     "x := data.t.p",
		data:      `{"m": {"2": "two"}}`,
		undefined: true,
	}, {
		name:   "number key into an iterated base document",
		module: "package t\np contains v if { some k; v := data.m[k][2] }",
		query:  "x := data.t.p",
		data:   `{"m": {"a": {"2": "two"}, "b": {"3": "three"}}}`,
	}, {
		name:      "dynamic rule lookup with a key that holds the path separator",
		module:    "package t\nr.a.b.allow := true\nr.x.allow := false\nr.y.allow := false",
		query:     "x := data.t.r[input.k].allow; y := data.t.r.a.b.allow",
		input:     `{"k": "a\u0000b"}`,
		data:      `{}`,
		undefined: true,
	}, {
		name:   "iteration order of objects and sets",
		module: "package t\nks := [k | some k, _ in input.o]\nvs := [v | some v in input.o]\nss := [x | some x in {x | some x in input.a}]\nos := [k | some k, _ in {v: 1 | some v in input.a}]",
		query:  "ks := data.t.ks; vs := data.t.vs; ss := data.t.ss; os := data.t.os",
		input:  `{"o": {"b": 1, "a": 2, "c": 0}, "a": ["z", "x", "y", 3, "a"]}`,
		data:   `{}`,
	}, {
		name:   "numbers written differently",
		module: "package t\np := [1 == 1.0, [1] == [1.0], {1} == {1.0}, {1: 2}[1.0], 1e2 == 100, 1.0 < 1, input.n == 100, {1.0} == {1}]\nq := input.a[1.0]\nr := input.a[input.i]\ns := {1.0: \"a\"}[1]",
		query:  "x := data.t.p; q := data.t.q; r := data.t.r; s := data.t.s",
		input:  `{"n": 1e2, "a": [5, 6], "i": 1.0}`,
		data:   `{}`,
	}, {
		name:   "with on an input path when input is not an object",
		module: "package t\np := input",
		query:  "x := data.t.p with input.a.b as 1; y := data.t.p with input.a as {\"c\": 2}",
		input:  `"scalar"`,
		data:   `{}`,
	}, {
		name:   "with on an input path when input is undefined",
		module: "package t\np := input",
		query:  "x := data.t.p with input.a.b as 1",
		data:   `{}`,
	}, {
		name:   "with on a data path over a base document",
		module: "package t\np := data.base\nq := data.base.k",
		query:  "x := data.t.p with data.base.k as 1; y := data.t.p with data.base as 7; w := data.t.q with data.base.j as 2; z := data.t.p",
		data:   `{"base": {"k": 0, "j": [1]}}`,
	}, {
		name:   "literals holding input and data",
		module: "package t\na := [input, 1]\no := {\"i\": input, \"d\": data.k}\ns := {input}",
		query:  "a := data.t.a; o := data.t.o; s := data.t.s",
		input:  `{"n": 1}`,
		data:   `{"k": 2}`,
	}, {
		// The keys are compared as a set: where rules and base documents
		// share a path, OPA's planner enumerates the rules' keys first,
		// topdown the base documents' (a known difference, Wasm's too).
		name:   "rules and base documents under one path",
		module: "package a\nb := 2\nc.d := 3\ne.g := data.a.e.f",
		query:  "x := data.a; y := data.a.e; z := data; w := {k | data.a[k]}",
		data:   `{"a": {"e": {"f": 6}, "h": 1}, "i": [1]}`,
	}, {
		// Read in place when input is a LazyObject: objects and arrays
		// built around input documents, compared, iterated, looked into,
		// put in sets and returned.
		name: "input documents in built values",
		module: `package t
cs := [{"c": c, "i": i} | some i, c in input.spec.containers]
names := [e.c.name | some e in cs]
bykey := {true: input.spec, false: {}}[is_object(input.spec)]
mixed := {1: input.spec, "s": 2, null: [input.spec.containers]}
keys := [k | some k, _ in mixed]
same := input.spec.containers[0] == input.spec.copy
differ := input.spec.containers[0] == input.spec.containers[1]
eqast := input.spec.containers[1] == {"name": "b", "env": [{"name": "X"}]}
member := {"name": "a", "env": []} in input.spec.containers
inobj := 3 in input.spec.nums
asset := {c | some c in input.spec.containers}
counts := [count(input.spec.containers), count(input.spec), count(cs)]
types := [is_object(input.spec), is_array(input.spec.containers), is_array(cs), is_object(cs[0]), is_string(input.spec)]
got := [object.get(input.spec, ["containers", 1, "env", 0, "name"], "none"), object.get(cs[0], ["c", "name"], "none"), object.get(input, "nothing", "none")]
f(c) := count(c.env)
calls := [f(c) | some c in input.spec.containers]
copycall := f(input.spec.copy)
whole := cs
marshalled := json.marshal(cs[1])
overridden := x if x := names with input.spec.containers as [{"name": "z"}]`,
		query: "names := data.t.names; bykey := data.t.bykey; mixed := data.t.mixed; keys := data.t.keys; same := data.t.same; differ := data.t.differ; eqast := data.t.eqast; member := data.t.member; inobj := data.t.inobj; asset := data.t.asset; counts := data.t.counts; types := data.t.types; got := data.t.got; calls := data.t.calls; copycall := data.t.copycall; whole := data.t.whole; marshalled := data.t.marshalled; overridden := data.t.overridden",
		input: `{"spec": {"containers": [{"name": "a", "env": []}, {"name": "b", "env": [{"name": "X"}]}], "copy": {"name": "a", "env": []}, "nums": {"x": 3}}}`,
		data:  `{}`,
	}, {
		// sprintf, concat and object.union, which the VM answers
		// itself, on input documents and on what it declines.
		name: "text and object built-ins on input documents",
		module: `package t
msgs := [sprintf("%s/%s: %q %d %v %v %v %v%%", [input.kind, input.meta.name, input.meta.name, input.n, input.meta, input.path, input.f, input.big]), sprintf("%v", [input.path]), sprintf("%d", [input.n]), sprintf("%s", [input.n]), sprintf("%s %s", ["a"]), sprintf("%5.1f|%x", [input.f, input.kind])]
joined := [concat(".", input.path), concat(", ", {x | some x in input.path}), concat("", []), concat("-", [input.kind]), concat(".", [input.kind, input.meta.name])]
merged := [object.union(input.meta, {"name": "y", "labels": {"b": "2"}}), object.union({}, input.meta), object.union(input.meta, {}), object.union({"a": {"b": 1}}, {"a": 2}), object.union(input.meta, input.meta)]`,
		query: "msgs := data.t.msgs; joined := data.t.joined; merged := data.t.merged",
		input: `{"kind": "Pod", "meta": {"name": "wé\"b", "labels": {"a": "1"}}, "n": -12, "f": 2.5e-7, "big": 123456789012345678901234567890, "path": ["spec", "containers"]}`,
		data:  `{}`,
	}, {
		name:   "text built-in errors on input documents, strict",
		module: "package t\np := concat(\".\", input.meta)\nq := 1 if not p",
		query:  "x := data.t.q",
		input:  `{"meta": {"a": "b"}}`,
		data:   `{}`,
		strict: true,
	}, {
		name:   "sprintf of no array, strict",
		module: "package t\np := sprintf(\"%s\", input.meta)\nq := object.union(input.meta, input.path)\nr := 1 if not p\ns := 1 if not q",
		query:  "x := data.t.r; y := data.t.s",
		input:  `{"meta": {"a": "b"}, "path": ["a"]}`,
		data:   `{}`,
		strict: true,
	}, {
		name:   "conflict in a complete rule",
		module: "package t\np := 1 if input.a\np := 2 if input.b",
		query:  "x := data.t.p",
		input:  `{"a": true, "b": true}`,
		data:   `{}`,
	}, {
		name:   "conflict in a function",
		module: "package t\nf(x) := 1 if x\nf(x) := 2 if x",
		query:  "x := data.t.f(true)",
		data:   `{}`,
	}, {
		name:   "built-in error in a constant rule, strict",
		module: "package t\np := x if x := 1 / 0\nq := 1 if not p",
		query:  "x := data.t.q",
		data:   `{}`,
		strict: true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var input ast.Value
			if tc.input != "" {
				input = ast.MustParseTerm(tc.input).Value
			}
			data := ast.MustParseTerm(tc.data).Value
			want := evalTopdown(t, tc.module, tc.query, input, data, tc.strict)
			if empty := want.err == nil && want.results.(ast.Set).Len() == 0; empty != tc.undefined {
				t.Fatalf("topdown gives %v, want undefined %v", want, tc.undefined)
			}
			prog := prepareVM(t, tc.module, tc.query)
			if got := evalVM(t, prog, input, data, tc.strict); !same(got, want) {
				t.Fatalf("VM: %v\ntopdown: %v", got, want)
			}
			if doc := lazyInput(t, input); doc != nil {
				if got := evalVM(t, prog, doc, data, tc.strict); !same(got, want) {
					t.Fatalf("VM on the input as a LazyObject: %v\ntopdown: %v", got, want)
				}
			}
			// Again with other documents: the VM keeps the values of
			// rules that depend on neither across evaluations.
			other := ast.MustParseTerm(`{"other": [1, 2]}`).Value
			want = evalTopdown(t, tc.module, tc.query, other, other, tc.strict)
			if got := evalVM(t, prog, other, other, tc.strict); !same(got, want) {
				t.Fatalf("second evaluation, VM: %v\ntopdown: %v", got, want)
			}
		})
	}
}

// lazyInput is input as the webhook hands it over: a LazyObject over the
// decoded JSON, which the VM reads in place. nil when input is no object.
func lazyInput(t *testing.T, input ast.Value) ast.Value {
	t.Helper()
	if _, ok := input.(ast.Object); !ok {
		return nil
	}
	j, err := ast.JSON(input)
	if err != nil {
		t.Fatal(err)
	}
	return ast.LazyObject(j.(map[string]any))
}

type prints struct{ lines []string }

func (p *prints) Print(_ print.Context, msg string) error {
	p.lines = append(p.lines, msg)
	return nil
}

// TestPrintInConstantRule: a rule that prints is evaluated on every query,
// as topdown does, though its value does not depend on input or data.
func TestPrintInConstantRule(t *testing.T) {
	prog, err := vm.Prepare(t.Context(), rego.Query("x := data.t.p"), rego.EnablePrintStatements(true),
		rego.Module("test.rego", "package t\np := 1 if print(\"evaluated\")"))
	if err != nil {
		t.Fatal(err)
	}
	var out prints
	for range 2 {
		rs, err := prog.Eval(t.Context(), 0, nil, ast.NewTerm(ast.NewObject()), vm.Options{PrintHook: &out})
		if err != nil || len(rs) != 1 {
			t.Fatalf("results %v, error %v", rs, err)
		}
	}
	if len(out.lines) != 2 {
		t.Fatalf("printed %q, want one line per evaluation", out.lines)
	}
}

// locPrints records print() output with its location, as the engine's
// print hook shows it.
type locPrints struct{ lines []string }

func (p *locPrints) Print(ctx print.Context, msg string) error {
	p.lines = append(p.lines, fmt.Sprintf("%v: %s", ctx.Location, msg))
	return nil
}

// TestPrintAgreesWithTopdown: print() output, its order and locations, as
// topdown gives them; undefined operands print as <undefined>.
func TestPrintAgreesWithTopdown(t *testing.T) {
	module := `package t
p contains x if {
	some x in input.xs
	print("x is", x, "and y is", input.y)
}
q := 1 if print({"a": [1, {2}]})`
	query := "p := data.t.p; q := data.t.q"
	input := ast.MustParseTerm(`{"xs": [3, 1, 2]}`).Value
	var want locPrints
	pq, err := rego.New(rego.Query(query), rego.Module("test.rego", module), rego.EnablePrintStatements(true),
		rego.PrintHook(&want)).PrepareForEval(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pq.Eval(t.Context(), rego.EvalParsedInput(input)); err != nil {
		t.Fatal(err)
	}
	prog, err := vm.Prepare(t.Context(), rego.Query(query), rego.Module("test.rego", module), rego.EnablePrintStatements(true))
	if err != nil {
		t.Fatal(err)
	}
	var got locPrints
	if _, err := prog.Eval(t.Context(), 0, ast.NewTerm(input), ast.NewTerm(ast.NewObject()), vm.Options{PrintHook: &got}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.lines, "\n") != strings.Join(want.lines, "\n") {
		t.Fatalf("VM printed:\n%s\ntopdown printed:\n%s", strings.Join(got.lines, "\n"), strings.Join(want.lines, "\n"))
	}
}

// TestResultsOutliveTheirEvaluation: the VM reuses what an evaluation
// read its input with, and built its literals on, in the next evaluation;
// results already returned must not change, and neither must the values
// of constant rules, which it keeps across evaluations.
func TestResultsOutliveTheirEvaluation(t *testing.T) {
	for _, tc := range []struct {
		name, module, query string
		first, later, want  string
	}{
		{
			name:   "input read in place",
			module: "cs := [{\"c\": c, \"sc\": object.get(c, \"securityContext\", {})} | some c in input.containers]\nfirst := input.containers[0]",
			query:  "cs := data.t.cs; first := data.t.first",
			first:  `{"containers": [{"name": "a", "securityContext": {"privileged": true}}, {"name": "b"}]}`,
			later:  `{"containers": [{"name": "x", "env": [{"name": "E"}]}, {"name": "y", "securityContext": {}}, {"name": "z"}]}`,
			want:   `{"cs": [{"c": {"name": "a", "securityContext": {"privileged": true}}, "sc": {"privileged": true}}, {"c": {"name": "b"}, "sc": {}}], "first": {"name": "a", "securityContext": {"privileged": true}}}`,
		},
		{
			name:   "a constant rule's literal",
			module: "policy := {\"id\": \"p\", \"tags\": [\"a\", \"b\"], \"on\": {true: \"yes\"}}\nmsgs := [sprintf(\"%s %s %s\", [policy.id, c.name, policy.tags[1]]) | some c in input.containers]",
			query:  "p := data.t.policy; m := data.t.msgs",
			first:  `{"containers": [{"name": "x"}, {"name": "y"}]}`,
			later:  `{"containers": [{"name": "x"}, {"name": "y"}]}`,
			want:   `{"m": ["p x b", "p y b"], "p": {"id": "p", "on": {true: "yes"}, "tags": ["a", "b"]}}`,
		},
		{
			// An object the plan fills with a doc and then a key that is
			// no scalar becomes an OPA object.
			name:   "an object with a composite key",
			module: "p := {k: input.obj | some k in [\"a\", [\"b\"]]}",
			query:  "p := data.t.p",
			first:  `{"obj": {"n": 1}}`,
			later:  `{"obj": {"m": [2, 3]}}`,
			want:   `{"p": {"a": {"n": 1}, ["b"]: {"n": 1}}}`,
		},
		{
			name:   "literal arrays and objects",
			module: "pairs := [[c.name, i] | some i, c in input.containers]\nnames := [{\"n\": c.name, \"i\": i} | some i, c in input.containers]",
			query:  "p := data.t.pairs; n := data.t.names",
			first:  `{"containers": [{"name": "a"}, {"name": "b"}]}`,
			later:  `{"containers": [{"name": "x"}, {"name": "y"}, {"name": "z"}]}`,
			want:   `{"p": [["a", 0], ["b", 1]], "n": [{"i": 0, "n": "a"}, {"i": 1, "n": "b"}]}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prog := prepareVM(t, "package t\n"+tc.module, tc.query)
			want := ast.MustParseTerm(tc.want)
			first := evalOnce(t, prog, tc.first)
			if !first.Equal(want) {
				t.Fatalf("got %v, want %v", first, want)
			}
			for range 3 {
				if got := evalOnce(t, prog, tc.later); tc.later == tc.first && !got.Equal(want) {
					t.Fatalf("a later evaluation gave %v, want %v", got, want)
				}
			}
			if !first.Equal(want) {
				t.Fatalf("the first result changed to %v", first)
			}
		})
	}
}

// evalOnce evaluates prog on the JSON document doc, given as a LazyObject
// as the webhook gives its input, and returns its one result.
func evalOnce(t *testing.T, prog *vm.Program, doc string) *ast.Term {
	t.Helper()
	rs, err := prog.Eval(t.Context(), 0, ast.NewTerm(lazyInput(t, ast.MustParseTerm(doc).Value)), ast.NewTerm(ast.NewObject()), vm.Options{})
	if err != nil || len(rs) != 1 {
		t.Fatalf("results %v, error %v", rs, err)
	}
	return rs[0]
}
