package policy

import (
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

func TestVirtualCache(t *testing.T) {
	a := ast.MustParseRef("data.x.deny")
	b := ast.MustParseRef(`data.x.f["arg"]`)
	prefix := ast.MustParseRef("data.x")
	one, two := ast.IntNumberTerm(1), ast.IntNumberTerm(2)

	type step struct {
		op    string // put, get, push, pop
		ref   ast.Ref
		hash  uint64 // 0: the reference's own hash
		value *ast.Term
		want  *ast.Term
		undef bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"not cached", []step{{op: "get", ref: a}}},
		{"value", []step{{op: "put", ref: a, value: one}, {op: "get", ref: a, want: one}}},
		{"overwritten", []step{{op: "put", ref: a, value: one}, {op: "put", ref: a, value: two}, {op: "get", ref: a, want: two}}},
		{"undefined", []step{{op: "put", ref: a}, {op: "get", ref: a, undef: true}}},
		// OPA's trie keeps the undefined mark when a value follows.
		{"undefined mark wins", []step{{op: "put", ref: a}, {op: "put", ref: a, value: one}, {op: "get", ref: a, undef: true}}},
		{"no prefix match", []step{{op: "put", ref: a, value: one}, {op: "get", ref: prefix}}},
		{"no extension match", []step{{op: "put", ref: prefix, value: one}, {op: "get", ref: a}}},
		{"frames", []step{
			{op: "put", ref: a, value: one},
			{op: "push"},
			{op: "get", ref: a},
			{op: "put", ref: a, value: two},
			{op: "get", ref: a, want: two},
			{op: "pop"},
			{op: "get", ref: a, want: one},
			{op: "push"},
			{op: "get", ref: a},
		}},
		{"hash collision", []step{
			{op: "put", ref: a, hash: 7, value: one},
			{op: "put", ref: b, hash: 7, value: two},
			{op: "get", ref: a, hash: 7, want: one},
			{op: "get", ref: b, hash: 7, want: two},
			{op: "get", ref: prefix, hash: 7},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := getCache()
			defer putCache(c)
			for i, s := range tt.steps {
				h := s.hash
				if h == 0 && s.ref != nil {
					h = refHash(s.ref)
				}
				switch s.op {
				case "put":
					c.put(s.ref, h, s.value)
				case "push":
					c.Push()
				case "pop":
					c.Pop()
				case "get":
					got, undef := c.get(s.ref, h)
					if undef != s.undef || !got.Equal(s.want) && (got != nil || s.want != nil) {
						t.Errorf("step %d: get %v = %v, %v; want %v, %v", i, s.ref, got, undef, s.want, s.undef)
					}
				}
			}
		})
	}
}

// A pooled cache comes back empty.
func TestVirtualCachePoolReset(t *testing.T) {
	ref := ast.MustParseRef("data.x.deny")
	c := getCache()
	c.Put(ref, ast.BooleanTerm(true))
	c.Push()
	c.Put(ref, ast.BooleanTerm(false))
	putCache(c)
	c = getCache()
	defer putCache(c)
	if v, undef := c.Get(ref); v != nil || undef || len(c.frames) != 1 || len(c.Keys()) != 0 {
		t.Fatalf("reused cache holds %v (undefined %v), %d frames", v, undef, len(c.frames))
	}
}

// Rules evaluated under `with` get a frame of their own: the value cached
// inside must not leak out, and the one outside must not leak in.
func TestVirtualCacheWith(t *testing.T) {
	e, err := Compile(t.Context(), Source{Modules: map[string][]byte{"p.rego": []byte(`package main

x := input.a

y := v if {
	v := x with input.a as 2
}

deny contains sprintf("x=%v y=%v z=%v", [x, y, z])

z := x
`)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []int{1, 3} {
		r, err := e.Evaluate(t.Context(), map[string]any{"a": a})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"x=" + itoa(a) + " y=2 z=" + itoa(a)}
		if len(r.Failures) != 1 || r.Failures[0].Msg != want[0] {
			t.Errorf("input.a=%d: failures %+v, want %v", a, r.Failures, want)
		}
	}
}

func itoa(i int) string { return ast.IntNumberTerm(i).String() }
