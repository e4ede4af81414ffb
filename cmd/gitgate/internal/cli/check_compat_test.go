package cli

import (
	"cmp"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
)

// conftestCases is where the conftest compatibility cases live, with the
// output of the real conftest v0.71.1 recorded next to each
// (policy/testdata/conftest/regen.sh writes conftest.out and conftest.code).
const conftestCases = "../../../../policy/testdata/conftest"

// TestCheckConftestCompat runs `gitgate check` in-process on every case and
// compares its output and exit code with conftest's.
//
// Normalization, and why:
//   - json: compared as JSON values, with the results sorted by namespace
//     and file name, because conftest walks Go maps and reports files and
//     namespaces in a random order (gitgate: argument order, then namespace
//     order).
//   - sarif: compared as JSON values, with the tool's name, version and URI
//     left out: they name the tool that ran.
//   - junit: exact, except the go.version property, which is the Go version
//     each binary was built with.
//   - stdout, tap, table, github: exact. The cases keep these formats to one
//     file and one namespace, where conftest's order is deterministic.
func TestCheckConftestCompat(t *testing.T) {
	root, err := filepath.Abs(conftestCases)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		n++
		dir := filepath.Join(root, e.Name())
		t.Run(e.Name(), func(t *testing.T) {
			args := readLines(t, filepath.Join(dir, "args"))
			want := readFile(t, filepath.Join(dir, "conftest.out"))
			wantCode, err := strconv.Atoi(strings.TrimSpace(readFile(t, filepath.Join(dir, "conftest.code"))))
			if err != nil {
				t.Fatal(err)
			}
			stdin := ""
			if b, err := os.ReadFile(filepath.Join(dir, "stdin")); err == nil {
				stdin = string(b)
			}
			t.Chdir(dir)
			code, got, stderr := run(t, stdin, append([]string{"check"}, args...)...)
			if code != wantCode {
				t.Errorf("exit code = %d, conftest gives %d (stderr %q)", code, wantCode, stderr)
			}
			compareOutput(t, outputFormat(args), got, want)
		})
	}
	if n < 40 {
		t.Fatalf("found %d cases in %s, want at least 40", n, root)
	}
}

func outputFormat(args []string) string {
	for i, a := range args {
		switch {
		case (a == "-o" || a == "--output") && i+1 < len(args):
			return args[i+1]
		case strings.HasPrefix(a, "--output="):
			return strings.TrimPrefix(a, "--output=")
		}
	}
	return "stdout"
}

var goVersionProperty = regexp.MustCompile(`<property name="go.version" value="[^"]*">`)

func compareOutput(t *testing.T, format, got, want string) {
	t.Helper()
	switch format {
	case "json":
		g, w := sortedResults(t, got), sortedResults(t, want)
		if d := gocmp.Diff(w, g); d != "" {
			t.Errorf("json differs from conftest (-conftest +gitgate):\n%s\ngot:\n%s", d, got)
		}
	case "sarif":
		g, w := sarifWithoutTool(t, got), sarifWithoutTool(t, want)
		if d := gocmp.Diff(w, g); d != "" {
			t.Errorf("sarif differs from conftest (-conftest +gitgate):\n%s", d)
		}
	case "junit":
		g := goVersionProperty.ReplaceAllString(got, `<property name="go.version" value="GO">`)
		w := goVersionProperty.ReplaceAllString(want, `<property name="go.version" value="GO">`)
		if g != w {
			t.Errorf("junit differs from conftest:\n%s", gocmp.Diff(w, g))
		}
	default:
		if got != want {
			t.Errorf("%s output differs from conftest (-conftest +gitgate):\n%s", format, gocmp.Diff(want, got))
		}
	}
}

func sortedResults(t *testing.T, s string) []map[string]any {
	t.Helper()
	var rs []map[string]any
	if err := json.Unmarshal([]byte(s), &rs); err != nil {
		t.Fatalf("invalid json %q: %v", s, err)
	}
	slices.SortStableFunc(rs, func(a, b map[string]any) int {
		return cmp.Or(
			cmp.Compare(a["namespace"].(string), b["namespace"].(string)),
			cmp.Compare(a["filename"].(string), b["filename"].(string)),
		)
	})
	return rs
}

func sarifWithoutTool(t *testing.T, s string) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		t.Fatalf("invalid sarif %q: %v", s, err)
	}
	runs, _ := doc["runs"].([]any)
	for _, r := range runs {
		driver := r.(map[string]any)["tool"].(map[string]any)["driver"].(map[string]any)
		for _, k := range []string{"name", "version", "informationUri"} {
			if _, ok := driver[k]; !ok {
				t.Errorf("sarif driver has no %q", k)
			}
			delete(driver, k)
		}
	}
	return doc
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readLines(t *testing.T, name string) []string {
	t.Helper()
	return strings.Split(strings.TrimRight(readFile(t, name), "\n"), "\n")
}
