package policies_test

import (
	"context"
	"io/fs"
	"path"
	"sort"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"gitgate.dev/gitgate/policies"
)

// regoFile is one .rego file of the embedded library.
type regoFile struct {
	name   string // slash path inside the library, like pss/baseline/privileged/policy.rego
	source []byte
}

// isTestFile reports whether name holds Rego tests or test fixtures.
func isTestFile(name string) bool { return strings.HasSuffix(name, "_test.rego") }

// libraryFiles reads every .rego file of the embedded library, sorted by name.
func libraryFiles(t testing.TB) []regoFile {
	t.Helper()
	var files []regoFile
	err := fs.WalkDir(policies.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || path.Ext(name) != ".rego" {
			return nil
		}
		b, err := fs.ReadFile(policies.FS(), name)
		if err != nil {
			return err
		}
		files = append(files, regoFile{name: name, source: b})
		return nil
	})
	if err != nil {
		t.Fatalf("walk library: %v", err)
	}
	if len(files) == 0 {
		t.Fatal("the embedded library holds no .rego file")
	}
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	return files
}

// parseLibrary parses the library's files as Rego v1 with annotations;
// withTests adds the *_test.rego files.
func parseLibrary(t testing.TB, withTests bool) map[string]*ast.Module {
	t.Helper()
	modules := map[string]*ast.Module{}
	for _, f := range libraryFiles(t) {
		if isTestFile(f.name) && !withTests {
			continue
		}
		m, err := ast.ParseModuleWithOpts(f.name, string(f.source), ast.ParserOptions{
			RegoVersion:       ast.RegoV1,
			ProcessAnnotation: true,
		})
		if err != nil {
			t.Fatalf("parse %s: %v", f.name, err)
		}
		modules[f.name] = m
	}
	return modules
}

// compileLibrary compiles the library's policies (no tests) with caps.
func compileLibrary(t testing.TB, caps *ast.Capabilities) *ast.Compiler {
	t.Helper()
	c := ast.NewCompiler().WithCapabilities(caps).WithDefaultRegoVersion(ast.RegoV1)
	if c.Compile(parseLibrary(t, false)); c.Failed() {
		t.Fatalf("compile library: %v", c.Errors)
	}
	return c
}

// libraryQuery returns a query for the list of every deny and warn result of
// every policy of the library.
func libraryQuery(t testing.TB) string {
	t.Helper()
	var refs []string
	for name, m := range parseLibrary(t, false) {
		if path.Base(name) != "policy.rego" {
			continue
		}
		for _, rule := range []string{"deny", "warn"} {
			if hasRule(m, rule) {
				refs = append(refs, m.Package.Path.String()+"."+rule)
			}
		}
	}
	sort.Strings(refs)
	return "[x | some rs in [" + strings.Join(refs, ", ") + "]; some x in rs]"
}

// prepare compiles query against the library once, for many evaluations.
func prepare(t testing.TB, c *ast.Compiler, query string) rego.PreparedEvalQuery {
	t.Helper()
	pq, err := rego.New(rego.Query(query), rego.Compiler(c), rego.StrictBuiltinErrors(true)).PrepareForEval(context.Background())
	if err != nil {
		t.Fatalf("prepare %q: %v", query, err)
	}
	return pq
}

// results evaluates a query whose single expression is a list of library
// results (deny or warn objects) and returns them.
func results(ctx context.Context, pq rego.PreparedEvalQuery, input any) ([]map[string]any, error) {
	rs, err := pq.Eval(ctx, rego.EvalInput(input))
	if err != nil {
		return nil, err
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return nil, errUnexpectedResultSet
	}
	list, ok := rs[0].Expressions[0].Value.([]any)
	if !ok {
		return nil, errUnexpectedResultSet
	}
	out := make([]map[string]any, 0, len(list))
	for _, v := range list {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, errUnexpectedResultSet
		}
		out = append(out, m)
	}
	return out, nil
}

type testError string

func (e testError) Error() string { return string(e) }

const errUnexpectedResultSet = testError("query did not return one list of result objects")

// policyIDs returns the sorted distinct details.policy values of results.
func policyIDs(rs []map[string]any) []string {
	seen := map[string]bool{}
	for _, r := range rs {
		if d, ok := r["details"].(map[string]any); ok {
			if id, ok := d["policy"].(string); ok {
				seen[id] = true
			}
		}
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// checkResultShape reports what is wrong with one library result, or "".
func checkResultShape(r map[string]any) string {
	msg, ok := r["msg"].(string)
	if !ok || msg == "" {
		return "msg is not a non-empty string"
	}
	d, ok := r["details"].(map[string]any)
	if !ok {
		return "details is not an object"
	}
	for _, k := range []string{"policy", "severity", "kind", "name", "field"} {
		if s, ok := d[k].(string); !ok || s == "" {
			return "details." + k + " is not a non-empty string"
		}
	}
	if _, ok := d["value"]; !ok {
		return "details.value is missing"
	}
	return ""
}
