package vm

import "github.com/open-policy-agent/opa/v1/ast"

// memoLevel is what one evaluation remembers of its function calls at one
// `with` level: the value of every rule without arguments (by function id)
// and of every call of a function with arguments, by its arguments. topdown
// caches both alike (its virtual cache), so a policy written for topdown,
// which calls a helper such as container_name(c) from every rule, does not
// pay for each call on the VM either.
type memoLevel struct {
	rules []*ast.Term       // by function id; undefinedResult when undefined
	calls map[callKey]*call // nil until the first call with arguments
}

type callKey struct {
	fn   *function
	hash int
}

// call is one remembered call; next chains calls whose arguments hash alike.
type call struct {
	args  []*ast.Term
	value *ast.Term // undefinedResult when undefined
	next  *call
}

func (m *memoLevel) reset() {
	clear(m.rules)
	clear(m.calls)
}

// argsHash hashes the arguments beyond input and data, the two every
// function takes first and that do not change within a level.
func argsHash(args []*ast.Term) int {
	h := 0
	for _, a := range args {
		h = h*31 + termHash(a)
	}
	return h
}

// lookup returns the remembered value of fn(args), nil when there is none.
func (m *memoLevel) lookup(fn *function, args []*ast.Term, h int) *ast.Term {
	for c := m.calls[callKey{fn, h}]; c != nil; c = c.next {
		if equalTerms(c.args, args) {
			return c.value
		}
	}
	return nil
}

func (m *memoLevel) store(fn *function, args []*ast.Term, h int, v *ast.Term) {
	if m.calls == nil {
		m.calls = make(map[callKey]*call)
	}
	k := callKey{fn, h}
	m.calls[k] = &call{args: args, value: v, next: m.calls[k]}
}

func equalTerms(a, b []*ast.Term) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !memoEqual(a[i], b[i]) {
			return false
		}
	}
	return true
}

// termHash and memoEqual key a call by its arguments, a doc by the Go
// document it reads: the same document gives the same value, and one that
// is merely equal is computed again rather than converted to compare.
func termHash(t *ast.Term) int {
	if d, ok := t.Value.(*doc); ok {
		return d.identity()
	}
	return t.Hash()
}

func memoEqual(a, b *ast.Term) bool {
	x, ok1 := a.Value.(*doc)
	y, ok2 := b.Value.(*doc)
	switch {
	case ok1 && ok2:
		return x.same(y)
	case ok1 || ok2:
		return false
	}
	return a.Equal(b)
}
