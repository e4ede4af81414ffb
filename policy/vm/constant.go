package vm

import (
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
)

// markConstants finds the rules whose value does not depend on input or
// data: functions of the two base parameters that use them only to call
// other such rules, and call only deterministic built-ins with a value.
// Tables written out in a policy are such rules; topdown and the planner
// build them anew for every evaluation, the VM once per program
// (constVals).
func (p *Program) markConstants() {
	for _, fn := range p.funcs {
		fn.constant = fn.id >= 0
	}
	for changed := true; changed; {
		changed = false
		for _, fn := range p.funcs {
			if fn.constant && !fn.blocksConstant() {
				fn.constant, changed = false, true
			}
		}
	}
	p.constVals = make([]atomic.Pointer[ast.Term], len(p.funcs))
}

func (fn *function) blocksConstant() bool {
	for _, b := range fn.blocks {
		if !b.constant(fn.params) {
			return false
		}
	}
	return true
}

func (b *block) constant(params []int32) bool {
	isParam := func(o int32) bool {
		for _, p := range params {
			if o == p {
				return true
			}
		}
		return false
	}
	for i := range b.instrs {
		in := &b.instrs[i]
		switch in.op {
		case opCall:
			if !in.fn.constant {
				for _, a := range in.args {
					if isParam(a) {
						return false
					}
				}
			}
			continue
		case opCallBuiltin:
			// A built-in without a value (print, trace) is called for
			// its effect, which every evaluation must have.
			if in.builtin.decl.Nondeterministic || in.builtin.void || clockDependent[in.builtin.name] {
				return false
			}
		case opCallDynamic, opWith, opResultSetAdd:
			return false
		}
		for _, o := range in.reads() {
			if isParam(o) {
				return false
			}
		}
		if in.block != nil && !in.block.constant(params) {
			return false
		}
		for _, nb := range in.blocks {
			if !nb.constant(params) {
				return false
			}
		}
	}
	return true
}

// reads lists the operands in reads, constants included.
func (in *instr) reads() []int32 {
	switch in.op {
	case opReturn, opLen, opAssignVar, opAssignVarOnce, opIsArray, opIsObject,
		opIsSet, opIsDefined, opIsUndefined, opArrayAppend, opSetAdd, opScan:
		return []int32{in.a}
	case opDot, opDotBase, opEqual, opNotEqual, opObjectInsert, opObjectInsertOnce, opObjectMerge:
		return []int32{in.a, in.b}
	case opCall, opCallBuiltin, opCallDynamic, opBuildArray, opBuildObject:
		return in.args
	}
	return nil
}

// clockDependent are the built-ins that OPA does not mark
// non-deterministic but whose value depends on the time of the call:
// certificate verification checks validity against the clock.
var clockDependent = map[string]bool{
	"crypto.x509.parse_and_verify_certificates":              true,
	"crypto.x509.parse_and_verify_certificates_with_options": true,
}
