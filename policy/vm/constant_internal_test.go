package vm

import (
	"testing"

	"github.com/open-policy-agent/opa/v1/ir"
)

// rule is a policy of one function of input and data (a rule) with the
// given statements, returning local 2.
func rule(strs []string, stmts ...ir.Stmt) *ir.Policy {
	static := &ir.Static{}
	for _, s := range strs {
		static.Strings = append(static.Strings, &ir.StringConst{Value: s})
	}
	stmts = append(stmts, &ir.ReturnLocalStmt{Source: 2})
	return &ir.Policy{
		Static: static,
		Plans:  &ir.Plans{},
		Funcs: &ir.Funcs{Funcs: []*ir.Func{{
			Name: "g0.data.t.p", Path: []string{"g0", "t", "p"},
			Params: []ir.Local{ir.Input, ir.Data}, Return: 2,
			Blocks: []*ir.Block{{Stmts: stmts}},
		}}},
	}
}

func op(v any) ir.Operand {
	switch v := v.(type) {
	case ir.Local:
		return ir.Operand{Value: v}
	case int:
		return ir.Operand{Value: ir.StringIndex(v)}
	}
	panic(v)
}

// TestConstantRules: the VM keeps a rule's value across evaluations only
// when every evaluation would compute the same.
func TestConstantRules(t *testing.T) {
	for _, tc := range []struct {
		name     string
		policy   *ir.Policy
		constant bool
	}{
		{"a literal", rule([]string{"a"},
			&ir.MakeArrayStmt{Capacity: 1, Target: 3},
			&ir.ArrayAppendStmt{Array: 3, Value: op(0)},
			&ir.AssignVarStmt{Source: op(ir.Local(3)), Target: 2}), true},
		{"an array holding input", rule(nil,
			&ir.MakeArrayStmt{Capacity: 1, Target: 3},
			&ir.ArrayAppendStmt{Array: 3, Value: op(ir.Input)},
			&ir.AssignVarStmt{Source: op(ir.Local(3)), Target: 2}), false},
		{"an object holding data", rule([]string{"k"},
			&ir.MakeObjectStmt{Target: 3},
			&ir.ObjectInsertStmt{Object: 3, Key: op(0), Value: op(ir.Data)},
			&ir.AssignVarStmt{Source: op(ir.Local(3)), Target: 2}), false},
		{"a deterministic built-in", rule([]string{"a"},
			&ir.CallStmt{Func: "upper", Args: []ir.Operand{op(0)}, Result: 2}), true},
		{"a certificate verification", rule([]string{"pem"},
			&ir.CallStmt{Func: "crypto.x509.parse_and_verify_certificates", Args: []ir.Operand{op(0)}, Result: 2}), false},
		{"a non-deterministic built-in", rule(nil,
			&ir.CallStmt{Func: "time.now_ns", Result: 2}), false},
		{"print", rule([]string{"a"},
			&ir.MakeArrayStmt{Capacity: 1, Target: 3},
			&ir.CallStmt{Func: "internal.print", Args: []ir.Operand{op(ir.Local(3))}, Result: 4},
			&ir.AssignVarStmt{Source: op(0), Target: 2}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(tc.policy, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.funcs[0].constant; got != tc.constant {
				t.Fatalf("constant = %v, want %v", got, tc.constant)
			}
		})
	}
}
