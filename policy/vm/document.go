package vm

import (
	"maps"
	"reflect"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"
)

// doc is an object or an array the VM reads without converting it to
// OPA's types: a JSON document decoded in Go (a map[string]any or a
// []any), or an object or array literal the plan builds (an OPA object or
// array hashes its members as it is made, and most literals are only read
// member by member: a call's arguments, a helper's result, a table row).
//
// A policy reads a few fields of a large input (an admission request
// carries the object twice, managedFields, status and every environment
// variable), and converting what it reads was most of the cost of
// evaluating it: ast.LazyObject, which topdown reads, converts an array
// whole, with every object in it, the moment one element is read, and an
// OPA object or array hashes every value put in it, which converts that
// value whole. The library's containers rule puts every container in an
// object.
//
// A doc lives only in a frame's slots, the memo and other docs: a value
// stored in an OPA collection, handed to a built-in OPA implements, kept
// across evaluations (a constant rule) or returned from the plan is
// converted first (solid), so OPA's code, which only knows its own value
// types, never sees one. Conversions are kept in the doc, so a part of
// the input is converted at most once per evaluation.
type doc struct {
	term  ast.Term       // the doc's own term: one allocation for both
	obj   map[string]any // a Go object's members
	arr   []any          // a Go array's elements
	isArr bool
	built bool        // made by the plan: kids or elems hold every member
	kids  []field     // object members read so far
	elems []*ast.Term // array elements, made at the first read
	full  *ast.Term   // the whole document converted, once needed
	keyed []*ast.Term // a Go object's keys in order, once iterated
	slab  *docSlab    // where the docs read from a Go document come from
}

// field is an object doc's member. A Go object's keys are strings; an
// object the plan builds may have any scalar keys, which key holds.
type field struct {
	name string
	key  *ast.Term // nil for a Go object's member
	val  *ast.Term
}

// newDoc returns d's term.
func newDoc(d *doc) *ast.Term {
	d.term.Value = d
	return &d.term
}

// lazyObjectType is the type behind ast.LazyObject: an input given as one is
// a decoded JSON document that nothing else converts, so the VM reads it
// as a doc instead.
var lazyObjectType = reflect.TypeOf(ast.LazyObject(nil))

// docInput returns input with a LazyObject's document read in place, its
// docs taken from slab.
func docInput(input *ast.Term, slab *docSlab) *ast.Term {
	if input == nil || reflect.TypeOf(input.Value) != lazyObjectType {
		return input
	}
	// ValueToInterface gives a LazyObject's document itself, not a copy.
	m, err := ast.ValueToInterface(input.Value, nil)
	if obj, ok := m.(map[string]any); ok && err == nil {
		d := slab.doc()
		d.obj = obj
		return newDoc(d)
	}
	return input
}

// docSlab hands out the docs an evaluation reads from its input, and
// their first members, from arrays that the next evaluation on the same
// state reuses: one allocation for many docs, and none once the arrays
// have grown to what a policy reads. No doc outlives its evaluation: what
// leaves it (results, built-in operands, printed values) is converted
// first, and the frames and the memo are cleared at its end.
//
// The terms of the scalars read are handed out from arrays too, but never
// reused: a scalar is its own converted value and may be part of a result.
type docSlab struct {
	docs  []doc
	n     int
	kids  []field
	nk    int
	elems []*ast.Term // the elements of the arrays the plan builds
	ne    int
	terms []ast.Term
}

// slabFields is the room for members each object doc starts with.
const slabFields = 4

func (b *docSlab) doc() *doc {
	if b.n == len(b.docs) {
		// The full array stays with the docs taken from it; the next
		// evaluation reuses the new one.
		b.docs, b.n = make([]doc, max(32, 2*len(b.docs))), 0
	}
	d := &b.docs[b.n]
	b.n++
	d.slab = b
	return d
}

// fields is an empty member list with room for n members; appending more
// moves it to an array of its own.
func (b *docSlab) fields(n int) []field {
	if b.nk+n > len(b.kids) {
		b.kids, b.nk = make([]field, max(32*slabFields, 2*len(b.kids), n)), 0
	}
	f := b.kids[b.nk : b.nk : b.nk+n]
	b.nk += n
	return f
}

// elemList is room for an array doc's n elements; appending more moves
// them to an array of their own.
func (b *docSlab) elemList(n int) []*ast.Term {
	if b.ne+n > len(b.elems) {
		b.elems, b.ne = make([]*ast.Term, max(64, 2*len(b.elems), n)), 0
	}
	e := b.elems[b.ne : b.ne+n : b.ne+n]
	b.ne += n
	return e
}

// term is a new term of v.
func (b *docSlab) term(v ast.Value) *ast.Term {
	if len(b.terms) == 0 {
		b.terms = make([]ast.Term, 32)
	}
	t := &b.terms[0]
	b.terms = b.terms[1:]
	t.Value = v
	return t
}

// reset makes the arrays free for the next evaluation, dropping what the
// docs referred to.
func (b *docSlab) reset() {
	clear(b.docs[:b.n])
	clear(b.kids[:b.nk])
	clear(b.elems[:b.ne])
	b.n, b.nk, b.ne = 0, 0, 0
	b.terms = nil
}

// wrap is the term for a value found in a document: a doc for an object or
// an array, the converted value otherwise. Like ast.LazyObject, it takes
// documents whose values convert (JSON-decoded values, strings, numbers,
// string slices and maps).
func (b *docSlab) wrap(x any) *ast.Term {
	switch x := x.(type) {
	case map[string]any:
		d := b.doc()
		d.obj = x
		return newDoc(d)
	case []any:
		d := b.doc()
		d.arr, d.isArr = x, true
		return newDoc(d)
	case string:
		return b.term(ast.String(x))
	}
	return b.term(ast.MustInterfaceToValue(x))
}

// builtObject is the object of the given keys and values as a doc when
// the keys are distinct scalars, nil otherwise (the plan then builds an
// OPA object).
func (b *docSlab) builtObject(kvs [][2]*ast.Term) *ast.Term {
	d := b.doc()
	d.built, d.kids = true, b.fields(len(kvs))
	for _, kv := range kvs {
		if !isScalarValue(kv[0]) || d.lookup(kv[0]) != nil {
			return nil
		}
		d.add(kv[0], kv[1])
	}
	return newDoc(d)
}

func isScalarValue(t *ast.Term) bool {
	switch t.Value.(type) {
	case ast.String, ast.Number, ast.Boolean, ast.Null:
		return true
	}
	return false
}

// add appends the member key (a scalar) to a built object doc.
func (d *doc) add(key, val *ast.Term) {
	f := field{key: key, val: val}
	if s, ok := key.Value.(ast.String); ok {
		f.name = string(s)
	}
	d.kids = append(d.kids, f)
}

// lookup is the member of a built object doc whose key equals key.
func (d *doc) lookup(key *ast.Term) *field {
	for i := range d.kids {
		if d.kids[i].key.Equal(key) {
			return &d.kids[i]
		}
	}
	return nil
}

// insert is ObjectInsert (once: ObjectInsertOnce) into a built object doc
// in slot c of f; false is a conflict. A key that is no scalar puts a copy
// of the doc as an OPA object in the slot first: the doc's own term and
// conversion may be held elsewhere (another slot, the memo), and the
// term, in the slab, is cleared when the evaluation ends.
func (d *doc) insert(f []*ast.Term, c int32, key, val *ast.Term, once bool) bool {
	if !isScalarValue(key) {
		obj := d.solid().Value.(ast.Object).Copy()
		f[c] = ast.NewTerm(obj)
		return insertInto(obj, key, val, once)
	}
	d.full = nil
	if f := d.lookup(key); f != nil {
		if once {
			return equal(f.val, val)
		}
		f.val = val
		return true
	}
	d.add(key, val)
	return true
}

// insertInto inserts into an OPA object; false is a conflict.
func insertInto(obj ast.Object, key, val *ast.Term, once bool) bool {
	key, val = solid(key), solid(val)
	if old := obj.Get(key); old != nil && once {
		return equal(old, val)
	}
	obj.Insert(key, val)
	return true
}

// get is the member key of an object doc, nil when there is none.
func (d *doc) get(key string) *ast.Term {
	for i := range d.kids {
		if d.kids[i].name == key && (d.kids[i].key == nil || isString(d.kids[i].key)) {
			return d.kids[i].val
		}
	}
	x, ok := d.obj[key]
	if !ok {
		return nil
	}
	t := d.slab.wrap(x)
	if d.kids == nil {
		d.kids = d.slab.fields(slabFields)
	}
	d.kids = append(d.kids, field{name: key, val: t})
	return t
}

func isString(t *ast.Term) bool { _, ok := t.Value.(ast.String); return ok }

// elem is element i of an array doc.
func (d *doc) elem(i int) *ast.Term {
	if d.elems == nil {
		d.elems = make([]*ast.Term, len(d.arr))
	}
	if d.elems[i] == nil {
		d.elems[i] = d.slab.wrap(d.arr[i])
	}
	return d.elems[i]
}

func (d *doc) len() int {
	switch {
	case d.built && d.isArr:
		return len(d.elems)
	case d.built:
		return len(d.kids)
	case d.isArr:
		return len(d.arr)
	}
	return len(d.obj)
}

// keys are an object doc's keys in the order OPA iterates an object's.
func (d *doc) keys() []*ast.Term {
	if !d.built {
		if d.keyed == nil {
			names := slices.Sorted(maps.Keys(d.obj))
			d.keyed = make([]*ast.Term, len(names))
			for i, n := range names {
				d.keyed[i] = ast.StringTerm(n)
			}
		}
		return d.keyed
	}
	keys := make([]*ast.Term, len(d.kids))
	for i, f := range d.kids {
		keys[i] = f.key
	}
	slices.SortFunc(keys, func(a, b *ast.Term) int { return ast.Compare(a.Value, b.Value) })
	return keys
}

// same reports whether d and e read the same Go document, which makes them
// equal without converting either.
func (d *doc) same(e *doc) bool {
	if d == e {
		return true
	}
	if d.built || e.built || d.isArr != e.isArr || d.len() != e.len() {
		return false
	}
	if d.isArr {
		return len(d.arr) == 0 || &d.arr[0] == &e.arr[0]
	}
	return reflect.ValueOf(d.obj).UnsafePointer() == reflect.ValueOf(e.obj).UnsafePointer()
}

// identity is a hash consistent with same.
func (d *doc) identity() int {
	switch {
	case d.built:
		return int(uintptr(reflect.ValueOf(d).UnsafePointer()))
	case d.isArr && len(d.arr) > 0:
		return int(uintptr(reflect.ValueOf(d.arr).UnsafePointer()))
	case d.isArr:
		return 0
	}
	return int(uintptr(reflect.ValueOf(d.obj).UnsafePointer()))
}

// solid converts the whole document; the result is kept.
func (d *doc) solid() *ast.Term {
	if d.full != nil {
		return d.full
	}
	switch {
	case d.built && d.isArr:
		elems := make([]*ast.Term, len(d.elems))
		for i, e := range d.elems {
			elems[i] = solid(e)
		}
		d.full = ast.NewTerm(ast.NewArray(elems...))
	case d.built:
		kvs := make([][2]*ast.Term, len(d.kids))
		for i, f := range d.kids {
			kvs[i] = [2]*ast.Term{f.key, solid(f.val)}
		}
		d.full = ast.NewTerm(ast.NewObject(kvs...))
	case d.isArr:
		d.full = ast.NewTerm(ast.MustInterfaceToValue(d.arr))
	default:
		d.full = ast.NewTerm(ast.MustInterfaceToValue(d.obj))
	}
	return d.full
}

// solid is t with a doc converted: what OPA's own code may see.
func solid(t *ast.Term) *ast.Term {
	if t == nil {
		return nil
	}
	if d, ok := t.Value.(*doc); ok {
		return d.solid()
	}
	return t
}

// docEqual is equality of a doc and any term, converting only when the
// two could be equal.
func docEqual(d *doc, t *ast.Term) bool {
	if e, ok := t.Value.(*doc); ok {
		if d.same(e) {
			return true
		}
		if d.isArr != e.isArr || d.len() != e.len() {
			return false
		}
	} else {
		n, ok := length(t)
		if !ok || !d.isArr && !isObject(t) || d.isArr && !isArray(t) || n != d.len() {
			return false
		}
	}
	return ast.Compare(d.solid().Value, solid(t).Value) == 0
}

// The ast.Value methods are there for the interface: the VM converts a
// doc before any of OPA's code could call them.

func (d *doc) Compare(other ast.Value) int {
	if o, ok := other.(*doc); ok {
		other = o.solid().Value
	}
	return ast.Compare(d.solid().Value, other)
}
func (d *doc) Find(path ast.Ref) (ast.Value, error) { return d.solid().Value.Find(path) }
func (d *doc) Hash() int                            { return d.solid().Value.Hash() }
func (d *doc) IsGround() bool                       { return true }
func (d *doc) String() string                       { return d.solid().Value.String() }
func (d *doc) StringLength() int                    { return d.solid().Value.StringLength() }

// buildArray is the array of elems, as a doc.
func (b *docSlab) buildArray(elems []*ast.Term) *ast.Term {
	d := b.doc()
	d.built, d.isArr, d.elems = true, true, elems
	return newDoc(d)
}

// buildObject is the object of the given keys and values: a doc when the
// keys are distinct scalars, an OPA object otherwise.
func (b *docSlab) buildObject(kvs [][2]*ast.Term) *ast.Term {
	if t := b.builtObject(kvs); t != nil {
		return t
	}
	for i := range kvs {
		kvs[i][0], kvs[i][1] = solid(kvs[i][0]), solid(kvs[i][1])
	}
	return ast.NewTerm(ast.NewObject(kvs...))
}

// appendTo appends v to the array in t, in place, as OPA's Wasm runtime
// appends: the planner only appends to an array it has just made. The
// array becomes a doc at the first doc appended.
func appendTo(t, v *ast.Term) {
	if d, ok := t.Value.(*doc); ok {
		d.elems = append(d.elems, v)
		return
	}
	arr := t.Value.(*ast.Array)
	if _, ok := v.Value.(*doc); !ok {
		t.Value = arr.Append(v)
		return
	}
	elems := make([]*ast.Term, arr.Len(), arr.Len()+1)
	for i := range elems {
		elems[i] = arr.Elem(i)
	}
	t.Value = &doc{built: true, isArr: true, elems: append(elems, v)}
}
