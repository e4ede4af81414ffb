package policies_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestRegoUnitTests runs every test_ rule of the library with OPA's tester,
// as `gitgate test policies/` does, and lists every failing test and case.
func TestRegoUnitTests(t *testing.T) {
	modules := parseLibrary(t, true)
	ch, err := tester.NewRunner().
		SetCompiler(ast.NewCompiler().WithDefaultRegoVersion(ast.RegoV1).WithEnablePrintStatements(true)).
		SetDefaultRegoVersion(ast.RegoV1).
		SetTimeout(time.Minute).
		CapturePrintOutput(true).
		RaiseBuiltinErrors(true).
		SetModules(modules).
		RunTests(t.Context(), nil)
	if err != nil {
		t.Fatalf("compile library with tests: %v", err)
	}
	var failures []string
	passed := 0
	perPackage := map[string]int{}
	for r := range ch {
		id := fmt.Sprintf("%s.%s (%s)", r.Package, r.Name, r.Location)
		perPackage[strings.TrimSuffix(strings.TrimPrefix(r.Package, "data."), "_test")]++
		switch {
		case r.Error != nil:
			failures = append(failures, fmt.Sprintf("%s: error: %v", id, r.Error))
		case r.Skip:
			failures = append(failures, id+": skipped (todo_ tests are not allowed in the library)")
		case r.Fail:
			failures = append(failures, fmt.Sprintf("%s: FAIL%s%s", id, failedCases(r.SubResults), output(r.Output)))
		default:
			passed++
		}
	}
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("%d Rego tests passed, %d failed", passed, len(failures))
	// Every policy package must have run tests.
	for _, p := range policyFolders(t) {
		if perPackage["gitgate."+strings.ReplaceAll(p, "/", ".")] == 0 {
			t.Errorf("policy %s ran no Rego tests", p)
		}
	}
}

func failedCases(srm tester.SubResultMap) string {
	var names []string
	for name, sr := range srm.Iter {
		if sr.Fail {
			names = append(names, strings.Join(name, " / "))
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return "; failing cases: " + strings.Join(names, ", ")
}

func output(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return "\n" + string(b)
}

// policyFolders returns the folders that hold a policy.rego, as slash paths
// (pss/baseline/privileged).
func policyFolders(t testing.TB) []string {
	t.Helper()
	var dirs []string
	for _, f := range libraryFiles(t) {
		if path.Base(f.name) == "policy.rego" {
			dirs = append(dirs, path.Dir(f.name))
		}
	}
	if len(dirs) == 0 {
		t.Fatal("no policy.rego in the library")
	}
	return dirs
}

var severities = map[string]bool{"low": true, "medium": true, "high": true, "critical": true}

// TestPolicyMetadata checks the conventions every policy folder follows:
// package gitgate.<folder with dots>, a METADATA package annotation with
// title, description and custom id (the folder with dots), severity and
// parameters (each with its data path and default), a `policy` rule that
// repeats id and severity for the results, and tests for allowed and denied
// cases in policy_test.rego.
func TestPolicyMetadata(t *testing.T) {
	modules := parseLibrary(t, true)
	c := compileLibrary(t, ast.CapabilitiesForThisVersion())
	for _, dir := range policyFolders(t) {
		t.Run(dir, func(t *testing.T) {
			id := strings.ReplaceAll(dir, "/", ".")
			pkg := "data.gitgate." + id
			m := modules[dir+"/policy.rego"]
			if got := m.Package.Path.String(); got != pkg {
				t.Errorf("package %s, want %s", got, pkg)
			}
			ann := packageAnnotation(m)
			if ann == nil {
				t.Fatal("no METADATA package annotation")
			}
			if strings.TrimSpace(ann.Title) == "" || strings.TrimSpace(ann.Description) == "" {
				t.Error("title and description must be set")
			}
			if got := ann.Custom["id"]; got != id {
				t.Errorf("custom.id = %v, want %s", got, id)
			}
			severity, _ := ann.Custom["severity"].(string)
			if !severities[severity] {
				t.Errorf("custom.severity = %v, want one of low, medium, high, critical", ann.Custom["severity"])
			}
			if strings.HasPrefix(id, "pss.") {
				if level := strings.Split(id, ".")[1]; ann.Custom["level"] != level {
					t.Errorf("custom.level = %v, want %s", ann.Custom["level"], level)
				}
			}
			checkParameters(t, id, ann.Custom["parameters"])

			// The results carry the id and severity from the `policy` rule.
			want := map[string]any{"id": id, "severity": severity}
			if got := evalValue(t, c, pkg+".policy"); !reflect.DeepEqual(got, want) {
				t.Errorf("%s.policy = %v, want %v", pkg, got, want)
			}
			if !hasRule(m, "deny") && !hasRule(m, "warn") {
				t.Error("the policy has neither deny nor warn rules")
			}

			tm := modules[dir+"/policy_test.rego"]
			if tm == nil {
				t.Fatal("no policy_test.rego")
			}
			if got := tm.Package.Path.String(); got != pkg+"_test" {
				t.Errorf("test package %s, want %s_test", got, pkg)
			}
			var allowed, denied int
			for _, r := range tm.Rules {
				name := r.Head.Name.String()
				if name == "" && len(r.Head.Reference) > 0 {
					name = r.Head.Reference[0].String()
				}
				switch {
				case !strings.HasPrefix(name, "test_"):
				case strings.Contains(name, "allow"):
					allowed++
				case strings.Contains(name, "den") || strings.Contains(name, "warn"):
					denied++
				}
			}
			if allowed == 0 || denied == 0 {
				t.Errorf("policy_test.rego has %d test_*allow* and %d test_*den*/warn* rules; both kinds are required", allowed, denied)
			}
			// Both input shapes come from the fixtures that wrap every
			// case as a manifest and as an admission request.
			if !usesRef(tm, "data.gitgate.lib.fixtures.workloads") && !usesRef(tm, "data.gitgate.lib.fixtures.shapes") {
				t.Error("policy_test.rego does not use fixtures.workloads or fixtures.shapes, so it does not test both input shapes")
			}
		})
	}
}

// usesRef reports whether module m refers to ref (imports resolved).
func usesRef(m *ast.Module, ref string) bool {
	found := false
	imports := map[string]string{}
	for _, imp := range m.Imports {
		path := imp.Path.String()
		alias := imp.Alias.String()
		if alias == "" {
			parts := strings.Split(path, ".")
			alias = parts[len(parts)-1]
		}
		imports[alias] = path
	}
	ast.WalkRefs(m, func(r ast.Ref) bool {
		s := r.String()
		head := strings.SplitN(s, ".", 2)
		if full, ok := imports[head[0]]; ok && len(head) == 2 {
			s = full + "." + head[1]
		}
		if strings.HasPrefix(s, ref) {
			found = true
		}
		return found
	})
	return found
}

func packageAnnotation(m *ast.Module) *ast.Annotations {
	for _, a := range m.Annotations {
		if a.Scope == "package" {
			return a
		}
	}
	return nil
}

func hasRule(m *ast.Module, name string) bool {
	for _, r := range m.Rules {
		if r.Head.Name.String() == name || (len(r.Head.Reference) > 0 && r.Head.Reference[0].String() == name) {
			return true
		}
	}
	return false
}

// checkParameters checks custom.parameters: a list of {name, data, type,
// default, description} whose data path is gitgate.parameters.<id>.<name>.
func checkParameters(t *testing.T, id string, v any) {
	t.Helper()
	params, ok := v.([]any)
	if !ok {
		t.Fatalf("custom.parameters must be a list (empty for none), got %T", v)
	}
	for i, p := range params {
		m, ok := p.(map[string]any)
		if !ok {
			t.Errorf("parameter %d is not an object", i)
			continue
		}
		name, _ := m["name"].(string)
		if name == "" {
			t.Errorf("parameter %d has no name", i)
		}
		if want := "gitgate.parameters." + id + "." + name; m["data"] != want {
			t.Errorf("parameter %s: data = %v, want %s", name, m["data"], want)
		}
		if _, ok := m["default"]; !ok {
			t.Errorf("parameter %s has no default", name)
		}
		for _, k := range []string{"type", "description"} {
			if s, _ := m[k].(string); s == "" {
				t.Errorf("parameter %s has no %s", name, k)
			}
		}
	}
}

// TestEmbedCoversDisk checks that FS ships every .rego file of the folder,
// so that a new policy folder cannot be left out of the binary.
func TestEmbedCoversDisk(t *testing.T) {
	embedded := map[string]bool{}
	for _, f := range libraryFiles(t) {
		embedded[f.name] = true
		disk, err := os.ReadFile(filepath.FromSlash(f.name))
		if err != nil {
			t.Errorf("%s is embedded but cannot be read from disk: %v", f.name, err)
			continue
		}
		if !bytes.Equal(disk, f.source) {
			t.Errorf("%s differs between FS and disk", f.name)
		}
	}
	onDisk := map[string]bool{}
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".rego") {
			onDisk[filepath.ToSlash(p)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name := range onDisk {
		if !embedded[name] {
			t.Errorf("%s is on disk but not embedded: add its top folder to the go:embed line in embed.go", name)
		}
	}
}

// TestAdmissionSafe compiles the library without the builtins the admission
// profile removes (network, environment, clock, randomness), so that every
// policy can run in the webhook and give the verdict CI gave.
func TestAdmissionSafe(t *testing.T) {
	caps := ast.CapabilitiesForThisVersion()
	kept := caps.Builtins[:0]
	var removed int
	for _, b := range caps.Builtins {
		if strings.HasPrefix(b.Name, "net.") || b.Nondeterministic || forbiddenInAdmission[b.Name] {
			removed++
			continue
		}
		kept = append(kept, b)
	}
	caps.Builtins = kept
	caps.AllowNet = []string{}
	if removed < len(forbiddenInAdmission) {
		t.Fatalf("removed only %d builtins", removed)
	}
	c := ast.NewCompiler().WithCapabilities(caps).WithDefaultRegoVersion(ast.RegoV1)
	if c.Compile(parseLibrary(t, false)); c.Failed() {
		t.Fatalf("the library uses builtins that admission forbids: %v", c.Errors)
	}
}

// forbiddenInAdmission are builtins removed beyond the non-deterministic ones.
var forbiddenInAdmission = map[string]bool{
	"http.send":         true,
	"opa.runtime":       true,
	"time.now_ns":       true,
	"rand.intn":         true,
	"uuid.rfc4122":      true,
	"json.match_schema": true,
}

// TestRegoFormatted checks that every .rego file is formatted as `opa fmt`
// formats it.
func TestRegoFormatted(t *testing.T) {
	for _, f := range libraryFiles(t) {
		got, err := format.SourceWithOpts(f.name, f.source, format.Opts{RegoVersion: ast.RegoV1})
		if err != nil {
			t.Errorf("format %s: %v", f.name, err)
			continue
		}
		if !bytes.Equal(got, f.source) {
			t.Errorf("%s is not formatted (run opa fmt -w policies/)", f.name)
		}
	}
}

// TestPackageNames checks that only lib/ holds helper packages and that every
// package lives under gitgate, so that the library never collides with a
// user's own packages (like the common lib.kubernetes).
func TestPackageNames(t *testing.T) {
	for name, m := range parseLibrary(t, true) {
		p := m.Package.Path.String()
		if !strings.HasPrefix(p, "data.gitgate.") {
			t.Errorf("%s: package %s is not under gitgate", name, p)
		}
		if strings.HasPrefix(name, "lib/") != strings.HasPrefix(p, "data.gitgate.lib.") {
			t.Errorf("%s: package %s: helpers belong in lib/ under gitgate.lib", name, p)
		}
	}
}

func evalValue(t *testing.T, c *ast.Compiler, query string) any {
	t.Helper()
	pq := prepare(t, c, query)
	rs, err := pq.Eval(t.Context())
	if err != nil {
		t.Fatalf("eval %s: %v", query, err)
	}
	if len(rs) == 0 {
		return nil
	}
	return rs[0].Expressions[0].Value
}
