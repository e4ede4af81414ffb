package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func regoDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const regoPolicy = `package k8s

deny contains "privileged" if input.privileged
`

const regoPassing = `package k8s_test

import data.k8s

test_denies_privileged if "privileged" in k8s.deny with input as {"privileged": true}

test_allows_others if count(k8s.deny) == 0 with input as {}

test_uses_data if data.limits.max == 3
`

func TestRegoTest(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		{
			name:   "all pass",
			files:  map[string]string{"p/k8s.rego": regoPolicy, "p/k8s_test.rego": regoPassing, "p/data.yaml": "limits: {max: 3}\n"},
			args:   []string{"p"},
			code:   ExitOK,
			stdout: []string{"PASS: 3/3"},
		},
		{
			name:   "verbose lists each test",
			files:  map[string]string{"p/k8s.rego": regoPolicy, "p/k8s_test.rego": regoPassing, "p/data.yaml": "limits: {max: 3}\n"},
			args:   []string{"-v", "p"},
			code:   ExitOK,
			stdout: []string{"data.k8s_test.test_denies_privileged: PASS", "data.k8s_test.test_allows_others: PASS", "data.k8s_test.test_uses_data: PASS"},
		},
		{
			name:   "a failing test",
			files:  map[string]string{"p/k8s.rego": regoPolicy, "p/k8s_test.rego": "package k8s_test\nimport data.k8s\ntest_wrong if count(k8s.deny) == 1 with input as {}\n"},
			args:   []string{"p"},
			code:   ExitFailed,
			stdout: []string{"data.k8s_test.test_wrong: FAIL", "FAIL: 1/1"},
		},
		{
			name:   "an erroring test",
			files:  map[string]string{"p/k8s_test.rego": "package k8s_test\nf(_) := 1 if true\n\nf(_) := 2 if true\n\ntest_err if f(input.a) == 1 with input as {\"a\": 0}\n"},
			args:   []string{"p"},
			code:   ExitFailed,
			stdout: []string{"data.k8s_test.test_err: ERROR", "ERROR: 1/1"},
		},
		{
			name:   "run filter",
			files:  map[string]string{"p/k8s.rego": regoPolicy, "p/k8s_test.rego": regoPassing, "p/data.yaml": "limits: {max: 3}\n"},
			args:   []string{"-v", "--run", "privileged", "p"},
			code:   ExitOK,
			stdout: []string{"PASS: 1/1"},
		},
		{
			name:   "parse error",
			files:  map[string]string{"p/k8s.rego": "package k8s\ndeny contains if {\n"},
			args:   []string{"p"},
			code:   ExitUsage,
			stderr: "p/k8s.rego",
		},
		{
			name:   "compile error",
			files:  map[string]string{"p/k8s.rego": "package k8s\nx := 1 + \"a\"\n"},
			args:   []string{"p"},
			code:   ExitUsage,
			stderr: "rego_type_error",
		},
		{
			name:   "admission profile refuses network builtins",
			files:  map[string]string{"p/k8s.rego": "package k8s\nx := http.send({\"method\": \"GET\", \"url\": \"http://x\"})\n"},
			args:   []string{"--profile", "admission", "p"},
			code:   ExitUsage,
			stderr: "http.send",
		},
		{
			name:   "bad output format",
			files:  map[string]string{"p/k8s.rego": regoPolicy},
			args:   []string{"-o", "xml", "p"},
			code:   ExitUsage,
			stderr: "invalid output format",
		},
		{
			name:   "no tests",
			files:  map[string]string{"p/k8s.rego": regoPolicy},
			args:   []string{"p"},
			code:   ExitOK,
			stderr: "no tests found",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(regoDir(t, tt.files))
			code, stdout, stderr := run(t, "", append([]string{"test"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d (stdout %q, stderr %q)", code, tt.code, stdout, stderr)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout = %q, want it to contain %q", stdout, w)
				}
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tt.stderr)
			}
		})
	}
}

func TestRegoTestJSON(t *testing.T) {
	t.Chdir(regoDir(t, map[string]string{"k8s.rego": regoPolicy, "k8s_test.rego": regoPassing + "\ntest_broken if false\n", "data.json": `{"limits": {"max": 3}}`}))
	code, stdout, _ := run(t, "", "test", "-o", "json")
	if code != ExitFailed {
		t.Errorf("exit code = %d, want 1", code)
	}
	var results []struct {
		Package string `json:"package"`
		Name    string `json:"name"`
		Fail    bool   `json:"fail"`
	}
	if err := json.Unmarshal([]byte(stdout), &results); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout)
	}
	failing := 0
	for _, r := range results {
		if r.Package != "data.k8s_test" {
			t.Errorf("package = %q", r.Package)
		}
		if r.Fail {
			failing++
		}
	}
	if len(results) != 4 || failing != 1 {
		t.Errorf("results = %+v, want 4 with 1 failing", results)
	}
}
