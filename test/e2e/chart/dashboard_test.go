package chart

import (
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gitgate.dev/gitgate/test/e2e/testenv"
)

// requiredMetrics must each appear in the dashboard: what an operator needs
// to see admission, syncs, drift and the size of the managed state.
var requiredMetrics = []string{
	"gitgate_admission_requests_total",
	"gitgate_admission_duration_seconds",
	"gitgate_sync_total",
	"gitgate_sync_duration_seconds",
	"gitgate_drift_detected_total",
	"gitgate_drift_reverted_total",
	"gitgate_drift_revert_seconds",
	"gitgate_managed_objects",
}

var (
	metricRef = regexp.MustCompile(`\bgitgate_[a-z0-9_]+`)
	// metricDef is how gitgate's code names a metric
	// (prometheus.CounterOpts{Name: "gitgate_..."} and the like).
	metricDef = regexp.MustCompile(`Name:\s*"(gitgate_[a-z0-9_]+)"`)
)

// TestDashboard renders the dashboard ConfigMap and checks that it is a
// Grafana dashboard whose every query names metrics gitgate's code
// defines (a renamed metric would leave an empty panel behind), covering
// requiredMetrics.
func TestDashboard(t *testing.T) {
	helm := requireHelm(t)
	defined := definedMetrics(t)

	t.Run("defaults", func(t *testing.T) {
		objs := render(t, helm, release{name: "gitgate", namespace: "gitgate-system"}, false)
		cm := find(t, objs, "ConfigMap", "gitgate-dashboard")
		if cm.GetNamespace() != "gitgate-system" || cm.GetLabels()["grafana_dashboard"] != "1" {
			t.Errorf("dashboard ConfigMap in %q with labels %v", cm.GetNamespace(), cm.GetLabels())
		}
		data, _, err := unstructured.NestedString(cm.Object, "data", "gitgate.json")
		if err != nil {
			t.Fatal(err)
		}
		var dash struct {
			UID    string `json:"uid"`
			Panels []struct {
				ID      int    `json:"id"`
				Type    string `json:"type"`
				Title   string `json:"title"`
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
		}
		if err := json.Unmarshal([]byte(data), &dash); err != nil {
			t.Fatalf("dashboard JSON: %v", err)
		}
		if dash.UID == "" || len(dash.Panels) == 0 {
			t.Fatalf("dashboard without uid or panels")
		}
		used := map[string]bool{}
		ids := map[int]bool{}
		for _, p := range dash.Panels {
			if ids[p.ID] {
				t.Errorf("panel id %d used twice", p.ID)
			}
			ids[p.ID] = true
			if p.Type == "row" {
				continue
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, q := range p.Targets {
				names := metricRef.FindAllString(q.Expr, -1)
				if len(names) == 0 {
					t.Errorf("panel %q: query %q names no gitgate metric", p.Title, q.Expr)
				}
				for _, n := range names {
					base := n
					for _, suffix := range []string{"_bucket", "_sum", "_count"} {
						if b, ok := strings.CutSuffix(n, suffix); ok && defined[b] {
							base = b
						}
					}
					if !defined[base] {
						t.Errorf("panel %q: metric %s is not defined in gitgate's code", p.Title, n)
					}
					used[base] = true
				}
			}
		}
		for _, m := range requiredMetrics {
			if !used[m] {
				t.Errorf("no panel shows %s", m)
			}
		}
	})

	t.Run("elsewhere", func(t *testing.T) {
		objs := render(t, helm, release{name: "gitgate", namespace: "gitgate-system", values: []string{testdata("values-full.yaml")}}, false)
		cm := find(t, objs, "ConfigMap", "gitgate-dashboard")
		if cm.GetNamespace() != "monitoring" || cm.GetAnnotations()["grafana_folder"] != "gitgate" {
			t.Errorf("dashboard ConfigMap in %q with annotations %v", cm.GetNamespace(), cm.GetAnnotations())
		}
	})

	t.Run("disabled", func(t *testing.T) {
		objs := render(t, helm, release{name: "gitgate", namespace: "gitgate-system", values: []string{testdata("values-tuned.yaml")}}, false)
		for _, o := range objs {
			if o.GetKind() == "ConfigMap" {
				t.Errorf("ConfigMap %s rendered with the dashboard disabled", o.GetName())
			}
		}
	})
}

// definedMetrics collects the metric names gitgate's non-test Go code
// defines.
func definedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "test") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range metricDef.FindAllSubmatch(b, -1) {
			defined[string(m[1])] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range requiredMetrics {
		if !defined[m] {
			t.Errorf("metric %s is not defined in gitgate's code (found %v)", m, slices.Sorted(maps.Keys(defined)))
		}
	}
	return defined
}
