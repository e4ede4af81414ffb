package vm

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/topdown/builtins"
	"github.com/open-policy-agent/opa/v1/topdown/print"
)

// Options are the per-evaluation settings, as topdown takes them.
type Options struct {
	// Cancel, when set and cancelled, stops the evaluation with a
	// topdown.Error of code CancelErr.
	Cancel topdown.Cancel
	// PrintHook receives print() output; without one print does nothing.
	PrintHook print.Hook
	// StrictBuiltinErrors turns a built-in's error into the evaluation's
	// error; otherwise the call is undefined, as in topdown.
	StrictBuiltinErrors bool
	// BuiltinContext is handed to built-ins as it is, with Context,
	// Cancel, PrintHook and Location filled in.
	BuiltinContext topdown.BuiltinContext
}

// Eval runs plan i with input and data and returns the values the plan
// added to its result set, in order. input may be nil (undefined). In
// strict mode the first built-in error comes with the results, as
// topdown's Query.Run returns them: like topdown, the evaluation goes on
// after a built-in's error.
func (p *Program) Eval(ctx context.Context, i int, input, data *ast.Term, opts Options) ([]*ast.Term, error) {
	if i < 0 || i >= len(p.plans) {
		return nil, fmt.Errorf("plan %d out of range (%d plans)", i, len(p.plans))
	}
	s := getState(p)
	defer putState(s)
	s.cancel = opts.Cancel
	s.strict = opts.StrictBuiltinErrors
	s.bctx = opts.BuiltinContext
	s.bctx.Context = ctx
	s.bctx.Cancel = opts.Cancel
	s.bctx.PrintHook = opts.PrintHook
	if s.bctx.Cache == nil {
		s.bctx.Cache = builtins.Cache{}
	}
	if s.bctx.Time == nil {
		// topdown's default: the clock at the start of the evaluation.
		s.bctx.Time = ast.NumberTerm(json.Number(strconv.FormatInt(time.Now().UnixNano(), 10)))
	}
	if s.bctx.Seed == nil {
		s.bctx.Seed = rand.Reader
	}
	plan := p.plans[i]
	f := s.push(plan.nlocals)
	f[0], f[1] = docInput(input, &s.slab), data
	for _, b := range plan.blocks {
		br, err := s.run(f, b)
		if err != nil {
			return nil, err
		}
		if br > 0 {
			break
		}
	}
	s.pop(f)
	if s.strict && s.builtinErr != nil {
		return s.takeResults(), s.builtinErr
	}
	return s.takeResults(), nil
}

// state is one evaluation's mutable state, pooled per program.
type state struct {
	p          *Program
	cancel     topdown.Cancel
	strict     bool
	bctx       topdown.BuiltinContext
	builtinErr error
	nerrs      int          // built-in errors so far
	memo       []*memoLevel // one per `with` level, top last
	depth      int          // memo[:depth] are in use
	results    []*ast.Term
	stack      []*ast.Term // frames are carved from here
	sp         int
	args       []*ast.Term    // scratch for built-in operands
	items      [][2]*ast.Term // scratch for an object's members
	out        *ast.Term      // a built-in's output
	nout       int            // how many outputs it gave
	onOut      func(*ast.Term) error
	slab       docSlab // the docs read from input
}

// output is the iterator built-ins hand their results to.
func (s *state) output(t *ast.Term) error {
	s.out = t
	s.nout++
	return nil
}

// undefinedResult marks a memoized function that was undefined.
var undefinedResult = ast.NewTerm(ast.Null{})

// returned is the break depth of a ReturnLocal: it leaves every block up to
// the function.
const returned = 1 << 30

// getState takes a state from p's pool. The pool is p's own (not a
// table keyed by program): a program nobody holds is freed with its states.
func getState(p *Program) *state {
	s, _ := p.states.Get().(*state)
	if s == nil {
		s = &state{p: p, stack: make([]*ast.Term, 1024)}
		s.onOut = s.output
	}
	s.pushMemo()
	return s
}

// pushMemo opens a memo level for a `with` (or the evaluation), reusing
// one from an earlier evaluation when there is one.
func (s *state) pushMemo() {
	if s.depth == len(s.memo) {
		s.memo = append(s.memo, &memoLevel{rules: make([]*ast.Term, len(s.p.funcs))})
	}
	s.depth++
}

func (s *state) popMemo() {
	s.depth--
	s.memo[s.depth].reset()
}

func (s *state) top() *memoLevel { return s.memo[s.depth-1] }

func putState(s *state) {
	for s.depth > 0 {
		s.popMemo()
	}
	clear(s.results)
	s.results = s.results[:0]
	s.builtinErr, s.nerrs = nil, 0
	s.cancel = nil
	s.bctx = topdown.BuiltinContext{}
	clear(s.args)
	clear(s.items[:cap(s.items)])
	s.slab.reset()
	// An error leaves the frames of the calls it went through.
	clear(s.stack[:s.sp])
	s.sp = 0
	s.p.states.Put(s)
}

func (s *state) takeResults() []*ast.Term {
	out := make([]*ast.Term, len(s.results))
	copy(out, s.results)
	return out
}

// push returns a cleared frame of n slots.
func (s *state) push(n int) []*ast.Term {
	if s.sp+n > len(s.stack) {
		return make([]*ast.Term, n)
	}
	f := s.stack[s.sp : s.sp+n : s.sp+n]
	s.sp += n
	return f
}

// pop releases f, the newest frame.
func (s *state) pop(f []*ast.Term) {
	clear(f)
	n := len(f)
	if s.sp >= n && len(s.stack) > 0 && &s.stack[s.sp-n] == &f[0] {
		s.sp -= n
	}
}

func (s *state) read(f []*ast.Term, o int32) *ast.Term {
	if o >= 0 {
		return f[o]
	}
	return s.p.consts[-o-1]
}

var errCancelled = &topdown.Error{Code: topdown.CancelErr, Message: "caller cancelled query execution"}

func (s *state) cancelled() bool { return s.cancel != nil && s.cancel.Cancelled() }

// up is the break depth seen by the enclosing block of one that broke
// with depth br.
func up(br int) int {
	if br >= returned {
		return br
	}
	return br - 1
}

// run executes b. It returns -1 when b ran to its end, or the depth of the
// break that left it: 0 leaves b itself (a statement that is undefined
// breaks with 0), 1 also leaves the block around b, and so on.
func (s *state) run(f []*ast.Term, b *block) (int, error) {
	for i := range b.instrs {
		in := &b.instrs[i]
		switch in.op {
		case opNop:
		case opReturn:
			return returned, nil
		case opBreak:
			return int(in.n), nil
		case opBlock:
			for _, nb := range in.blocks {
				br, err := s.run(f, nb)
				if err != nil {
					return 0, err
				}
				if br > 0 {
					return up(br), nil
				}
			}
		case opNot:
			br, err := s.run(f, in.block)
			if err != nil {
				return 0, err
			}
			switch {
			case br < 0:
				return 0, nil
			case br > 0:
				return up(br), nil
			}
		case opScan:
			br, err := s.scan(f, in)
			if err != nil || br >= 0 {
				return br, err
			}
		case opWith:
			br, err := s.with(f, in)
			if err != nil || br >= 0 {
				return br, err
			}
		case opCall:
			if s.cancelled() {
				return 0, errCancelled
			}
			v, err := s.call(f, in.fn, in.args)
			if err != nil {
				return 0, err
			}
			if v == nil {
				return 0, nil
			}
			f[in.c] = v
		case opCallBuiltin:
			v, err := s.callBuiltin(f, in)
			if err != nil {
				return 0, err
			}
			if v == nil {
				if in.builtin.void {
					continue
				}
				return 0, nil
			}
			f[in.c] = v
		case opCallDynamic:
			fn := s.p.dynamic(s.read, f, in.path)
			if fn == nil {
				return 0, nil
			}
			v, err := s.call(f, fn, in.args)
			if err != nil {
				return 0, err
			}
			if v == nil {
				return 3, nil
			}
			f[in.c] = v
		case opDot:
			v := dot(s.read(f, in.a), s.read(f, in.b))
			if v == nil {
				return 0, nil
			}
			f[in.c] = v
		case opDotBase:
			v := dotBase(s.read(f, in.a), s.read(f, in.b))
			if v == nil {
				return 0, nil
			}
			f[in.c] = v
		case opLen:
			n, ok := length(s.read(f, in.a))
			if !ok {
				return 0, nil
			}
			f[in.c] = ast.InternedTerm(n)
		case opAssignInt:
			f[in.c] = ast.InternedTerm(in.n)
		case opAssignVar:
			f[in.c] = s.read(f, in.a)
		case opAssignVarOnce:
			v := s.read(f, in.a)
			if old := f[in.c]; old != nil && !equal(old, v) {
				return 0, conflict(in)
			}
			f[in.c] = v
		case opResetLocal:
			f[in.c] = nil
		case opMakeNull:
			f[in.c] = ast.InternedNullTerm
		case opMakeNumberInt:
			f[in.c] = ast.InternedTerm(in.n)
		case opMakeNumberRef:
			f[in.c] = s.p.consts[-in.a-1]
		case opMakeArray:
			f[in.c] = ast.NewTerm(ast.NewArrayWithCapacity(int(in.n)))
		case opBuildArray:
			elems := s.slab.elemList(len(in.args))
			for i, a := range in.args {
				elems[i] = s.read(f, a)
			}
			f[in.c] = s.slab.buildArray(elems)
		case opBuildObject:
			// The members are copied into the object: items is scratch.
			items := s.items[:0]
			for i := 0; i < len(in.args); i += 2 {
				items = append(items, [2]*ast.Term{s.read(f, in.args[i]), s.read(f, in.args[i+1])})
			}
			s.items = items
			f[in.c] = s.slab.buildObject(items)
		case opMakeObject:
			f[in.c] = emptyObjectTerm
		case opMakeSet:
			f[in.c] = emptySetTerm
		case opEqual:
			if !equal(s.read(f, in.a), s.read(f, in.b)) {
				return 0, nil
			}
		case opNotEqual:
			if equal(s.read(f, in.a), s.read(f, in.b)) {
				return 0, nil
			}
		case opIsArray:
			if v := s.read(f, in.a); v == nil || !isArray(v) {
				return 0, nil
			}
		case opIsObject:
			if v := s.read(f, in.a); v == nil || !isObject(v) {
				return 0, nil
			}
		case opIsSet:
			if v := s.read(f, in.a); v == nil || !isSet(v) {
				return 0, nil
			}
		case opIsDefined:
			if f[in.a] == nil {
				return 0, nil
			}
		case opIsUndefined:
			if f[in.a] != nil {
				return 0, nil
			}
		case opArrayAppend:
			appendTo(f[in.c], s.read(f, in.a))
		case opObjectInsert, opObjectInsertOnce:
			if !s.objectInsert(f, in) {
				return 0, conflict(in)
			}
		case opObjectMerge:
			f[in.c] = merge(f[in.a], f[in.b])
		case opSetAdd:
			s.setAt(f, in.c).Add(solid(s.read(f, in.a)))
		case opResultSetAdd:
			s.results = append(s.results, solid(f[in.a]))
		default:
			return 0, fmt.Errorf("unknown instruction %d", in.op)
		}
	}
	return -1, nil
}

// emptySetTerm and emptyObjectTerm are what MakeSet and MakeObject put in
// their target: most sets and objects a policy makes (its deny and warn
// rules, above all) stay empty, so one is only allocated at its first
// insert, which puts it in the target's slot. The planner fills a set or an
// object through the slot that made it before it hands the value on (OPA's
// evaluation cases run on the VM in go test ./policy/vm/), so no other slot
// holds the shared empty one when it is replaced. Nothing changes them.
var (
	emptySetTerm    = ast.NewTerm(ast.NewSet())
	emptyObjectTerm = ast.NewTerm(ast.NewObject())
)

// setAt returns the set in slot c for an insert.
func (s *state) setAt(f []*ast.Term, c int32) ast.Set {
	if f[c] == emptySetTerm {
		f[c] = ast.NewTerm(ast.NewSet())
	}
	return f[c].Value.(ast.Set)
}

// objectInsert is ObjectInsert and ObjectInsertOnce; false is the
// latter's conflict. An object that gets a doc as its first member is
// built as a doc.
func (s *state) objectInsert(f []*ast.Term, in *instr) bool {
	k, v := s.read(f, in.a), s.read(f, in.b)
	once := in.op == opObjectInsertOnce
	if d, ok := f[in.c].Value.(*doc); ok {
		return d.insert(f, in.c, k, v, once)
	}
	if _, ok := v.Value.(*doc); ok {
		// docOf only reads the object, the shared empty one too.
		if d := s.slab.docOf(f[in.c].Value.(ast.Object)); d != nil {
			f[in.c] = newDoc(d)
			return d.insert(f, in.c, k, v, once)
		}
	}
	if f[in.c] == emptyObjectTerm {
		f[in.c] = ast.NewTerm(ast.NewObject())
	}
	return insertInto(f[in.c].Value.(ast.Object), k, v, once)
}

// docOf is a built object doc with obj's members, nil when obj has a key
// that is no scalar.
func (b *docSlab) docOf(obj ast.Object) *doc {
	d := b.doc()
	d.built, d.kids = true, b.fields(obj.Len()+1)
	if obj.Until(func(k, v *ast.Term) bool {
		d.add(k, v)
		return !isScalarValue(k)
	}) {
		return nil
	}
	return d
}

// conflict returns a copy of in's conflict error, which the caller may
// change.
func conflict(in *instr) error {
	e := *in.conflict
	return &e
}

// scan runs in's block for every element of its source. Inside the block,
// depth 0 moves on to the next element and depth 1 leaves the scan.
func (s *state) scan(f []*ast.Term, in *instr) (int, error) {
	src := f[in.a]
	if src == nil {
		return -1, nil
	}
	switch x := src.Value.(type) {
	case *ast.Array:
		for i := range x.Len() {
			if br, done, err := s.step(f, in, ast.InternedTerm(i), x.Elem(i)); done {
				return br, err
			}
		}
	case ast.Object:
		for _, k := range x.Keys() {
			if br, done, err := s.step(f, in, k, x.Get(k)); done {
				return br, err
			}
		}
	case ast.Set:
		for _, t := range x.Slice() {
			if br, done, err := s.step(f, in, t, t); done {
				return br, err
			}
		}
	case *doc:
		return s.scanDoc(f, in, x)
	}
	return -1, nil
}

func (s *state) scanDoc(f []*ast.Term, in *instr, d *doc) (int, error) {
	if d.isArr {
		for i := range d.len() {
			if br, done, err := s.step(f, in, ast.InternedTerm(i), d.elem(i)); done {
				return br, err
			}
		}
		return -1, nil
	}
	for _, k := range d.keys() {
		if br, done, err := s.step(f, in, k, d.dot(k)); done {
			return br, err
		}
	}
	return -1, nil
}

// step runs a scan's block for one element; done ends the scan with br.
func (s *state) step(f []*ast.Term, in *instr, k, v *ast.Term) (br int, done bool, err error) {
	if s.cancelled() {
		return 0, true, errCancelled
	}
	f[in.b], f[in.c] = k, v
	br, err = s.run(f, in.block)
	switch {
	case err != nil:
		return 0, true, err
	case br <= 0:
		return 0, false, nil
	case br == 1:
		return -1, true, nil
	}
	return up(up(br)), true, nil
}

// with runs in's block with a local (input or data) replaced at a path, in
// a fresh memo table.
func (s *state) with(f []*ast.Term, in *instr) (int, error) {
	saved := f[in.c]
	v := s.read(f, in.a)
	if len(in.path) > 0 {
		v = upsert(saved, in.path, s.p.consts, v)
	}
	f[in.c] = v
	s.pushMemo()
	br, err := s.run(f, in.block)
	s.popMemo()
	f[in.c] = saved
	switch {
	case err != nil:
		return 0, err
	case br < 0:
		return -1, nil
	case br == 0:
		return 0, nil
	}
	return up(br), nil
}

// call runs fn with the given argument operands and returns its value, nil
// when undefined.
func (s *state) call(f []*ast.Term, fn *function, args []int32) (*ast.Term, error) {
	if fn.constant {
		if v := s.p.constVals[fn.id].Load(); v != nil {
			if v == undefinedResult {
				return nil, nil
			}
			return v, nil
		}
	}
	var memo []*ast.Term
	if fn.id >= 0 {
		memo = s.top().rules
		if v := memo[fn.id]; v != nil {
			if v == undefinedResult {
				return nil, nil
			}
			return v, nil
		}
	}
	if len(args) != len(fn.params) {
		return nil, fmt.Errorf("function %s called with %d arguments, want %d", fn.name, len(args), len(fn.params))
	}
	errs := s.nerrs
	g := s.push(fn.nlocals)
	for i, a := range args {
		g[fn.params[i]] = s.read(f, a)
	}
	// A function with arguments: remembered by their values, as topdown
	// does (the two first are input and data).
	var key []*ast.Term
	var h int
	if fn.id < 0 && len(fn.params) > 2 {
		key = make([]*ast.Term, len(fn.params)-2)
		for i, p := range fn.params[2:] {
			key[i] = g[p]
		}
		h = argsHash(key)
		if v := s.top().lookup(fn, key, h); v != nil {
			s.pop(g)
			if v == undefinedResult {
				return nil, nil
			}
			return v, nil
		}
	}
	for _, b := range fn.blocks {
		br, err := s.run(g, b)
		if err != nil {
			s.pop(g)
			return nil, err
		}
		if br > 0 {
			break
		}
	}
	v := g[fn.ret]
	s.pop(g)
	m := v
	if m == nil {
		m = undefinedResult
	}
	if key != nil {
		s.top().store(fn, key, h, m)
	}
	if memo != nil {
		memo[fn.id] = m
		// A value reached past a built-in's error is not kept for
		// other evaluations: in strict mode they must see the error.
		// It outlives the evaluation, so it holds no doc: those are the
		// slab's, which the next evaluation reuses.
		if fn.constant && s.nerrs == errs {
			s.p.constVals[fn.id].Store(solid(m))
		}
	}
	return v, nil
}

// callBuiltin calls OPA's implementation of a built-in. An error is, as in
// topdown, an undefined call, kept to be returned in strict mode.
func (s *state) callBuiltin(f []*ast.Term, in *instr) (*ast.Term, error) {
	b := in.builtin
	args := s.args[:0]
	for _, a := range in.args {
		args = append(args, s.read(f, a))
	}
	s.args = args
	if b.native != nil {
		if v, ok := b.native(args); ok {
			return v, nil
		}
	}
	for i, a := range args {
		args[i] = solid(a)
	}
	s.out, s.nout = nil, 0
	s.bctx.Location = b.astLoc
	if b.relation {
		return s.callRelation(b, args)
	}
	if err := b.fn(s.bctx, args, s.onOut); err != nil {
		return nil, s.failed(err)
	}
	if s.nout > 1 {
		return nil, fmt.Errorf("built-in %s gave %d results; the VM takes one", b.name, s.nout)
	}
	out := s.out
	s.out = nil
	if b.void {
		return nil, nil
	}
	return out, nil
}

// callRelation calls a built-in with several outputs and returns them as an
// array, which the plan scans (planner.planExprCallRelation; OPA's Wasm
// walk returns such an array too).
func (s *state) callRelation(b *builtinCall, args []*ast.Term) (*ast.Term, error) {
	var outs []*ast.Term
	err := b.fn(s.bctx, args, func(t *ast.Term) error {
		outs = append(outs, t)
		return nil
	})
	if err != nil {
		return nil, s.failed(err)
	}
	return ast.ArrayTerm(outs...), nil
}

// failed handles a built-in's error: a Halt ends the evaluation, any other
// makes the call undefined and is kept for strict mode.
func (s *state) failed(err error) error {
	var h topdown.Halt
	if errors.As(err, &h) {
		return h.Err
	}
	if s.builtinErr == nil {
		s.builtinErr = err
	}
	s.nerrs++
	return nil
}
