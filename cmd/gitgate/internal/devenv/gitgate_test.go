package devenv

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseWebhookCalls(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want map[string]int
	}{
		{
			name: "both webhooks",
			in: `# HELP gitgate_admission_duration_seconds Time to answer an admission request, by webhook.
# TYPE gitgate_admission_duration_seconds histogram
gitgate_admission_duration_seconds_bucket{webhook="mutate",le="0.0005"} 1
gitgate_admission_duration_seconds_sum{webhook="mutate"} 0.0004
gitgate_admission_duration_seconds_count{webhook="mutate"} 2
gitgate_admission_duration_seconds_count{webhook="validate"} 3
gitgate_admission_requests_total{operation="CREATE",kind="Namespace",decision="allowed",reason="OutOfScope"} 5
`,
			want: map[string]int{"mutate": 2, "validate": 3},
		},
		{name: "none yet", in: "# HELP go_goroutines x\ngo_goroutines 12\n", want: map[string]int{}},
		{
			name: "malformed lines skipped",
			in: `gitgate_admission_duration_seconds_count{webhook="validate"}
gitgate_admission_duration_seconds_count{webhook="validate"} x
gitgate_admission_duration_seconds_count{other="a"} 4
gitgate_admission_duration_seconds_count{webhook="validate"} 1e0 1795688351
`,
			want: map[string]int{"validate": 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseWebhookCalls(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %d, want %d", k, got[k], v)
				}
			}
		})
	}
}

func TestMakeLayout(t *testing.T) {
	t.Run("temporary", func(t *testing.T) {
		t.Setenv("TMPDIR", t.TempDir())
		lay, temp, err := makeLayout("")
		if err != nil {
			t.Fatal(err)
		}
		if !temp || !strings.HasPrefix(filepath.Base(lay.root), "gitgate-dev-") || filepath.Dir(lay.root) != os.Getenv("TMPDIR") {
			t.Errorf("root %s temp %v", lay.root, temp)
		}
		if lay.kubeconfig != filepath.Join(lay.root, "kubeconfig") || lay.repo != filepath.Join(lay.root, "repo") {
			t.Errorf("layout %+v", lay)
		}
	})
	t.Run("missing folder is made and kept", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "b")
		lay, temp, err := makeLayout(dir)
		if err != nil || temp || lay.root != dir {
			t.Fatalf("%+v %v %v", lay, temp, err)
		}
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			t.Fatalf("not made: %v", err)
		}
	})
	t.Run("empty folder", func(t *testing.T) {
		dir := t.TempDir()
		if _, temp, err := makeLayout(dir); err != nil || temp {
			t.Fatalf("temp %v err %v", temp, err)
		}
	})
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, dir := range map[string]string{"not empty": full, "a file": filepath.Join(full, "x")} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := makeLayout(dir); !errors.Is(err, ErrBadDir) {
				t.Fatalf("err = %v, want ErrBadDir", err)
			}
		})
	}
}
