package vm

import "github.com/open-policy-agent/opa/v1/ast"

// objectUnion is object.union(a, b): b's members win over a's, except
// that members that are objects on both sides are merged the same way
// (topdown/object.go mergeWithOverwrite). The library merges the details
// of every violation it reports.
func objectUnion(a []*ast.Term) (*ast.Term, bool) {
	if !isObject(a[0]) || !isObject(a[1]) {
		return nil, false
	}
	x, y := solid(a[0]), solid(a[1])
	switch {
	case x.Value.(ast.Object).Len() == 0:
		return y, true
	case y.Value.(ast.Object).Len() == 0:
		return x, true
	}
	return ast.NewTerm(union(x.Value.(ast.Object), y.Value.(ast.Object))), true
}

// union merges y into x. Both objects are walked in key order, so the
// members they share are found without hashing a key; the object is then
// made at once rather than by inserting member after member.
func union(x, y ast.Object) ast.Object {
	kvs := make([][2]*ast.Term, 0, x.Len()+y.Len())
	x.Foreach(func(k, v *ast.Term) { kvs = append(kvs, [2]*ast.Term{k, v}) })
	nx, i := len(kvs), 0
	y.Foreach(func(k, v *ast.Term) {
		c := 1
		for ; i < nx; i++ {
			if c = ast.Compare(kvs[i][0].Value, k.Value); c >= 0 {
				break
			}
		}
		if c == 0 {
			kvs[i][1] = overwrite(kvs[i][1], v)
			i++
			return
		}
		kvs = append(kvs, [2]*ast.Term{k, v})
	})
	return ast.NewObject(kvs...)
}

// overwrite is the member of object.union's result where both operands
// have the key: the two merged where both are objects, the right one
// otherwise.
func overwrite(left, right *ast.Term) *ast.Term {
	l, ok1 := left.Value.(ast.Object)
	r, ok2 := right.Value.(ast.Object)
	if !ok1 || !ok2 {
		return right
	}
	return ast.NewTerm(union(l, r))
}
