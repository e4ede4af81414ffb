package vm

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// Program is an ir.Policy translated for execution: every statement
// resolved to an instruction with its operands as slot numbers, every call
// to its function or built-in, every string to a term. It is immutable and
// shared by concurrent evaluations.
type Program struct {
	plans  []*function // the query plans, by index in ir.Plans
	funcs  []*function
	consts []*ast.Term // operand -(i+1) reads consts[i]
	byPath map[string]*function
	// constVals holds the values of constant functions, by function id,
	// once computed (undefinedResult when undefined).
	constVals []atomic.Pointer[ast.Term]
	states    sync.Pool // *state, reused by evaluations
}

// function is a plan or a planned function (a rule or a user function).
type function struct {
	name    string
	id      int // index into the memo table, -1 when not memoized
	params  []int32
	ret     int32
	blocks  []*block
	nlocals int
	isPlan  bool
	// constant: a memoized function whose value does not depend on input
	// or data (markConstants).
	constant bool
}

type block struct{ instrs []instr }

type opcode uint8

const (
	opNop opcode = iota
	opReturn
	opCall
	opCallBuiltin
	opCallDynamic
	opBlock
	opBreak
	opDot
	opDotBase
	opLen
	opScan
	opNot
	opAssignInt
	opAssignVar
	opAssignVarOnce
	opResetLocal
	opMakeNull
	opMakeNumberInt
	opMakeNumberRef
	opMakeArray
	opMakeObject
	opMakeSet
	opEqual
	opNotEqual
	opIsArray
	opIsObject
	opIsSet
	opIsDefined
	opIsUndefined
	opArrayAppend
	opObjectInsert
	opObjectInsertOnce
	opObjectMerge
	opSetAdd
	opWith
	opResultSetAdd
	opBuildArray  // fused MakeArray and appends: args are the elements
	opBuildObject // fused MakeObject and inserts: args are key, value, ...
)

// instr is one statement. a, b and c are operands or local slots, in the
// order the statement's fields are declared; an operand below zero reads
// consts[-a-1].
type instr struct {
	op      opcode
	a, b, c int32
	n       int64
	args    []int32
	path    []int32 // with: the path's string constants; call dynamic: its operands
	block   *block
	blocks  []*block
	fn      *function
	builtin *builtinCall
	loc     *ir.Location
	// conflict is the error of an AssignVarOnce or ObjectInsertOnce
	// that meets a different value, worded as topdown words it.
	conflict *topdown.Error
}

type builtinCall struct {
	name   string
	native native // natives[name], when there is one
	fn     topdown.BuiltinFunc
	decl   *ast.Builtin
	void   bool
	// relation: a built-in with several outputs (walk); the planner takes
	// the collection of them and scans it.
	relation bool
	astLoc   *ast.Location
}

// Compile translates policy. extra holds built-ins beyond OPA's own
// (rego.Function declarations), by name.
func Compile(policy *ir.Policy, extra map[string]*topdown.Builtin) (*Program, error) {
	if policy.Static == nil { // no constants: every reference is out of range
		cp := *policy
		cp.Static = &ir.Static{}
		policy = &cp
	}
	c := &compiler{
		p:       &Program{byPath: map[string]*function{}},
		funcs:   map[string]*function{},
		strings: map[int]int32{},
		base:    map[int32]bool{},
		extra:   extra,
		policy:  policy,
	}
	c.p.consts = []*ast.Term{ast.InternedTerm(false), ast.InternedTerm(true)}
	if policy.Funcs != nil {
		for i, f := range policy.Funcs.Funcs {
			if f == nil {
				return nil, fmt.Errorf("function %d missing", i)
			}
			fn := &function{name: f.Name, id: -1, ret: c.local(f.Return)}
			if len(f.Params) == 2 {
				fn.id = i
			}
			for _, p := range f.Params {
				fn.params = append(fn.params, c.local(p))
			}
			c.funcs[f.Name] = fn
			c.p.funcs = append(c.p.funcs, fn)
			if len(f.Path) > 0 {
				var key []byte
				for _, e := range f.Path {
					key = appendPathKey(key, e)
				}
				c.p.byPath[string(key)] = fn
			}
		}
		for i, f := range policy.Funcs.Funcs {
			fn := c.p.funcs[i]
			c.fn = f
			c.max = fn.ret
			for _, p := range fn.params {
				c.max = max(c.max, p)
			}
			clear(c.base)
			if len(fn.params) >= 2 {
				c.base[fn.params[1]] = true
			}
			var err error
			if fn.blocks, err = c.blocks(f.Blocks); err != nil {
				return nil, fmt.Errorf("function %s: %w", f.Name, err)
			}
			fn.nlocals = int(c.max) + 1
		}
	}
	c.fn = nil
	if policy.Plans != nil {
		for i, pl := range policy.Plans.Plans {
			if pl == nil {
				return nil, fmt.Errorf("plan %d missing", i)
			}
			fn := &function{name: pl.Name, id: -1, isPlan: true}
			c.max = int32(ir.Data)
			clear(c.base)
			c.base[int32(ir.Data)] = true
			var err error
			if fn.blocks, err = c.blocks(pl.Blocks); err != nil {
				return nil, fmt.Errorf("plan %s: %w", pl.Name, err)
			}
			fn.nlocals = int(c.max) + 1
			c.p.plans = append(c.p.plans, fn)
		}
	}
	if c.err != nil {
		return nil, c.err
	}
	c.p.markConstants()
	return c.p, nil
}

type compiler struct {
	p       *Program
	policy  *ir.Policy
	funcs   map[string]*function
	strings map[int]int32
	extra   map[string]*topdown.Builtin
	fn      *ir.Func // the function being compiled; nil in a plan
	// base holds the locals of the current function that hold data or
	// a document in it reached by Dot or Scan: refs into base documents
	// (dotBase).
	base map[int32]bool
	max  int32 // highest local slot seen in the current function
	err  error // the first out-of-range local
}

// maxLocals bounds the locals of one function; the planner numbers them
// from 0 and uses far fewer.
const maxLocals = 1 << 20

// local returns l's slot. An out-of-range local is recorded in c.err.
func (c *compiler) local(l ir.Local) int32 {
	if l < 0 || l >= maxLocals {
		if c.err == nil {
			c.err = fmt.Errorf("local %d out of range", l)
		}
		return 0
	}
	slot := int32(l) //nolint:gosec // l is in [0, maxLocals)
	c.max = max(c.max, slot)
	return slot
}

func (c *compiler) operand(o ir.Operand) (int32, error) {
	switch v := o.Value.(type) {
	case ir.Local:
		return c.local(v), nil
	case ir.Bool:
		if v {
			return -2, nil
		}
		return -1, nil
	case ir.StringIndex:
		return c.str(int(v))
	}
	return 0, fmt.Errorf("unknown operand %v", o.Value)
}

func (c *compiler) str(i int) (int32, error) {
	if k, ok := c.strings[i]; ok {
		return k, nil
	}
	if i < 0 || i >= len(c.policy.Static.Strings) {
		return 0, fmt.Errorf("string constant %d out of range", i)
	}
	k, err := c.constant(ast.StringTerm(c.policy.Static.Strings[i].Value))
	c.strings[i] = k
	return k, err
}

// constant adds t to the constants and returns its operand.
func (c *compiler) constant(t *ast.Term) (int32, error) {
	if len(c.p.consts) >= maxLocals {
		return 0, fmt.Errorf("more than %d constants", maxLocals)
	}
	c.p.consts = append(c.p.consts, t)
	return -int32(len(c.p.consts)), nil //nolint:gosec // at most maxLocals
}

func (c *compiler) block(b *ir.Block) (*block, error) {
	if b == nil {
		return nil, errors.New("no block where the plan needs one")
	}
	nb := &block{instrs: make([]instr, 0, len(b.Stmts))}
	for _, s := range b.Stmts {
		if s == nil {
			return nil, errors.New("no statement where the plan needs one")
		}
		in, err := c.stmt(s)
		if err != nil {
			return nil, err
		}
		nb.instrs = append(nb.instrs, in)
	}
	fuse(nb)
	return nb, nil
}

func (c *compiler) blocks(bs []*ir.Block) ([]*block, error) {
	out := make([]*block, 0, len(bs))
	for _, b := range bs {
		nb, err := c.block(b)
		if err != nil {
			return nil, err
		}
		out = append(out, nb)
	}
	return out, nil
}

// operands translates a list of operands, stopping at the first error.
func (c *compiler) operands(ops ...ir.Operand) ([]int32, error) {
	out := make([]int32, len(ops))
	for i, o := range ops {
		v, err := c.operand(o)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (c *compiler) stmt(s ir.Stmt) (instr, error) {
	in := instr{loc: s.GetLocation()}
	var err error
	var ops []int32
	switch s := s.(type) {
	case *ir.NopStmt:
		in.op = opNop
	case *ir.ReturnLocalStmt:
		in.op, in.a = opReturn, c.local(s.Source)
	case *ir.CallStmt:
		in.c = c.local(s.Result)
		if in.args, err = c.operands(s.Args...); err != nil {
			return in, err
		}
		if fn, ok := c.funcs[s.Func]; ok {
			in.op, in.fn = opCall, fn
			break
		}
		in.op = opCallBuiltin
		in.builtin, err = c.builtin(s.Func, in.args, s.GetLocation())
	case *ir.CallDynamicStmt:
		in.op, in.c = opCallDynamic, c.local(s.Result)
		for _, a := range s.Args {
			in.args = append(in.args, c.local(a))
		}
		in.path, err = c.operands(s.Path...)
	case *ir.BlockStmt:
		in.op = opBlock
		in.blocks, err = c.blocks(s.Blocks)
	case *ir.BreakStmt:
		in.op, in.n = opBreak, int64(s.Index)
	case *ir.DotStmt:
		in.op, in.c = opDot, c.local(s.Target)
		ops, err = c.operands(s.Source, s.Key)
		if l, ok := s.Source.Value.(ir.Local); ok && c.base[c.local(l)] {
			in.op, c.base[in.c] = opDotBase, true
		}
	case *ir.LenStmt:
		in.op, in.c = opLen, c.local(s.Target)
		ops, err = c.operands(s.Source)
	case *ir.ScanStmt:
		in.op, in.a, in.b, in.c = opScan, c.local(s.Source), c.local(s.Key), c.local(s.Value)
		if c.base[in.a] {
			c.base[in.c] = true
		}
		in.block, err = c.block(s.Block)
	case *ir.NotStmt:
		in.op = opNot
		in.block, err = c.block(s.Block)
	case *ir.AssignIntStmt:
		in.op, in.c, in.n = opAssignInt, c.local(s.Target), s.Value
	case *ir.AssignVarStmt:
		in.op, in.c = opAssignVar, c.local(s.Target)
		ops, err = c.operands(s.Source)
	case *ir.AssignVarOnceStmt:
		in.op, in.c = opAssignVarOnce, c.local(s.Target)
		in.conflict = c.conflict(s.GetLocation())
		ops, err = c.operands(s.Source)
	case *ir.ResetLocalStmt:
		in.op, in.c = opResetLocal, c.local(s.Target)
	case *ir.MakeNullStmt:
		in.op, in.c = opMakeNull, c.local(s.Target)
	case *ir.MakeNumberIntStmt:
		in.op, in.c, in.n = opMakeNumberInt, c.local(s.Target), s.Value
	case *ir.MakeNumberRefStmt:
		in.op, in.c = opMakeNumberRef, c.local(s.Target)
		if s.Index < 0 || s.Index >= len(c.policy.Static.Strings) {
			return in, fmt.Errorf("number constant %d out of range", s.Index)
		}
		in.a, err = c.constant(ast.NumberTerm(json.Number(c.policy.Static.Strings[s.Index].Value)))
	case *ir.MakeArrayStmt:
		in.op, in.c, in.n = opMakeArray, c.local(s.Target), int64(s.Capacity)
	case *ir.MakeObjectStmt:
		in.op, in.c = opMakeObject, c.local(s.Target)
	case *ir.MakeSetStmt:
		in.op, in.c = opMakeSet, c.local(s.Target)
	case *ir.EqualStmt:
		in.op = opEqual
		ops, err = c.operands(s.A, s.B)
	case *ir.NotEqualStmt:
		in.op = opNotEqual
		ops, err = c.operands(s.A, s.B)
	case *ir.IsArrayStmt:
		in.op = opIsArray
		ops, err = c.operands(s.Source)
	case *ir.IsObjectStmt:
		in.op = opIsObject
		ops, err = c.operands(s.Source)
	case *ir.IsSetStmt:
		in.op = opIsSet
		ops, err = c.operands(s.Source)
	case *ir.IsDefinedStmt:
		in.op, in.a = opIsDefined, c.local(s.Source)
	case *ir.IsUndefinedStmt:
		in.op, in.a = opIsUndefined, c.local(s.Source)
	case *ir.ArrayAppendStmt:
		in.op, in.c = opArrayAppend, c.local(s.Array)
		ops, err = c.operands(s.Value)
	case *ir.ObjectInsertStmt:
		in.op, in.c = opObjectInsert, c.local(s.Object)
		ops, err = c.operands(s.Key, s.Value)
	case *ir.ObjectInsertOnceStmt:
		in.op, in.c = opObjectInsertOnce, c.local(s.Object)
		in.conflict = &topdown.Error{Code: topdown.ConflictErr, Message: "object keys must be unique", Location: c.location(s.GetLocation())}
		ops, err = c.operands(s.Key, s.Value)
	case *ir.ObjectMergeStmt:
		in.op, in.a, in.b, in.c = opObjectMerge, c.local(s.A), c.local(s.B), c.local(s.Target)
	case *ir.SetAddStmt:
		in.op, in.c = opSetAdd, c.local(s.Set)
		ops, err = c.operands(s.Value)
	case *ir.WithStmt:
		in.op, in.c = opWith, c.local(s.Local)
		for _, p := range s.Path {
			k, err := c.str(p)
			if err != nil {
				return in, err
			}
			in.path = append(in.path, k)
		}
		ops, err = c.operands(s.Value)
		if err == nil {
			in.block, err = c.block(s.Block)
		}
	case *ir.ResultSetAddStmt:
		in.op, in.a = opResultSetAdd, c.local(s.Value)
	default:
		return in, fmt.Errorf("unsupported statement %T", s)
	}
	if len(ops) > 0 {
		in.a = ops[0]
		if len(ops) > 1 {
			in.b = ops[1]
		}
	}
	return in, err
}

func (c *compiler) builtin(name string, args []int32, loc *ir.Location) (*builtinCall, error) {
	b := &builtinCall{name: name, astLoc: c.location(loc)}
	if e, ok := c.extra[name]; ok {
		b.fn, b.decl = e.Func, e.Decl
	} else {
		b.fn, b.decl = topdown.GetBuiltin(name), ast.BuiltinMap[name]
	}
	if b.fn == nil || b.decl == nil {
		return nil, fmt.Errorf("unknown built-in function %q", name)
	}
	b.void = b.decl.Decl.Result() == nil
	b.relation = b.decl.Relation
	if _, overridden := c.extra[name]; !overridden && len(args) == b.decl.Decl.Arity() {
		b.native = natives[name]
	}
	return b, nil
}

// location is loc as topdown reports it, nil when the plan gives none.
func (c *compiler) location(loc *ir.Location) *ast.Location {
	if loc == nil {
		return nil
	}
	l := &ast.Location{Row: loc.Row, Col: loc.Col}
	if c.policy.Static != nil && loc.File >= 0 && loc.File < len(c.policy.Static.Files) {
		l.File = c.policy.Static.Files[loc.File].Value
	}
	return l
}

// conflict is the error of an AssignVarOnce in the current function: the
// planner uses them for the value of a complete rule or of a function
// (functions have parameters beyond input and data), and topdown names
// the rule (topdown/errors.go completeDocConflictErr, functionConflictErr).
func (c *compiler) conflict(loc *ir.Location) *topdown.Error {
	e := &topdown.Error{Code: topdown.ConflictErr, Location: c.location(loc), Message: "complete rules must not produce multiple outputs"}
	if c.fn == nil || len(c.fn.Path) < 2 {
		return e
	}
	// Path[0] is the planner's name of the rule group (g0, g1, ...).
	ref := ast.Ref{ast.DefaultRootDocument}
	for _, k := range c.fn.Path[1:] {
		ref = append(ref, ast.StringTerm(k))
	}
	if len(c.fn.Params) > 2 {
		e.Message = "function " + ref.String() + " produced conflicting values for the same inputs"
	} else {
		e.Message = "rule " + ref.String() + " produced conflicting values"
	}
	return e
}
