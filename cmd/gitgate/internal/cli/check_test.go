package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const checkPolicy = `package main

deny contains msg if {
	input.kind == "Deployment"
	msg := sprintf("%s: no", [input.metadata.name])
}

warn contains "a service" if input.kind == "Service"
`

// checkDir makes a folder with policy/main.rego and the given files, and
// makes it the working folder.
func checkDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["policy/main.rego"] = checkPolicy
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	return dir
}

func billionLaughs() string {
	var b strings.Builder
	b.WriteString("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		b.WriteString(n + ": &" + n + " [" + strings.Repeat("*"+prev+", ", 8) + "*" + prev + "]\n")
		prev = n
	}
	return b.String()
}

// TestCheckMalformedInputs: every malformed input is exit 2 with a message
// naming the file, never a pass or a crash.
func TestCheckMalformedInputs(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		args    []string
		wantErr string
	}{
		{"invalid yaml", map[string]string{"bad.yaml": "a: [1, 2\nb: }\n"}, []string{"bad.yaml"}, "input bad.yaml: invalid YAML"},
		{"invalid yaml in a folder", map[string]string{"m/ok.yaml": "a: 1\n", "m/sub/bad.yml": "a: : :\n  - b\n"}, []string{"m"}, "input m/sub/bad.yml: invalid YAML"},
		{"yaml alias bomb", map[string]string{"bomb.yaml": billionLaughs()}, []string{"bomb.yaml"}, "input bomb.yaml: invalid YAML: aliases expand"},
		{"binary file", map[string]string{"bin.yaml": "\x7fELF\x02\x01\x01\x00\x00\x00"}, []string{"bin.yaml"}, "input bin.yaml: binary file"},
		{"invalid utf-8", map[string]string{"latin1.json": "{\"a\": \"caf\xe9\"}"}, []string{"latin1.json"}, "input latin1.json: binary file"},
		{"invalid json", map[string]string{"bad.json": `{"a": `}, []string{"bad.json"}, "input bad.json: invalid JSON"},
		{"invalid rego", map[string]string{"policy/broken.rego": "package main\ndeny contains msg if {\n", "a.yaml": "a: 1\n"}, []string{"a.yaml"}, "policy/broken.rego"},
		{"rego type error", map[string]string{"policy/typed.rego": "package main\nx := 1 + \"a\"\n", "a.yaml": "a: 1\n"}, []string{"a.yaml"}, "policy/typed.rego:2"},
		{"missing input", map[string]string{}, []string{"nosuch.yaml"}, "input nosuch.yaml"},
		{"unsupported file type", map[string]string{"a.toml": "a = 1\n"}, []string{"a.toml"}, "input a.toml: unsupported file type"},
		{"no files in folder", map[string]string{"empty/readme.md": "x"}, []string{"empty"}, "no files found"},
		{"no policies", map[string]string{"a.yaml": "a: 1\n"}, []string{"-p", "nopolicy", "a.yaml"}, "nopolicy"},
		{"policy folder without rego", map[string]string{"a.yaml": "a: 1\n", "other/x.txt": "x"}, []string{"-p", "other", "a.yaml"}, "no policies found in [other]"},
		{"bad output format", map[string]string{"a.yaml": "a: 1\n"}, []string{"-o", "xml", "a.yaml"}, `unknown output format "xml"`},
		{"bad rego version", map[string]string{"a.yaml": "a: 1\n"}, []string{"--rego-version", "v9", "a.yaml"}, "invalid Rego version"},
		{"no arguments", map[string]string{}, nil, "missing required arguments"},
		{"bad data", map[string]string{"a.yaml": "a: 1\n", "data/x.json": "{"}, []string{"-d", "data", "a.yaml"}, "read data"},
		{"error in combine", map[string]string{"a.yaml": "a: 1\n", "b.yaml": "a: [\n"}, []string{"--combine", "a.yaml", "b.yaml"}, "input b.yaml: invalid YAML"},
		{"strict mode", map[string]string{"policy/strict.rego": "package main\n\nimport data.unused\n\nwarn contains \"w\" if false\n", "a.yaml": "a: 1\n"}, []string{"--strict", "a.yaml"}, "policy/strict.rego:3"},
		{"builtin errors shown", map[string]string{"policy/num.rego": "package main\n\nwarn contains \"big\" if to_number(input.a) > 1\n", "a.yaml": "a: abc\n"}, []string{"--show-builtin-errors", "a.yaml"}, "check a.yaml"},
		{"bad ignore expression", map[string]string{"a.yaml": "a: 1\n"}, []string{"--ignore", "(", "a.yaml"}, "--ignore"},
		{"everything ignored", map[string]string{"m/a.yaml": "a: 1\n"}, []string{"--ignore", "a\\.yaml$", "m"}, "no files found"},
		{"runtime error in policy", map[string]string{"policy/conflict.rego": "package main\nx := input.a if true\nx := 2 if true\ndeny contains \"d\" if x\n", "a.yaml": "a: 1\n"}, []string{"a.yaml"}, "check a.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkDir(t, tt.files)
			code, stdout, stderr := run(t, "", append([]string{"check"}, tt.args...)...)
			if code != ExitUsage {
				t.Errorf("exit code = %d, want %d (stdout %q)", code, ExitUsage, stdout)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tt.wantErr)
			}
		})
	}
}

func TestCheckRefusesOversizedFile(t *testing.T) {
	dir := checkDir(t, map[string]string{})
	f, err := os.Create(filepath.Join(dir, "huge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// A sparse 50 MB file: the size check must refuse it before reading.
	if err := f.Truncate(50 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	code, _, stderr := run(t, "", "check", "huge.yaml")
	if code != ExitUsage || !strings.Contains(stderr, "input huge.yaml: input larger than 33554432 bytes") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	// The same through standard input, where only the read cap can stop it.
	big := strings.Repeat("# padding\n", 3_400_000)
	code, _, stderr = run(t, big, "check", "-")
	if code != ExitUsage || !strings.Contains(stderr, "input -: input larger than") {
		t.Errorf("stdin: exit %d, stderr %q", code, stderr)
	}
}

func TestCheckVerdicts(t *testing.T) {
	deploy := "kind: Deployment\nmetadata: {name: web}\n"
	svc := "kind: Service\nmetadata: {name: s}\n"
	tests := []struct {
		name  string
		files map[string]string
		args  []string
		stdin string
		code  int
		want  string
	}{
		{"pass", map[string]string{"a.yaml": "kind: ConfigMap\n"}, []string{"--no-color", "a.yaml"}, "", ExitOK, "2 tests, 2 passed, 0 warnings, 0 failures, 0 exceptions"},
		{"failure", map[string]string{"d.yaml": deploy}, []string{"--no-color", "d.yaml"}, "", ExitFailed, "FAIL - d.yaml - main - web: no"},
		{"warning passes", map[string]string{"s.yaml": svc}, []string{"--no-color", "s.yaml"}, "", ExitOK, "WARN - s.yaml - main - a service"},
		{"fail on warn", map[string]string{"s.yaml": svc}, []string{"--fail-on-warn", "s.yaml"}, "", ExitFailed, "a service"},
		{"fail on warn with a failure is 2", map[string]string{"d.yaml": deploy}, []string{"--fail-on-warn", "d.yaml"}, "", ExitUsage, "web: no"},
		{"no fail", map[string]string{"d.yaml": deploy}, []string{"--no-fail", "d.yaml"}, "", ExitOK, "web: no"},
		{"stdin", map[string]string{}, []string{"--no-color", "-"}, deploy, ExitFailed, "FAIL - - main - web: no"},
		{"an input named twice is checked once", map[string]string{"d.yaml": deploy}, []string{"--no-color", "-", "d.yaml", "-", "d.yaml"}, deploy, ExitFailed, "4 tests, 2 passed, 0 warnings, 2 failures"},
		{"test files are not compiled", map[string]string{"policy/main_test.rego": "this is not rego", "a.yaml": "kind: ConfigMap\n"}, []string{"a.yaml"}, "", ExitOK, "2 passed"},
		{"folders are walked for yaml and json only", map[string]string{"m/a/d.yaml": deploy, "m/b/s.yml": svc, "m/c.json": `{"kind": "Deployment", "metadata": {"name": "j"}}`, "m/readme.md": "# not checked", "m/x.txt": "nope"}, []string{"--no-color", "m"}, "", ExitFailed, "6 tests, 3 passed, 1 warning, 2 failures"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkDir(t, tt.files)
			code, stdout, stderr := run(t, tt.stdin, append([]string{"check"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if !strings.Contains(stdout, tt.want) {
				t.Errorf("stdout = %q, want it to contain %q", stdout, tt.want)
			}
		})
	}
}

func TestCheckSymlinksNotFollowed(t *testing.T) {
	dir := checkDir(t, map[string]string{"outside/d.yaml": "kind: Deployment\nmetadata: {name: web}\n", "m/ok.yaml": "kind: ConfigMap\n"})
	if err := os.Symlink(filepath.Join(dir, "outside"), filepath.Join(dir, "m", "link")); err != nil {
		t.Skip("no symlinks:", err)
	}
	if err := os.Symlink(filepath.Join(dir, "outside", "d.yaml"), filepath.Join(dir, "m", "file.yaml")); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ := run(t, "", "check", "-o", "json", "m")
	if code != ExitOK {
		t.Errorf("exit code = %d: a symlink was followed? %s", code, stdout)
	}
	var rs []map[string]any
	if err := json.Unmarshal([]byte(stdout), &rs); err != nil || len(rs) != 1 || rs[0]["filename"] != "m/ok.yaml" {
		t.Errorf("results = %s, want only m/ok.yaml", stdout)
	}
}

func TestCheckParallelOrder(t *testing.T) {
	files := map[string]string{}
	for i := range 120 {
		files[filepath.Join("m", string(rune('a'+i%26))+strings.Repeat("x", i/26)+".yaml")] = "kind: Deployment\nmetadata: {name: w}\n"
	}
	checkDir(t, files)
	_, first, _ := run(t, "", "check", "-o", "json", "m")
	for range 3 {
		if _, again, _ := run(t, "", "check", "-o", "json", "m"); again != first {
			t.Fatal("output order changed between runs")
		}
	}
	var rs []map[string]any
	if err := json.Unmarshal([]byte(first), &rs); err != nil || len(rs) != 120 {
		t.Fatalf("results: %v (%d)", err, len(rs))
	}
	for i := 1; i < len(rs); i++ {
		if rs[i-1]["filename"].(string) > rs[i]["filename"].(string) {
			t.Fatalf("results not in walk order at %d: %v > %v", i, rs[i-1]["filename"], rs[i]["filename"])
		}
	}
}
