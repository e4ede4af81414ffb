package vm

import (
	"strconv"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/util"
)

// dot is src[key]: an object's value, an array's element, a set's member;
// nil when there is none.
func dot(src, key *ast.Term) *ast.Term {
	if src == nil || key == nil {
		return nil
	}
	switch x := src.Value.(type) {
	case ast.Object:
		return x.Get(solid(key))
	case *ast.Array:
		if i, ok := index(key, x.Len()); ok {
			return x.Elem(i)
		}
	case ast.Set:
		if x.Contains(solid(key)) {
			return key
		}
	case *doc:
		return x.dot(key)
	}
	return nil
}

// dot is a doc's member or element key, as dot finds it in the converted
// document.
func (d *doc) dot(key *ast.Term) *ast.Term {
	if !d.isArr {
		if k, ok := key.Value.(ast.String); ok {
			return d.get(string(k))
		}
		if !d.built {
			return nil // a Go object's keys are strings
		}
		if f := d.lookup(key); f != nil {
			return f.val
		}
		return nil
	}
	if i, ok := index(key, d.len()); ok {
		return d.elem(i)
	}
	return nil
}

// index is key as an index into an array of n elements.
func index(key *ast.Term, n int) (int, bool) {
	num, ok := key.Value.(ast.Number)
	if !ok {
		return 0, false
	}
	i, ok := num.Int()
	return i, ok && i >= 0 && i < n
}

// dotBase is dot on a document of data. topdown reads those from the store,
// whose paths are strings (storage.NewPathForRef): a number key finds an
// object's member of that name, and a string key an array's element at
// that index (storage/internal/ptr).
func dotBase(src, key *ast.Term) *ast.Term {
	if v := dot(src, key); v != nil || src == nil || key == nil {
		return v
	}
	switch k := key.Value.(type) {
	case ast.Number:
		if isObject(src) {
			return dot(src, ast.StringTerm(k.String()))
		}
	case ast.String:
		if isArray(src) {
			if i, ok := util.Atoi(string(k)); ok {
				return dot(src, ast.InternedTerm(i))
			}
		}
	}
	return nil
}

func length(t *ast.Term) (int, bool) {
	if t == nil {
		return 0, false
	}
	switch x := t.Value.(type) {
	case *ast.Array:
		return x.Len(), true
	case ast.Object:
		return x.Len(), true
	case ast.Set:
		return x.Len(), true
	case ast.String:
		return utf8.RuneCountInString(string(x)), true
	case *doc:
		return x.len(), true
	}
	return 0, false
}

func equal(a, b *ast.Term) bool {
	if a == nil || b == nil {
		return false
	}
	if a == b {
		return true
	}
	if x, ok := a.Value.(*doc); ok {
		return docEqual(x, b)
	}
	if y, ok := b.Value.(*doc); ok {
		return docEqual(y, a)
	}
	if x, ok := a.Value.(ast.String); ok {
		y, ok := b.Value.(ast.String)
		return ok && x == y
	}
	return ast.Compare(a.Value, b.Value) == 0
}

func isArray(t *ast.Term) bool {
	if d, ok := t.Value.(*doc); ok {
		return d.isArr
	}
	_, ok := t.Value.(*ast.Array)
	return ok
}

// arrayElem is element i of an array or an array doc.
func arrayElem(t *ast.Term, i int) *ast.Term {
	if d, ok := t.Value.(*doc); ok {
		return d.elem(i)
	}
	return t.Value.(*ast.Array).Elem(i)
}

func isObject(t *ast.Term) bool {
	if d, ok := t.Value.(*doc); ok {
		return !d.isArr
	}
	_, ok := t.Value.(ast.Object)
	return ok
}

func isSet(t *ast.Term) bool { _, ok := t.Value.(ast.Set); return ok }

// merge joins a base document a with a virtual document b: objects are
// merged key by key, recursively; where both hold a value that is not an
// object, a's is kept.
func merge(a, b *ast.Term) *ast.Term {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	a, b = solid(a), solid(b)
	oa, ok1 := a.Value.(ast.Object)
	ob, ok2 := b.Value.(ast.Object)
	if !ok1 || !ok2 {
		return a
	}
	out := ast.NewObjectWithCapacity(oa.Len() + ob.Len())
	oa.Foreach(func(k, v *ast.Term) {
		out.Insert(k, merge(v, ob.Get(k)))
	})
	ob.Foreach(func(k, v *ast.Term) {
		if oa.Get(k) == nil {
			out.Insert(k, v)
		}
	})
	return ast.NewTerm(out)
}

// upsert returns a copy of base with value at path (string constants),
// copying only the objects along the path and making missing ones.
func upsert(base *ast.Term, path []int32, consts []*ast.Term, value *ast.Term) *ast.Term {
	if len(path) == 0 {
		return solid(value)
	}
	var obj ast.Object
	if base != nil {
		if o, ok := solid(base).Value.(ast.Object); ok {
			obj = shallowCopy(o)
		}
	}
	if obj == nil {
		obj = ast.NewObject()
	}
	key := consts[-path[0]-1]
	obj.Insert(key, upsert(obj.Get(key), path[1:], consts, value))
	return ast.NewTerm(obj)
}

func shallowCopy(o ast.Object) ast.Object {
	out := ast.NewObjectWithCapacity(o.Len())
	o.Foreach(out.Insert)
	return out
}

// dynamic finds the function a CallDynamic's path names.
func (p *Program) dynamic(read func([]*ast.Term, int32) *ast.Term, f []*ast.Term, path []int32) *function {
	var buf [128]byte
	key := buf[:0]
	for _, o := range path {
		t := read(f, o)
		if t == nil {
			return nil
		}
		s, ok := t.Value.(ast.String)
		if !ok {
			return nil
		}
		key = appendPathKey(key, string(s))
	}
	return p.byPath[string(key)]
}

// appendPathKey appends one element of a function's path to its key in
// byPath. Each element is prefixed with its length: path elements can come
// from input (data.x[input.kind].allow) and hold any character, so no
// separator keeps ["a\x00b"] apart from ["a", "b"].
func appendPathKey(key []byte, elem string) []byte {
	key = strconv.AppendInt(key, int64(len(elem)), 10)
	key = append(key, ':')
	return append(key, elem...)
}
