package vm

import (
	"cmp"

	"github.com/open-policy-agent/opa/v1/ast"
)

// native answers a built-in call in the VM; false hands the call to
// topdown's implementation, which then gives its own error.
type native func(args []*ast.Term) (*ast.Term, bool)

// natives are built-ins the VM answers itself, with topdown's exact
// semantics (topdown/comparison.go, type.go, object.go, aggregates.go,
// strings.go). They are the most frequent calls of a policy (every `!=`,
// `in`, is_string, object.get, count), where going through the built-in
// calling convention costs more than the work, and the costliest ones of
// the policy library (sprintf, object.union, concat), which build every
// violation's message and details. Where topdown would fail (count of a
// number, object.get on a string) they decline, so errors stay topdown's.
var natives = map[string]native{
	ast.Equal.Name:         func(a []*ast.Term) (*ast.Term, bool) { return ast.InternedTerm(termsEqual(a[0], a[1])), true },
	ast.NotEqual.Name:      func(a []*ast.Term) (*ast.Term, bool) { return ast.InternedTerm(!termsEqual(a[0], a[1])), true },
	ast.LessThan.Name:      func(a []*ast.Term) (*ast.Term, bool) { return compare(a, func(c int) bool { return c < 0 }) },
	ast.LessThanEq.Name:    func(a []*ast.Term) (*ast.Term, bool) { return compare(a, func(c int) bool { return c <= 0 }) },
	ast.GreaterThan.Name:   func(a []*ast.Term) (*ast.Term, bool) { return compare(a, func(c int) bool { return c > 0 }) },
	ast.GreaterThanEq.Name: func(a []*ast.Term) (*ast.Term, bool) { return compare(a, func(c int) bool { return c >= 0 }) },
	ast.IsString.Name:      isType[ast.String],
	ast.IsNumber.Name:      isType[ast.Number],
	ast.IsBoolean.Name:     isType[ast.Boolean],
	ast.IsNull.Name:        isType[ast.Null],
	ast.IsArray.Name:       func(a []*ast.Term) (*ast.Term, bool) { return ast.InternedTerm(isArray(a[0])), true },
	ast.IsObject.Name:      func(a []*ast.Term) (*ast.Term, bool) { return ast.InternedTerm(isObject(a[0])), true },
	ast.IsSet.Name:         isType[ast.Set],
	ast.ObjectGet.Name:     objectGet,
	ast.Count.Name:         count,
	ast.Member.Name:        member,
	ast.Sprintf.Name:       sprintf,
	ast.Concat.Name:        concat,
	ast.ObjectUnion.Name:   objectUnion,
}

// termsEqual is Term.Equal on operands that may be docs.
func termsEqual(a, b *ast.Term) bool {
	if x, ok := a.Value.(*doc); ok {
		return docEqual(x, b)
	}
	if y, ok := b.Value.(*doc); ok {
		return docEqual(y, a)
	}
	return a.Equal(b)
}

func compare(a []*ast.Term, holds func(int) bool) (*ast.Term, bool) {
	return ast.InternedTerm(holds(solid(a[0]).Value.Compare(solid(a[1]).Value))), true
}

// isType answers is_string, is_number, is_boolean, is_null and is_set,
// which a doc (an object or an array) never is.
func isType[T ast.Value](a []*ast.Term) (*ast.Term, bool) {
	_, ok := a[0].Value.(T)
	return ast.InternedTerm(ok), true
}

// objectGet is object.get(object, key or path, default).
// Its walk is dot's, which finds what Term.Get does.
func objectGet(a []*ast.Term) (*ast.Term, bool) {
	if !isObject(a[0]) {
		return nil, false
	}
	if !isArray(a[1]) {
		return cmp.Or(dot(a[0], a[1]), a[2]), true
	}
	// The path is read in place: a literal path is a doc.
	n, _ := length(a[1])
	curr := a[0]
	for i := range n {
		if curr = dot(curr, arrayElem(a[1], i)); curr == nil {
			break
		}
	}
	return cmp.Or(curr, a[2]), true
}

func count(a []*ast.Term) (*ast.Term, bool) {
	n, ok := length(a[0])
	if !ok {
		return nil, false
	}
	return ast.InternedTerm(n), true
}

// member is `x in collection` (internal.member_2).
func member(a []*ast.Term) (*ast.Term, bool) {
	x := a[0]
	switch c := a[1].Value.(type) {
	case ast.Set:
		return ast.InternedTerm(c.Contains(solid(x))), true
	case *ast.Array:
		return ast.InternedTerm(c.Until(solid(x).Equal)), true
	case ast.Object:
		return ast.InternedTerm(c.Until(func(_, v *ast.Term) bool { return solid(x).Equal(v) })), true
	case *doc:
		if c.isArr {
			for i := range c.len() {
				if termsEqual(x, c.elem(i)) {
					return ast.InternedTerm(true), true
				}
			}
			return ast.InternedTerm(false), true
		}
		for k := range c.obj {
			c.get(k) // kids then hold every member
		}
		for _, f := range c.kids {
			if termsEqual(x, f.val) {
				return ast.InternedTerm(true), true
			}
		}
	}
	return ast.InternedTerm(false), true
}
