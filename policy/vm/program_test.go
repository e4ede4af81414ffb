package vm_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
	"weak"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"

	"gitgate.dev/gitgate/policy/vm"
)

// plan wraps statements into a policy of one plan, with strings as its
// string constants.
func plan(strs []string, stmts ...ir.Stmt) *ir.Policy {
	static := &ir.Static{}
	for _, s := range strs {
		static.Strings = append(static.Strings, &ir.StringConst{Value: s})
	}
	return &ir.Policy{
		Static: static,
		Plans:  &ir.Plans{Plans: []*ir.Plan{{Name: "p", Blocks: []*ir.Block{{Stmts: stmts}}}}},
		Funcs:  &ir.Funcs{},
	}
}

func str(i int) ir.Operand        { return ir.Operand{Value: ir.StringIndex(i)} }
func local(l ir.Local) ir.Operand { return ir.Operand{Value: l} }

// TestCompileRejectsMalformedPlans: a plan that refers to what it does not
// hold is an error of Compile, never a panic, in Compile or later in Eval.
func TestCompileRejectsMalformedPlans(t *testing.T) {
	withFunc := func(p *ir.Policy, f *ir.Func) *ir.Policy {
		p.Funcs.Funcs = append(p.Funcs.Funcs, f)
		return p
	}
	for _, tc := range []struct {
		name   string
		policy *ir.Policy
		want   string
	}{
		{"string index out of range", plan(nil,
			&ir.DotStmt{Source: local(ir.Input), Key: str(3), Target: 2}), "string constant 3 out of range"},
		{"negative string index", plan([]string{"a"},
			&ir.EqualStmt{A: str(-1), B: str(0)}), "string constant -1 out of range"},
		{"number constant out of range", plan(nil,
			&ir.MakeNumberRefStmt{Index: 1, Target: 2}), "number constant 1 out of range"},
		{"with path out of range", plan(nil,
			&ir.WithStmt{Local: ir.Input, Path: []int{0}, Value: ir.Operand{Value: ir.Bool(true)}, Block: &ir.Block{}}),
			"string constant 0 out of range"},
		{"unknown built-in", plan(nil,
			&ir.CallStmt{Func: "no.such.builtin", Args: []ir.Operand{local(ir.Input)}, Result: 2}),
			`unknown built-in function "no.such.builtin"`},
		{"negative local", plan(nil,
			&ir.AssignIntStmt{Value: 1, Target: -1}), "local -1 out of range"},
		{"huge local", plan(nil,
			&ir.MakeNullStmt{Target: 1 << 30}), "local 1073741824 out of range"},
		{"local out of range in a function", withFunc(plan(nil),
			&ir.Func{Name: "f", Params: []ir.Local{0, 1}, Return: 1 << 25, Blocks: []*ir.Block{{}}}),
			"local 33554432 out of range"},
		{"operand without a value", plan(nil,
			&ir.EqualStmt{A: ir.Operand{}, B: local(ir.Input)}), "unknown operand"},
		{"no string table", &ir.Policy{Plans: plan(nil, &ir.EqualStmt{A: str(0), B: str(0)}).Plans},
			"string constant 0 out of range"},
		{"missing block", plan(nil, &ir.ScanStmt{Source: ir.Input, Key: 2, Value: 3}), "no block"},
		{"missing statement", plan(nil, nil), "no statement"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prog, err := vm.Compile(tc.policy, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Compile: program %v, error %v; want an error containing %q", prog, err, tc.want)
			}
		})
	}
}

// TestEvalRejectsPlanIndex: the plan to run is named by index.
func TestEvalRejectsPlanIndex(t *testing.T) {
	prog, err := vm.Compile(plan(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{-1, 1} {
		if rs, err := prog.Eval(t.Context(), i, nil, ast.NewTerm(ast.NewObject()), vm.Options{}); err == nil {
			t.Errorf("plan %d: results %v, want an error", i, rs)
		}
	}
	if _, err := prog.Eval(t.Context(), 0, nil, ast.NewTerm(ast.NewObject()), vm.Options{}); err != nil {
		t.Errorf("plan 0: %v", err)
	}
}

// TestCancelStopsEvaluation: a query that would run for minutes stops soon
// after Options.Cancel is cancelled, with topdown's cancellation error.
func TestCancelStopsEvaluation(t *testing.T) {
	// 10^12 iterations of a rule that scans and compares.
	module := `package t
n := numbers.range(1, 1000000)
p contains [x, y] if { some x in n; some y in n; x + y == -1 }`
	prog, err := vm.Prepare(t.Context(), rego.Query("x := data.t.p"), rego.Module("t.rego", module))
	if err != nil {
		t.Fatal(err)
	}
	c := topdown.NewCancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := prog.Eval(context.Background(), 0, nil, ast.NewTerm(ast.NewObject()), vm.Options{Cancel: c})
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	c.Cancel()
	select {
	case err := <-done:
		var te *topdown.Error
		if !errors.As(err, &te) || te.Code != topdown.CancelErr {
			t.Fatalf("error %v, want a topdown error of code %s", err, topdown.CancelErr)
		}
		t.Logf("stopped %v after the start", time.Since(start))
	case <-time.After(10 * time.Second):
		t.Fatal("evaluation still running 10s after cancellation")
	}
}

// TestProgramsAreCollected: a program nobody holds is freed, with the
// evaluation states it pooled. Engines are compiled anew on every policy
// change of a long-running webhook.
func TestProgramsAreCollected(t *testing.T) {
	var ptrs []weak.Pointer[vm.Program]
	for range 4 {
		prog, err := vm.Prepare(t.Context(), rego.Query("x := data.t.p"), rego.Module("t.rego", "package t\np := input.a"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := prog.Eval(t.Context(), 0, ast.NewTerm(ast.NewObject()), ast.NewTerm(ast.NewObject()), vm.Options{}); err != nil {
			t.Fatal(err)
		}
		ptrs = append(ptrs, weak.Make(prog))
	}
	for range 3 {
		runtime.GC()
	}
	for i, p := range ptrs {
		if p.Value() != nil {
			t.Errorf("program %d is still reachable after its last use", i)
		}
	}
}
