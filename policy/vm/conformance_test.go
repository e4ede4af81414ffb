package vm_test

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/test/cases"
	"github.com/open-policy-agent/opa/v1/test/cases/testdata"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/types"
	"github.com/open-policy-agent/opa/v1/util"

	"gitgate.dev/gitgate/policy/vm"
)

// TestConformance runs OPA's own evaluation cases (the v1 set that
// topdown's TestRego runs) on the VM and checks them as topdown's harness
// does (v1/topdown/exported_test.go). A case the planner or the VM refuses
// (ErrUnsupported) is skipped: the engine evaluates such a query with
// topdown. Every other case must agree with OPA.
func TestConformance(t *testing.T) {
	var (
		mu                      sync.Mutex
		passed, failed, skipped int
		why                     = map[string]int{}
	)
	for _, tc := range loadCases(t) {
		t.Run(path.Base(tc.Filename)+"/"+tc.Note, func(t *testing.T) {
			var reason string
			defer func() { // Fatal and Skip end the test in runCase
				mu.Lock()
				defer mu.Unlock()
				switch {
				case t.Failed():
					failed++
				case reason != "":
					skipped++
					why[reason]++
				default:
					passed++
				}
			}()
			reason = runCase(t, tc)
		})
	}
	t.Logf("OPA v1 cases on the VM: %d passed, %d skipped, %d failed", passed, skipped, failed)
	reasons := make([]string, 0, len(why))
	for r := range why {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool { return why[reasons[i]] > why[reasons[j]] })
	for _, r := range reasons {
		t.Logf("skipped %3d: %s", why[r], r)
	}
}

func loadCases(t *testing.T) []cases.TestCase {
	t.Helper()
	var all []cases.TestCase
	err := fs.WalkDir(testdata.V1, "v1", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		bs, err := fs.ReadFile(testdata.V1, p)
		if err != nil {
			return err
		}
		var set cases.Set
		if err := util.Unmarshal(bs, &set); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		for i := range set.Cases {
			set.Cases[i].Filename = path.Dir(p)
		}
		all = append(all, set.Cases...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 1000 {
		t.Fatalf("loaded %d cases; OPA v1.22 has over 1000", len(all))
	}
	return cases.Set{Cases: all}.Sorted().Cases
}

// runCase evaluates tc on the VM and checks the outcome. It returns why the
// case was skipped, or "".
func runCase(t *testing.T, tc cases.TestCase) string {
	t.Helper()
	for k, v := range tc.Env {
		t.Setenv(k, v)
	}
	opts := []func(*rego.Rego){
		testSleep,
		rego.Query(tc.Query),
		rego.SetRegoVersion(ast.RegoV1),
		rego.Capabilities(ast.CapabilitiesForThisVersion(ast.CapabilitiesExperimentalKeywords(tc.ExperimentalKeywords))),
	}
	for i, m := range tc.Modules {
		// topdown's harness names the modules so; some wanted errors
		// quote the file name.
		opts = append(opts, rego.Module(fmt.Sprintf("test-%d.rego", i), m))
	}
	prog, err := vm.Prepare(t.Context(), opts...)
	if errors.Is(err, vm.ErrUnsupported) {
		reason := skipReason(err)
		t.Log("skipped: ", reason)
		return reason
	}
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	data := ast.NewTerm(ast.NewObject())
	if tc.Data != nil {
		data = ast.NewTerm(ast.MustInterfaceToValue(*tc.Data))
	}
	var input *ast.Term
	switch {
	case tc.InputTerm != nil:
		input = ast.MustParseTerm(*tc.InputTerm)
	case tc.Input != nil:
		input = ast.NewTerm(ast.MustInterfaceToValue(*tc.Input))
	}
	eval := func(t *testing.T, input *ast.Term) {
		rs, err := prog.Eval(t.Context(), 0, input, data, vm.Options{
			StrictBuiltinErrors: tc.StrictError,
			Cancel:              topdown.NewCancel(),
		})
		checkOutcome(t, tc, rs, err)
	}
	eval(t, input)
	// The same input as a decoded JSON document (ast.LazyObject), which
	// the VM reads without converting: every case must come out the same.
	if tc.Input != nil {
		if doc, ok := (*tc.Input).(map[string]any); ok {
			t.Run("document input", func(t *testing.T) { eval(t, ast.NewTerm(ast.LazyObject(doc))) })
		}
	}
	return ""
}

// skipReason shortens err to what it says about the query, without the
// case's file positions, so that reasons can be counted.
func skipReason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "rule data."); i >= 0 {
		return msg[:i] + "rule ..."
	}
	if i := strings.Index(msg, "\n"); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

func checkOutcome(t *testing.T, tc cases.TestCase, rs []*ast.Term, err error) {
	t.Helper()
	if tc.WantError != nil {
		if err == nil {
			t.Fatalf("want error %q, got results %v", *tc.WantError, rs)
		}
		if !strings.Contains(err.Error(), *tc.WantError) {
			t.Fatalf("want error containing %q, got %q", *tc.WantError, err)
		}
	}
	if tc.WantErrorCode != nil {
		var te *topdown.Error
		if !errors.As(err, &te) {
			t.Fatalf("want a topdown error of code %s, got %v (results %v)", *tc.WantErrorCode, err, rs)
		}
		if te.Code != *tc.WantErrorCode {
			t.Fatalf("want error code %q, got %q (%v)", *tc.WantErrorCode, te.Code, err)
		}
	}
	if err != nil && tc.WantErrorCode == nil && tc.WantError == nil {
		t.Fatalf("unexpected error: %v", err)
	}
	switch {
	case tc.WantResult != nil:
		checkResults(t, *tc.WantResult, rs, tc.SortBindings, tc.IgnoreGeneratedVars)
	case tc.WantDefined != nil:
		if got := len(rs) > 0; got != *tc.WantDefined {
			t.Fatalf("want defined %v, got results %v", *tc.WantDefined, rs)
		}
	case tc.WantErrorCode == nil && tc.WantError == nil:
		t.Fatal("the case wants neither a result nor an error")
	}
}

// checkResults compares the result set as a set of binding objects, as
// topdown's testAssertResultSet does; the bindings the query compiler
// generated are dropped as rego's generateResult drops them.
func checkResults(t *testing.T, want []map[string]any, rs []*ast.Term, sortBindings, ignoreGenerated bool) {
	t.Helper()
	exp := ast.NewSet()
	for _, b := range want {
		obj := ast.NewObject()
		for k, v := range b {
			obj.Insert(ast.StringTerm(k), ast.NewTerm(ast.MustInterfaceToValue(v)))
		}
		exp.Add(ast.NewTerm(obj))
	}
	got := ast.NewSet()
	for _, r := range rs {
		bindings, ok := r.Value.(ast.Object)
		if !ok {
			t.Fatalf("result %v is not an object", r)
		}
		obj := ast.NewObject()
		err := bindings.Iter(func(k, term *ast.Term) error {
			name, ok := k.Value.(ast.String)
			if !ok {
				return fmt.Errorf("binding name %v is not a string", k)
			}
			if generated(ast.Var(name)) || ignoreGenerated && strings.HasPrefix(string(name), "__localq") {
				return nil
			}
			v, err := ast.JSON(term.Value)
			if err != nil {
				return err
			}
			if sortBindings {
				slices.SortFunc(v.([]any), util.Compare)
			}
			obj.Insert(k, ast.NewTerm(ast.MustInterfaceToValue(v)))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got.Add(ast.NewTerm(obj))
	}
	if exp.Compare(got) != 0 {
		t.Fatalf("unexpected query result:\nexp: %v\ngot: %v", exp, got)
	}
}

// generated reports the variables rego leaves out of a result
// (rego.generateResult).
func generated(v ast.Var) bool {
	return strings.HasPrefix(string(v), ast.WildcardPrefix+"term") ||
		strings.HasPrefix(string(v), "^term") ||
		v.IsGenerated() || v.IsWildcard()
}

// testSleep is the built-in OPA's harness adds for the time caching case
// (topdown/topdown_test.go).
var testSleep = rego.Function1(&rego.Function{
	Name: "test.sleep",
	Decl: types.NewFunction(types.Args(types.S), types.NewNull()),
}, func(_ rego.BuiltinContext, op *ast.Term) (*ast.Term, error) {
	d, err := time.ParseDuration(string(op.Value.(ast.String)))
	if err != nil {
		return nil, err
	}
	time.Sleep(d)
	return ast.NullTerm(), nil
})
