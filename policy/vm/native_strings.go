package vm

import (
	"math/big"
	"strconv"
	"strings"
	"unsafe"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/util"
)

// sprintf is sprintf(format, values) for the verbs %s, %v, %d, %q and %%
// without flags, width, precision or argument index, as topdown prints
// them (topdown/strings.go builtinSprintf): each value becomes a Go value
// (an int64, a *big.Int, a float64 or a string) that fmt.Sprintf prints.
// It appends what fmt would print instead of calling it, and declines
// whatever fmt would print differently or complain about (%d of a string,
// %q of a number, missing or extra values), which topdown then prints.
//
// The policy library builds every message and field path with sprintf,
// and fmt's reflection and boxing of each value were the larger part of
// the call.
func sprintf(a []*ast.Term) (*ast.Term, bool) {
	format, ok := a[0].Value.(ast.String)
	if !ok || !isArray(a[1]) {
		return nil, false
	}
	n, _ := length(a[1])
	buf := make([]byte, 0, sprintfSize(string(format), a[1], n))
	used := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			buf = append(buf, c)
			continue
		}
		if i++; i == len(format) {
			return nil, false // fmt's %!(NOTAG)
		}
		verb := format[i]
		if verb == '%' {
			buf = append(buf, '%')
			continue
		}
		if used == n {
			return nil, false // fmt's %!s(MISSING)
		}
		if buf, ok = appendVerb(buf, verb, arrayElem(a[1], used)); !ok {
			return nil, false
		}
		used++
	}
	if used != n {
		return nil, false // fmt's %!(EXTRA ...)
	}
	return ast.StringTerm(ownedString(buf)), true
}

// sprintfSize is room for what sprintf prints: the format and each value's
// text with quotes; only escapes and values other than strings and numbers
// make it grow.
func sprintfSize(format string, arr *ast.Term, n int) int {
	size := len(format)
	for i := range n {
		switch v := arrayElem(arr, i).Value.(type) {
		case ast.String:
			size += len(v) + 2
		case ast.Number:
			size += len(v)
		default:
			size += 8
		}
	}
	return size
}

// ownedString is buf as a string without copying it: buf was made for
// the string and nothing writes to it after (what strings.Builder does).
func ownedString(buf []byte) string {
	return unsafe.String(unsafe.SliceData(buf), len(buf)) //nolint:gosec // audited: buf is never written after
}

// appendVerb appends what fmt prints for verb and the Go value topdown
// makes of arg; false where this does not reproduce fmt.
func appendVerb(buf []byte, verb byte, arg *ast.Term) ([]byte, bool) {
	num, isNum := arg.Value.(ast.Number)
	if !isNum {
		var s string
		if str, ok := arg.Value.(ast.String); ok {
			s = string(str)
		} else {
			// topdown prints any other value's text: true, null, [1, 2].
			s = solid(arg).Value.String()
		}
		switch verb {
		case 's', 'v':
			return append(buf, s...), true
		case 'q':
			return strconv.AppendQuote(buf, s), true
		}
		return buf, false
	}
	ns := string(num)
	if strings.ContainsAny(ns, ".eE") { // topdown's isFloatNumber
		return appendFloat(buf, verb, num)
	}
	if verb != 'd' && verb != 'v' && verb != 's' {
		return buf, false // %q of an integer is a quoted character
	}
	if x, ok := util.Atoi64(ns); ok {
		if verb == 's' {
			return buf, false // fmt's %!s(int64=1)
		}
		return strconv.AppendInt(buf, x, 10), true
	}
	// A *big.Int prints its decimal digits for %d, %v and %s.
	if b, ok := new(big.Int).SetString(ns, 10); ok {
		return b.Append(buf, 10), true
	}
	return buf, false
}

// appendFloat appends a number with a fraction or an exponent, which
// topdown hands to fmt as a float64, or as its text where it is out of a
// float64's range. Only %v of a float64 is reproduced: it is strconv's
// shortest %g.
func appendFloat(buf []byte, verb byte, num ast.Number) ([]byte, bool) {
	f, ok := num.Float64()
	switch {
	case !ok && (verb == 's' || verb == 'v'):
		return append(buf, num...), true
	case !ok && verb == 'q':
		return strconv.AppendQuote(buf, string(num)), true
	case ok && verb == 'v':
		return strconv.AppendFloat(buf, f, 'g', -1, 64), true
	}
	return buf, false
}

// concat is concat(separator, strings) of an array or a set of strings
// (topdown/strings.go builtinConcat); an element that is no string
// declines, and topdown gives the error.
func concat(a []*ast.Term) (*ast.Term, bool) {
	sep, ok := a[0].Value.(ast.String)
	if !ok {
		return nil, false
	}
	var elems []*ast.Term
	switch c := a[1].Value.(type) {
	case *ast.Array:
		elems = make([]*ast.Term, c.Len())
		for i := range elems {
			elems[i] = c.Elem(i)
		}
	case ast.Set:
		elems = c.Slice() // sorted, as topdown joins a set
	case *doc:
		if !c.isArr {
			return nil, false
		}
		elems = make([]*ast.Term, c.len())
		for i := range elems {
			elems[i] = c.elem(i)
		}
	default:
		return nil, false
	}
	return join(elems, string(sep))
}

// join joins strings; one string is its own result, as in topdown.
func join(elems []*ast.Term, sep string) (*ast.Term, bool) {
	n := len(sep) * max(len(elems)-1, 0)
	for _, e := range elems {
		s, ok := e.Value.(ast.String)
		if !ok {
			return nil, false
		}
		n += len(s)
	}
	switch len(elems) {
	case 0:
		return ast.InternedEmptyString, true
	case 1:
		return elems[0], true
	}
	buf := make([]byte, 0, n)
	for i, e := range elems {
		if i > 0 {
			buf = append(buf, sep...)
		}
		buf = append(buf, e.Value.(ast.String)...)
	}
	return ast.StringTerm(ownedString(buf)), true
}
