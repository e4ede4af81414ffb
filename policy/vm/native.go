package vm

import "github.com/open-policy-agent/opa/v1/ast"

// natives are built-ins the VM answers itself, with topdown's exact
// semantics (topdown/comparison.go, topdown/type.go): they cannot fail, and
// they are the most frequent calls of a policy (every `!=`, `<`, is_string
// ...), where going through the built-in calling convention costs more
// than the comparison.
var natives = map[string]func(args []*ast.Term) *ast.Term{
	ast.Equal.Name:         func(a []*ast.Term) *ast.Term { return ast.InternedTerm(a[0].Equal(a[1])) },
	ast.NotEqual.Name:      func(a []*ast.Term) *ast.Term { return ast.InternedTerm(!a[0].Equal(a[1])) },
	ast.LessThan.Name:      func(a []*ast.Term) *ast.Term { return ast.InternedTerm(a[0].Value.Compare(a[1].Value) < 0) },
	ast.LessThanEq.Name:    func(a []*ast.Term) *ast.Term { return ast.InternedTerm(a[0].Value.Compare(a[1].Value) <= 0) },
	ast.GreaterThan.Name:   func(a []*ast.Term) *ast.Term { return ast.InternedTerm(a[0].Value.Compare(a[1].Value) > 0) },
	ast.GreaterThanEq.Name: func(a []*ast.Term) *ast.Term { return ast.InternedTerm(a[0].Value.Compare(a[1].Value) >= 0) },
	ast.IsString.Name:      isType[ast.String],
	ast.IsNumber.Name:      isType[ast.Number],
	ast.IsBoolean.Name:     isType[ast.Boolean],
	ast.IsNull.Name:        isType[ast.Null],
	ast.IsArray.Name:       isType[*ast.Array],
	ast.IsObject.Name:      isType[ast.Object],
	ast.IsSet.Name:         isType[ast.Set],
}

func isType[T ast.Value](a []*ast.Term) *ast.Term {
	_, ok := a[0].Value.(T)
	return ast.InternedTerm(ok)
}
