package vm

import (
	"cmp"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
)

// native answers a built-in call in the VM; false hands the call to
// topdown's implementation, which then gives its own error.
type native func(args []*ast.Term) (*ast.Term, bool)

// natives are built-ins the VM answers itself, with topdown's exact
// semantics (topdown/comparison.go, type.go, object.go, aggregates.go).
// They are the most frequent calls of a policy (every `!=`, `in`,
// is_string, object.get, count), where going through the built-in calling
// convention costs more than the work. Where topdown would fail (count of
// a number, object.get on a string) they decline, so errors stay topdown's.
var natives = map[string]native{
	ast.Equal.Name:         func(a []*ast.Term) (*ast.Term, bool) { return ast.InternedTerm(a[0].Equal(a[1])), true },
	ast.NotEqual.Name:      func(a []*ast.Term) (*ast.Term, bool) { return ast.InternedTerm(!a[0].Equal(a[1])), true },
	ast.LessThan.Name:      func(a []*ast.Term) (*ast.Term, bool) { return compare(a, func(c int) bool { return c < 0 }) },
	ast.LessThanEq.Name:    func(a []*ast.Term) (*ast.Term, bool) { return compare(a, func(c int) bool { return c <= 0 }) },
	ast.GreaterThan.Name:   func(a []*ast.Term) (*ast.Term, bool) { return compare(a, func(c int) bool { return c > 0 }) },
	ast.GreaterThanEq.Name: func(a []*ast.Term) (*ast.Term, bool) { return compare(a, func(c int) bool { return c >= 0 }) },
	ast.IsString.Name:      isType[ast.String],
	ast.IsNumber.Name:      isType[ast.Number],
	ast.IsBoolean.Name:     isType[ast.Boolean],
	ast.IsNull.Name:        isType[ast.Null],
	ast.IsArray.Name:       isType[*ast.Array],
	ast.IsObject.Name:      isType[ast.Object],
	ast.IsSet.Name:         isType[ast.Set],
	ast.ObjectGet.Name:     objectGet,
	ast.Count.Name:         count,
	ast.Member.Name:        member,
}

func compare(a []*ast.Term, holds func(int) bool) (*ast.Term, bool) {
	return ast.InternedTerm(holds(a[0].Value.Compare(a[1].Value))), true
}

func isType[T ast.Value](a []*ast.Term) (*ast.Term, bool) {
	_, ok := a[0].Value.(T)
	return ast.InternedTerm(ok), true
}

// objectGet is object.get(object, key or path, default).
func objectGet(a []*ast.Term) (*ast.Term, bool) {
	obj, ok := a[0].Value.(ast.Object)
	if !ok {
		return nil, false
	}
	path, ok := a[1].Value.(*ast.Array)
	if !ok {
		return cmp.Or(obj.Get(a[1]), a[2]), true
	}
	curr := a[0]
	for i := range path.Len() {
		if curr = curr.Get(path.Elem(i)); curr == nil {
			break
		}
	}
	return cmp.Or(curr, a[2]), true
}

func count(a []*ast.Term) (*ast.Term, bool) {
	switch x := a[0].Value.(type) {
	case *ast.Array:
		return ast.InternedTerm(x.Len()), true
	case ast.Object:
		return ast.InternedTerm(x.Len()), true
	case ast.Set:
		return ast.InternedTerm(x.Len()), true
	case ast.String:
		return ast.InternedTerm(utf8.RuneCountInString(string(x))), true
	}
	return nil, false
}

// member is `x in collection` (internal.member_2).
func member(a []*ast.Term) (*ast.Term, bool) {
	switch c := a[1].Value.(type) {
	case ast.Set:
		return ast.InternedTerm(c.Contains(a[0])), true
	case *ast.Array:
		return ast.InternedTerm(c.Until(a[0].Equal)), true
	case ast.Object:
		return ast.InternedTerm(c.Until(func(_, v *ast.Term) bool { return a[0].Equal(v) })), true
	}
	return ast.InternedTerm(false), true
}
