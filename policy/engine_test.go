package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustCompile(t testing.TB, mods map[string]string, opts ...Option) *Engine {
	t.Helper()
	e, err := Compile(t.Context(), Source{Modules: bytesMap(mods)}, opts...)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return e
}

func bytesMap(m map[string]string) map[string][]byte {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out
}

func mustInput(t testing.TB, name, data string) Input {
	t.Helper()
	in, err := ParseInput(name, []byte(data))
	if err != nil {
		t.Fatalf("ParseInput: %v", err)
	}
	return in
}

func msgs(ms []Message) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.Msg)
	}
	return out
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name    string
		mods    map[string]string
		opts    []Option
		wantErr string
	}{
		{"no modules", map[string]string{}, nil, "no policies found"},
		{"parse error", map[string]string{"a.rego": "package a\nx := \n"}, nil, "parse policies"},
		{"v0 syntax under v1", map[string]string{"a.rego": "package a\ndeny[msg] { msg := \"x\" }\n"}, nil, "parse policies"},
		{"type error", map[string]string{"a.rego": "package a\nx := 1 + \"a\"\n"}, nil, "compile policies"},
		{"if without contains", map[string]string{"p/a.rego": "package main\n\ndeny if { true }\n"}, nil, "rule in p/a.rego at line 3"},
		{"true-valued warn", map[string]string{"p/a.rego": "package main\n\nwarn_x := true if { input.a }\n"}, nil, "rule in p/a.rego at line 3"},
		{"admission http.send", map[string]string{"a.rego": "package main\ndeny contains \"x\" if http.send({\"method\": \"GET\", \"url\": \"http://x\"}).status_code == 200\n"}, []Option{WithProfile(ProfileAdmission)}, "a.rego:2: builtin http.send is not allowed in the admission profile"},
		{"admission net.cidr_contains", map[string]string{"a.rego": "package main\ndeny contains \"x\" if net.cidr_contains(\"10.0.0.0/8\", input.ip)\n"}, []Option{WithProfile(ProfileAdmission)}, "builtin net.cidr_contains is not allowed"},
		{"admission net.lookup_ip_addr", map[string]string{"a.rego": "package main\ndeny contains \"x\" if net.lookup_ip_addr(\"example.com\")\n"}, []Option{WithProfile(ProfileAdmission)}, "builtin net.lookup_ip_addr is not allowed"},
		{"admission opa.runtime", map[string]string{"a.rego": "package main\ndeny contains \"x\" if opa.runtime().env.HOME\n"}, []Option{WithProfile(ProfileAdmission)}, "builtin opa.runtime is not allowed"},
		{"admission time.now_ns", map[string]string{"a.rego": "package main\ndeny contains \"x\" if time.now_ns() > 0\n"}, []Option{WithProfile(ProfileAdmission)}, "builtin time.now_ns is not allowed"},
		{"admission rand.intn", map[string]string{"a.rego": "package main\ndeny contains \"x\" if rand.intn(\"a\", 10) > 5\n"}, []Option{WithProfile(ProfileAdmission)}, "builtin rand.intn is not allowed"},
		{"admission uuid.rfc4122", map[string]string{"a.rego": "package main\ndeny contains uuid.rfc4122(\"a\") if true\n"}, []Option{WithProfile(ProfileAdmission)}, "builtin uuid.rfc4122 is not allowed"},
		{"admission io.jwt.decode_verify", map[string]string{"a.rego": "package main\ndeny contains \"x\" if io.jwt.decode_verify(input.t, {\"secret\": \"s\"})[0]\n"}, []Option{WithProfile(ProfileAdmission)}, "builtin io.jwt.decode_verify is not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(t.Context(), Source{Modules: bytesMap(tt.mods)}, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Compile error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestCIProfileAllowsEveryBuiltin(t *testing.T) {
	mods := map[string]string{"a.rego": "package main\nwarn contains \"late\" if time.now_ns() > 0\nwarn contains \"net\" if net.cidr_contains(\"10.0.0.0/8\", \"10.1.2.3\")\n"}
	e := mustCompile(t, mods)
	res, err := e.Check(t.Context(), mustInput(t, "a.yaml", "a: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := msgs(res[0].Warnings); !slices.Equal(got, []string{"late", "net"}) {
		t.Errorf("warnings = %q", got)
	}
}

func TestAdmissionForbidden(t *testing.T) {
	for name, want := range map[string]bool{
		"http.send": true, "net.cidr_contains": true, "net.lookup_ip_addr": true, "opa.runtime": true,
		"time.now_ns": true, "rand.intn": true, "uuid.rfc4122": true, "io.jwt.encode_sign": true,
		"json.match_schema": true, "sprintf": false, "time.parse_rfc3339_ns": false, "regex.match": false,
		"crypto.x509.parse_and_verify_certificates_with_options": false,
	} {
		if got := AdmissionForbidden(name); got != want {
			t.Errorf("AdmissionForbidden(%q) = %v, want %v", name, got, want)
		}
	}
	caps := Capabilities(ProfileAdmission)
	for _, b := range caps.Builtins {
		if AdmissionForbidden(b.Name) {
			t.Errorf("admission capabilities include %s", b.Name)
		}
	}
	if len(caps.Builtins) < 150 {
		t.Errorf("admission capabilities have %d builtins, want most of OPA's", len(caps.Builtins))
	}
}

func TestNamespaces(t *testing.T) {
	mods := map[string]string{
		"a.rego": "package main\ndeny contains \"main\" if true\n",
		"b.rego": "package k8s.apps\ndeny contains \"apps\" if true\n",
		"c.rego": "package k8s.core\nwarn contains \"core\" if true\n",
		"d.rego": "package k8sx\ndeny contains \"k8sx\" if true\n",
		"e.rego": "package lib\nhelper := 1\n",
	}
	tests := []struct {
		name string
		opts []Option
		want []string
	}{
		{"default main", nil, []string{"main"}},
		{"literal", []Option{WithNamespaces("k8s.core", "nosuch")}, []string{"k8s.core", "nosuch"}},
		{"glob star crosses dots", []Option{WithNamespaces("k8s.*")}, []string{"k8s.apps", "k8s.core"}},
		{"glob question", []Option{WithNamespaces("k8s?")}, []string{"k8sx"}},
		{"glob class and literal mix", []Option{WithNamespaces("[mx]ain", "lib")}, []string{"main", "lib"}},
		{"all", []Option{WithAllNamespaces()}, []string{"main", "k8s.apps", "k8s.core", "k8sx", "lib"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustCompile(t, mods, tt.opts...)
			if d := cmp.Diff(tt.want, e.Namespaces()); d != "" {
				t.Errorf("Namespaces (-want +got):\n%s", d)
			}
			res, err := e.Check(t.Context(), mustInput(t, "x.yaml", "a: 1\n"))
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != len(tt.want) {
				t.Fatalf("got %d results, want one per namespace", len(res))
			}
		})
	}
	if got := mustCompile(t, mods).Packages(); len(got) != 5 {
		t.Errorf("Packages = %q, want all five", got)
	}
}

// TestCheckSemantics pins conftest's reading of rule results, case by case.
func TestCheckSemantics(t *testing.T) {
	tests := []struct {
		name       string
		policy     string
		input      string
		successes  int
		failures   []string
		warnings   []string
		exceptions []string
		wantErr    string
	}{
		{
			name:      "undefined rules are successes",
			policy:    "deny contains \"x\" if input.a == 2\nwarn contains \"y\" if input.a == 2\n",
			input:     "a: 1\n",
			successes: 2,
		},
		{
			name:      "set messages come sorted",
			policy:    "deny contains \"b\" if true\ndeny contains \"a\" if true\nviolation_x contains \"c\" if true\n",
			input:     "{}",
			successes: 0,
			failures:  []string{"a", "b", "c"},
		},
		{
			name:      "each body counts as a rule",
			policy:    "deny contains \"one\" if input.a == 1\ndeny contains \"two\" if input.a == 2\ndeny contains \"three\" if input.a == 3\n",
			input:     "a: 1\n",
			successes: 2,
			failures:  []string{"one"},
		},
		{
			name:       "exception excepts deny_name and counts each listing",
			policy:     "deny_foo contains \"foo\" if true\nwarn_bar contains \"bar\" if true\nexception contains r if { r := [\"foo\", \"foo\"] }\n",
			input:      "{}",
			warnings:   []string{"bar"},
			exceptions: []string{`data.main.exception[_][_] == "foo"`, `data.main.exception[_][_] == "foo"`},
		},
		{
			name:       "an exception listing an unfired rule still counts",
			policy:     "deny_foo contains \"foo\" if false\nexception contains [\"foo\"] if true\n",
			input:      "{}",
			exceptions: []string{`data.main.exception[_][_] == "foo"`},
		},
		{
			name:       "empty name excepts plain deny",
			policy:     "deny contains \"d\" if true\nexception contains [\"\"] if true\n",
			input:      "{}",
			exceptions: []string{`data.main.exception[_][_] == ""`},
		},
		{
			name:      "empty message is a pass",
			policy:    "deny contains \"\" if true\ndeny_x contains {\"msg\": \"\"} if true\n",
			input:     "{}",
			successes: 2,
		},
		{
			name:      "non-string elements are ignored",
			policy:    "deny contains 1 if true\n",
			input:     "{}",
			successes: 1,
		},
		{
			name:      "complete rule that is not a set is a success",
			policy:    "deny := 7\n",
			input:     "{}",
			successes: 1,
		},
		{
			name:      "names differing only in case are one rule",
			policy:    "deny_Foo contains \"A\" if true\ndeny_foo contains \"b\" if true\n",
			input:     "{}",
			successes: 1,
			failures:  []string{"A"},
		},
		{
			name:    "object without msg",
			policy:  "deny contains {\"message\": \"x\"} if true\n",
			input:   "{}",
			wantErr: `"msg" field must be present`,
		},
		{
			name:    "conflict is an error",
			policy:  "x := 1 if true\nx := 2 if true\ndeny contains \"d\" if x\n",
			input:   "{}",
			wantErr: "EvaluationError",
		},
		{
			name:      "rules of other names are not checked",
			policy:    "denied contains \"x\" if true\ndeny__x contains \"y\" if true\nwarning contains \"z\" if true\n",
			input:     "{}",
			successes: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustCompile(t, map[string]string{"p.rego": "package main\n\n" + tt.policy})
			res, err := e.Check(t.Context(), mustInput(t, "in.yaml", tt.input))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "in.yaml") {
					t.Fatalf("Check error = %v, want one naming in.yaml and containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := res[0]
			if r.Successes != tt.successes {
				t.Errorf("successes = %d, want %d", r.Successes, tt.successes)
			}
			for _, c := range []struct {
				kind      string
				got, want []string
			}{{"failures", msgs(r.Failures), tt.failures}, {"warnings", msgs(r.Warnings), tt.warnings}, {"exceptions", msgs(r.Exceptions), tt.exceptions}} {
				if d := cmp.Diff(append([]string{}, c.want...), c.got); d != "" {
					t.Errorf("%s (-want +got):\n%s", c.kind, d)
				}
			}
		})
	}
}

func TestMessageMetadata(t *testing.T) {
	e := mustCompile(t, map[string]string{"p.rego": `package main

deny contains {"msg": "m", "id": "X-1", "n": 2, "_loc": {"file": "f.yaml", "line": 3}} if true
warn contains "w" if true
`})
	res, err := e.Check(t.Context(), mustInput(t, "a.yaml", "a: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(res[0])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"filename":"a.yaml","namespace":"main","successes":0,` +
		`"warnings":[{"msg":"w","metadata":{"query":"data.main.warn"}}],` +
		`"failures":[{"msg":"m","loc":{"file":"f.yaml","line":3},"metadata":{"id":"X-1","n":2,"query":"data.main.deny"}}]}`
	if string(got) != want {
		t.Errorf("json = %s\nwant   %s", got, want)
	}
}

func TestData(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "data/a.yaml", "allowed: [\"x\"]\n")
	write(t, dir, "data/deep/b.json", `{"limits": {"max": 3}}`)
	write(t, dir, "data/c.rego", "package ignored\n")
	data, err := ReadData(filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := Compile(t.Context(), Source{
		Modules: bytesMap(map[string]string{"p.rego": "package main\ndeny contains sprintf(\"%v %v\", [data.allowed, data.deep.limits.max]) if true\n"}),
		Data:    data,
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Check(t.Context(), mustInput(t, "a.yaml", "a: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := msgs(res[0].Failures); !slices.Equal(got, []string{`["x"] 3`}) {
		t.Errorf("failures = %q", got)
	}

	write(t, dir, "conflict/a.yaml", "k: 1\n")
	write(t, dir, "conflict/b.yaml", "k: 2\n")
	if _, err := ReadData(filepath.Join(dir, "conflict")); err == nil {
		t.Error("ReadData merged conflicting values")
	}
	fsData, err := ReadDataFS(fstest.MapFS{"d/x.json": {Data: []byte(`{"x": 1}`)}})
	if err != nil || fmt.Sprint(fsData) != "map[d:map[x:1]]" {
		t.Errorf("ReadDataFS = %v, %v", fsData, err)
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestReadModules(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "policy/main.rego", "package main\n")
	write(t, dir, "policy/sub/lib.rego", "package lib\n")
	write(t, dir, "policy/main_test.rego", "package main\nthis does not parse\n")
	write(t, dir, "policy/notes.md", "# notes\n")
	write(t, dir, "single.rego", "package single\n")
	t.Chdir(dir)
	mods, err := ReadModules("policy", "single.rego")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range mods {
		names = append(names, n)
	}
	slices.Sort(names)
	if want := []string{"policy/main.rego", "policy/sub/lib.rego", "single.rego"}; !slices.Equal(names, want) {
		t.Errorf("modules = %q, want %q", names, want)
	}
	if _, err := ReadModules("nosuch"); err == nil {
		t.Error("ReadModules of a missing path succeeded")
	}

	fsys := fstest.MapFS{
		"lib/k.rego":        {Data: []byte("package lib\n")},
		"pss/a/policy.rego": {Data: []byte("package a\n")},
		"pss/a/x_test.rego": {Data: []byte("package a_test\n")},
		"README.md":         {Data: []byte("x")},
	}
	mods, err = ReadModulesFS(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) != 2 || mods["lib/k.rego"] == nil || mods["pss/a/policy.rego"] == nil {
		t.Errorf("ReadModulesFS = %v", mods)
	}
	mods, err = ReadModulesFS(fsys, "pss")
	if err != nil || len(mods) != 1 {
		t.Errorf("ReadModulesFS(pss) = %v, %v", mods, err)
	}
}

func TestRegoV0(t *testing.T) {
	e := mustCompile(t, map[string]string{"p.rego": "package main\ndeny[msg] { input.a == 1; msg := \"old\" }\n"}, WithRegoVersion(RegoV0))
	res, err := e.Check(t.Context(), mustInput(t, "a.yaml", "a: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := msgs(res[0].Failures); !slices.Equal(got, []string{"old"}) {
		t.Errorf("failures = %q", got)
	}
}

func TestCheckAllOrderAndErrors(t *testing.T) {
	e := mustCompile(t, map[string]string{
		"a.rego": "package main\ndeny contains sprintf(\"main %v\", [input.i]) if true\n",
		"b.rego": "package other\nwarn contains sprintf(\"other %v\", [input.i]) if true\n",
	}, WithNamespaces("main", "other"), WithParallelism(4))
	const n = 50
	load := func(_ context.Context, i int) (Input, error) {
		return ParseInput(fmt.Sprintf("f%02d.json", i), fmt.Appendf(nil, `{"i": %d}`, i))
	}
	res, err := e.CheckAll(t.Context(), n, load)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2*n {
		t.Fatalf("got %d results, want %d", len(res), 2*n)
	}
	for i, r := range res {
		ns, k := "main", i
		if i >= n {
			ns, k = "other", i-n
		}
		if r.Namespace != ns || r.FileName != fmt.Sprintf("f%02d.json", k) {
			t.Fatalf("result %d is %s/%s, want %s/f%02d.json", i, r.Namespace, r.FileName, ns, k)
		}
	}
	if tot := res.Totals(); tot.Failures != n || tot.Warnings != n {
		t.Errorf("totals = %+v", tot)
	}

	bad := func(_ context.Context, i int) (Input, error) {
		if i == 7 || i == 30 {
			return ParseInput(fmt.Sprintf("bad%d.json", i), []byte("{"))
		}
		return load(t.Context(), i)
	}
	if _, err := e.CheckAll(t.Context(), n, bad); err == nil || !strings.Contains(err.Error(), "bad7.json") {
		t.Errorf("CheckAll error = %v, want the error of the lowest failing index (bad7.json)", err)
	}
}

func TestCheckCombined(t *testing.T) {
	e := mustCompile(t, map[string]string{"p.rego": "package main\ndeny contains sprintf(\"%v\", [[x.path | some x in input]]) if true\n"})
	res, err := e.CheckCombined(t.Context(), []Input{
		mustInput(t, "b.yaml", "a: 1\n---\na: 2\n"),
		mustInput(t, "a.json", `{"a": 0}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].FileName != CombinedName {
		t.Errorf("file name = %q", res[0].FileName)
	}
	if got := msgs(res[0].Failures); !slices.Equal(got, []string{`["a.json", "b.yaml", "b.yaml"]`}) {
		t.Errorf("failures = %q", got)
	}
}

func TestEvaluateAdmission(t *testing.T) {
	e := mustCompile(t, map[string]string{
		"a.rego": `package k8s.a

deny contains msg if {
	input.request.object.spec.hostNetwork
	msg := "host network"
}

warn contains "no team" if not input.request.object.metadata.labels.team
`,
		"b.rego": `package k8s.b

violation contains {"msg": "privileged", "id": "P1"} if {
	some c in input.request.object.spec.containers
	c.securityContext.privileged
}
`,
	}, WithProfile(ProfileAdmission), WithNamespaces("k8s.*"))
	pod := map[string]any{"request": map[string]any{"object": map[string]any{
		"metadata": map[string]any{"name": "p"},
		"spec": map[string]any{
			"hostNetwork": true,
			"containers":  []any{map[string]any{"name": "c", "securityContext": map[string]any{"privileged": true}}},
		},
	}}}
	r, err := e.Evaluate(t.Context(), pod)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Denied() || !slices.Equal(msgs(r.Failures), []string{"host network", "privileged"}) || !slices.Equal(msgs(r.Warnings), []string{"no team"}) {
		t.Errorf("result = %+v", r)
	}
	if r.Failures[1].Metadata.Get("id") != "P1" {
		t.Errorf("metadata = %v", r.Failures[1].Metadata)
	}
	ok := map[string]any{"request": map[string]any{"object": map[string]any{"metadata": map[string]any{"labels": map[string]any{"team": "x"}}}}}
	r, err = e.Evaluate(t.Context(), ok)
	if err != nil || r.Denied() || len(r.Warnings) != 0 || r.Successes != 3 {
		t.Errorf("result = %+v, %v; want a pass with 3 successes", r, err)
	}
}

// TestEvaluateFailsClosed proves every way evaluation can fail is a denial
// with a reason, never a pass.
func TestEvaluateFailsClosed(t *testing.T) {
	// Nine million iterations without allocating much: seconds of work
	// that only cancellation can cut short.
	slow := `package main

deny contains "never" if {
	some i in numbers.range(1, 3000)
	some j in numbers.range(1, 3000)
	i * j < 0
}
`
	tests := []struct {
		name   string
		policy string
		opts   []Option
		ctx    func(context.Context) (context.Context, context.CancelFunc)
		input  any
		reason Reason
	}{
		{"timeout", slow, []Option{WithTimeout(20 * time.Millisecond)}, nil, map[string]any{}, ReasonTimeout},
		{"caller deadline", slow, nil, func(c context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(c, 20*time.Millisecond)
		}, map[string]any{}, ReasonTimeout},
		{"canceled", slow, nil, func(c context.Context) (context.Context, context.CancelFunc) {
			c, cancel := context.WithCancel(c)
			cancel()
			return c, func() {}
		}, map[string]any{}, ReasonCanceled},
		{"builtin error", "package main\ndeny contains \"x\" if to_number(input.n) > 1\n", nil, nil, map[string]any{"n": "abc"}, ReasonEvalError},
		{"conflict", "package main\nx := input.a if true\nx := 2 if true\ndeny contains \"x\" if x\n", nil, nil, map[string]any{"a": 1}, ReasonEvalError},
		{"bad message", "package main\ndeny contains {\"no\": \"msg\"} if true\n", nil, nil, map[string]any{}, ReasonInvalidResult},
		{"unconvertible input", "package main\ndeny contains \"x\" if false\n", nil, nil, map[string]any{"c": make(chan int)}, ReasonInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustCompile(t, map[string]string{"p.rego": tt.policy}, append([]Option{WithProfile(ProfileAdmission)}, tt.opts...)...)
			ctx := t.Context()
			if tt.ctx != nil {
				var cancel context.CancelFunc
				ctx, cancel = tt.ctx(ctx)
				defer cancel()
			}
			start := time.Now()
			r, err := e.Evaluate(ctx, tt.input)
			var ee *EvalError
			if !errors.As(err, &ee) || ee.Reason != tt.reason {
				t.Fatalf("Evaluate error = %v, want an EvalError with reason %s", err, tt.reason)
			}
			if !r.Denied() || r.Failures[0].Metadata.Get("reason") != string(tt.reason) {
				t.Errorf("result = %+v, want a denial carrying the reason", r)
			}
			if time.Since(start) > 5*time.Second {
				t.Errorf("evaluation took %v; the timeout did not stop it", time.Since(start))
			}
		})
	}
}

func TestBuiltinErrorsInCIProfileLeaveRulesUndefined(t *testing.T) {
	// conftest's behaviour: a failing builtin makes its expression
	// undefined, so the rule does not fire. Admission refuses instead.
	e := mustCompile(t, map[string]string{"p.rego": "package main\ndeny contains \"x\" if to_number(input.n) > 1\n"})
	res, err := e.Check(t.Context(), mustInput(t, "a.json", `{"n": "abc"}`))
	if err != nil || res[0].Successes != 1 {
		t.Errorf("Check = %+v, %v; want one success", res, err)
	}
}

func TestEvaluateConcurrent(t *testing.T) {
	e := mustCompile(t, map[string]string{"p.rego": "package main\ndeny contains sprintf(\"%v\", [input.i]) if input.i % 2 == 0\n"}, WithProfile(ProfileAdmission))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				n := g*1000 + i
				r, err := e.Evaluate(t.Context(), map[string]any{"i": n})
				if err != nil {
					t.Error(err)
					return
				}
				if want := n%2 == 0; r.Denied() != want || (want && r.Failures[0].Msg != fmt.Sprint(n)) {
					t.Errorf("input %d: result %+v", n, r)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestPrintOutput(t *testing.T) {
	e := mustCompile(t, map[string]string{"p.rego": "package main\ndeny contains \"x\" if { print(\"saw\", input.a); true }\n"}, WithPrint())
	res, err := e.Check(t.Context(), mustInput(t, "a.yaml", "a: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res[0].Outputs, []string{"p.rego:2: saw 1\n"}) {
		t.Errorf("outputs = %q", res[0].Outputs)
	}
	e = mustCompile(t, map[string]string{"p.rego": "package main\ndeny contains \"x\" if { print(\"saw\"); true }\n"}, WithProfile(ProfileAdmission), WithPrint())
	res, err = e.Check(t.Context(), mustInput(t, "a.yaml", "a: 1\n"))
	if err != nil || len(res[0].Outputs) != 0 {
		t.Errorf("admission printed %q, %v", res[0].Outputs, err)
	}
}

func TestExitCode(t *testing.T) {
	fail := CheckResults{{Failures: []Message{{Msg: "f"}}}}
	warn := CheckResults{{Warnings: []Message{{Msg: "w"}}}}
	pass := CheckResults{{Successes: 1}}
	for _, c := range []struct {
		rs         CheckResults
		failOnWarn bool
		want       int
	}{{pass, false, 0}, {pass, true, 0}, {warn, false, 0}, {warn, true, 1}, {fail, false, 1}, {fail, true, 2}} {
		if got := c.rs.ExitCode(c.failOnWarn); got != c.want {
			t.Errorf("ExitCode(%v) of %+v = %d, want %d", c.failOnWarn, c.rs, got, c.want)
		}
	}
	if s := (Totals{Successes: 1, Failures: 1}).String(); s != "2 tests, 1 passed, 0 warnings, 1 failure, 0 exceptions" {
		t.Errorf("Totals.String = %q", s)
	}
}

func TestMetadataEncoding(t *testing.T) {
	md, err := NewMetadata(map[string]any{"b": 1, "a": map[string]any{"x": []any{"y"}}})
	if err != nil {
		t.Fatal(err)
	}
	if string(md) != `{"a":{"x":["y"]},"b":1}` {
		t.Errorf("encoding = %s, want sorted keys", md)
	}
	if n, ok := md.Get("b").(json.Number); !ok || n != "1" {
		t.Errorf("Get(b) = %#v, want json.Number 1", md.Get("b"))
	}
	var back struct {
		M Metadata `json:"m"`
		N Metadata `json:"n,omitempty"`
	}
	if err := json.Unmarshal([]byte(`{"m": {"k": "v"}, "n": null}`), &back); err != nil {
		t.Fatal(err)
	}
	if back.M.Get("k") != "v" || back.N != nil {
		t.Errorf("round trip = %+v", back)
	}
	out, err := json.Marshal(back)
	if err != nil || string(out) != `{"m":{"k":"v"}}` {
		t.Errorf("marshal = %s, %v", out, err)
	}
	if m, err := Metadata(nil).Map(); m != nil || err != nil {
		t.Errorf("empty Map = %v, %v", m, err)
	}
}
