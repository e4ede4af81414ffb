package vm

import (
	"context"
	"errors"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/rego"
)

// target is the rego target under which OPA's planner hands the plan of a
// prepared query to this package.
const target = "gitgate-vm"

func init() { rego.RegisterPlugin(target, plugin{}) }

// plugin receives the ir.Policy of a query prepared with rego.Target(target)
// and compiles it. The Program reaches Prepare through the context: OPA
// keeps the plugin's evaluator to itself.
type plugin struct{}

type captureKey struct{}

type capture struct {
	prog *Program
	err  error
}

func (plugin) IsTarget(t string) bool { return t == target }

func (plugin) PrepareForEval(ctx context.Context, policy *ir.Policy, opts ...rego.PrepareOption) (rego.TargetPluginEval, error) {
	c, ok := ctx.Value(captureKey{}).(*capture)
	if !ok {
		return nil, errors.New("the gitgate-vm target is prepared through vm.Prepare")
	}
	cfg := &rego.PrepareConfig{}
	for _, o := range opts {
		o(cfg)
	}
	if len(policy.UnplannedRules) > 0 {
		c.err = fmt.Errorf("%w: the planner left out rule %s", ErrUnsupported, policy.UnplannedRules[0].Path)
		return nil, c.err
	}
	// A plan the VM cannot compile is one it cannot run: the caller falls
	// back to topdown, as for a query the planner refuses.
	if c.prog, c.err = Compile(policy, cfg.BuiltinFuncs()); c.err != nil {
		c.err = fmt.Errorf("%w: %w", ErrUnsupported, c.err)
	}
	return evaluator{}, c.err
}

type evaluator struct{}

func (evaluator) Eval(context.Context, *rego.EvalContext, ast.Value) (ast.Value, error) {
	return nil, errors.New("a gitgate-vm query is evaluated through vm.Program.Eval")
}

// ErrUnsupported wraps the reasons a query cannot run on the VM; the
// caller evaluates it with topdown instead.
var ErrUnsupported = errors.New("query not supported by the VM")

// Prepare plans the query that opts describe (rego.Query, rego.Compiler,
// rego.Capabilities, ...) with OPA's planner and compiles the plan. The
// program has one plan, index 0, whose results are objects binding the
// query's variables by name.
func Prepare(ctx context.Context, opts ...func(*rego.Rego)) (*Program, error) {
	c := &capture{}
	ctx = context.WithValue(ctx, captureKey{}, c)
	opts = append(opts[:len(opts):len(opts)], rego.Target(target))
	if _, err := rego.New(opts...).PrepareForEval(ctx); err != nil {
		if c.err != nil {
			return nil, c.err
		}
		return nil, fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	if c.prog == nil {
		return nil, errors.New("the planner produced no program")
	}
	return c.prog, nil
}
