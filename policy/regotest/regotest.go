// Package regotest runs Rego unit tests (rules named test_*) with OPA's
// tester, for `gitgate test`: the same loading as `opa test` (Rego modules
// and JSON/YAML data files from folders), results in a stable order.
package regotest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/topdown/lineage"

	"gitgate.dev/gitgate/policy"
)

// DefaultTimeout bounds each test. `opa test` allows 5 s; table-driven
// tests over every workload kind and both input shapes take seconds on a
// busy CI machine, so gitgate allows 30 s: still enough to stop a runaway
// test, not so little that a loaded machine fails a correct one.
const DefaultTimeout = 30 * time.Second

// Options configure Run.
type Options struct {
	// RegoVersion is the syntax of the modules (default v1).
	RegoVersion policy.RegoVersion
	// Profile restricts the builtins tests and policies may use; with
	// policy.ProfileAdmission a library is proven to compile for the
	// webhook.
	Profile policy.Profile
	// Run, when set, is a regular expression selecting tests by name.
	Run string
	// Timeout bounds each test (default DefaultTimeout).
	Timeout time.Duration
	// Trace records evaluation traces, which verbose reports show for
	// failing tests.
	Trace bool
}

// CompileError is a module that does not parse or compile: no test ran.
type CompileError struct{ Err error }

func (e *CompileError) Error() string { return e.Err.Error() }

func (e *CompileError) Unwrap() error { return e.Err }

// Run loads the Rego modules and data files under paths and runs every
// test. Results are sorted by file, then package and test name. A load or
// compile failure is a *CompileError.
func Run(ctx context.Context, paths []string, opts Options) ([]*tester.Result, error) {
	if len(paths) == 0 {
		return nil, errors.New("no paths to test")
	}
	popts := ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true}
	if opts.RegoVersion == policy.RegoV0 {
		popts.RegoVersion = ast.RegoV0
	}
	modules, store, err := tester.LoadWithParserOptions(paths, nil, popts)
	if err != nil {
		return nil, &CompileError{Err: fmt.Errorf("load: %w", err)}
	}
	timeout := cmp.Or(opts.Timeout, DefaultTimeout)
	compiler := ast.NewCompiler().
		WithCapabilities(policy.Capabilities(opts.Profile)).
		WithEnablePrintStatements(true).
		WithDefaultRegoVersion(popts.RegoVersion)
	runner := tester.NewRunner().
		SetCompiler(compiler).
		SetStore(store).
		SetModules(modules).
		CapturePrintOutput(true).
		EnableTracing(opts.Trace).
		SetTimeout(timeout).
		Filter(opts.Run)

	var results []*tester.Result
	err = storage.Txn(ctx, store, storage.TransactionParams{}, func(txn storage.Transaction) error {
		ch, err := runner.RunTests(ctx, txn)
		if err != nil {
			return &CompileError{Err: err}
		}
		for r := range ch {
			if opts.Trace {
				// Keep what `opa test -v` shows: notes and failures,
				// with their lineage.
				r.Trace = lineage.Filter(r.Trace, func(e *topdown.Event) bool {
					return e.Op == topdown.NoteOp || e.Op == topdown.FailOp
				})
			}
			results = append(results, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(results, func(a, b *tester.Result) int {
		return cmp.Or(
			cmp.Compare(a.Location.File, b.Location.File),
			cmp.Compare(a.Package, b.Package),
			cmp.Compare(a.Location.Row, b.Location.Row),
			cmp.Compare(a.Name, b.Name),
		)
	})
	return results, nil
}

// Failed reports whether any test failed or errored (skipped tests do not
// fail a run).
func Failed(results []*tester.Result) bool {
	return slices.ContainsFunc(results, func(r *tester.Result) bool { return !r.Pass() && !r.Skip })
}
