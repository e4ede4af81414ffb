package policies_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	corev1 "k8s.io/api/core/v1"
	psaapi "k8s.io/pod-security-admission/api"
	psapolicy "k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"
)

// pssVersion is the Pod Security Standards version the library implements.
// When k8s.io/pod-security-admission ships fixtures for a newer version,
// TestPSAFixtures fails until the library (safe sysctls, new controls) and
// this constant are brought up to it.
const pssVersion = "v1.37"

// Queries for the two levels: the baseline set, and the restricted level,
// which is the baseline set plus the restricted set, as a user selects it
// with -n 'gitgate.pss.*'.
const (
	baselineQuery   = `[d | some p; d := data.gitgate.pss.baseline[p].deny[_]]`
	restrictedQuery = `[d | some level in ["baseline", "restricted"]; some p; d := data.gitgate.pss[level][p].deny[_]]`
)

// checkPolicies maps the Pod Security Admission check a fixture is named after
// (its file name without the trailing number) to the library policy that must
// deny it.
var checkPolicies = map[string]string{
	"allowprivilegeescalation":   "pss.restricted.privilege_escalation",
	"apparmorprofile":            "pss.baseline.apparmor",
	"capabilities_baseline":      "pss.baseline.capabilities",
	"capabilities_restricted":    "pss.restricted.capabilities",
	"hostnamespaces":             "pss.baseline.host_namespaces",
	"hostpathvolumes":            "pss.baseline.host_path_volumes",
	"hostports":                  "pss.baseline.host_ports",
	"hostprobesandhostlifecycle": "pss.baseline.host_probes",
	"privileged":                 "pss.baseline.privileged",
	"procmount":                  "pss.baseline.proc_mount",
	"procmount_restricted":       "pss.restricted.proc_mount",
	"restrictedvolumes":          "pss.restricted.volume_types",
	"runasnonroot":               "pss.restricted.run_as_non_root",
	"runasuser":                  "pss.restricted.run_as_user",
	"seccompprofile_baseline":    "pss.baseline.seccomp",
	"seccompprofile_restricted":  "pss.restricted.seccomp",
	"selinuxoptions":             "pss.baseline.selinux",
	"sysctls":                    "pss.baseline.sysctls",
	"windowshostprocess":         "pss.baseline.windows_host_process",
}

// psaModuleDir returns where the Go tool keeps k8s.io/pod-security-admission.
// The module stays in go.mod because this file imports its packages.
func psaModuleDir(t testing.TB) string {
	t.Helper()
	out, err := exec.CommandContext(context.Background(), "go", "list", "-m", "-json", "k8s.io/pod-security-admission").Output()
	if err != nil {
		t.Fatalf("go list -m k8s.io/pod-security-admission: %v", err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("decode go list output: %v", err)
	}
	if m.Dir == "" {
		t.Fatal("k8s.io/pod-security-admission is not in the module cache (run go mod download)")
	}
	return m.Dir
}

var versionDir = regexp.MustCompile(`^v(\d+)\.(\d+)$`)

// newestVersion returns the newest vMAJOR.MINOR folder in dir.
func newestVersion(t testing.TB, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read fixtures: %v", err)
	}
	best, bestMajor, bestMinor := "", -1, -1
	for _, e := range entries {
		m := versionDir.FindStringSubmatch(e.Name())
		if !e.IsDir() || m == nil {
			continue
		}
		major, _ := strconv.Atoi(m[1])
		minor, _ := strconv.Atoi(m[2])
		if major > bestMajor || (major == bestMajor && minor > bestMinor) {
			best, bestMajor, bestMinor = e.Name(), major, minor
		}
	}
	if best == "" {
		t.Fatalf("no version folder in %s", dir)
	}
	return best
}

// psaFixture is one Pod of Pod Security Admission's test data.
type psaFixture struct {
	level   psaapi.Level
	verdict string // "pass" or "fail"
	name    string // file name without .yaml
	raw     []byte
	pod     map[string]any
}

// check returns the PSA check the fixture is named after.
func (f psaFixture) check() string {
	return strings.TrimRight(f.name, "0123456789")
}

// loadPSAFixtures reads every fixture of the newest version of each level.
func loadPSAFixtures(t testing.TB) []psaFixture {
	t.Helper()
	root := filepath.Join(psaModuleDir(t), "test", "testdata")
	var fixtures []psaFixture
	for _, level := range []psaapi.Level{psaapi.LevelBaseline, psaapi.LevelRestricted} {
		version := newestVersion(t, filepath.Join(root, string(level)))
		if version != pssVersion {
			t.Errorf("pod security admission ships %s fixtures for %s, the library implements %s: review the standards' changes, update the policies and pssVersion", level, version, pssVersion)
		}
		for _, verdict := range []string{"pass", "fail"} {
			dir := filepath.Join(root, string(level), version, verdict)
			files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
			if err != nil || len(files) == 0 {
				t.Fatalf("no fixtures in %s (%v)", dir, err)
			}
			for _, file := range files {
				raw, err := os.ReadFile(file)
				if err != nil {
					t.Fatalf("read fixture: %v", err)
				}
				var pod map[string]any
				if err := yaml.Unmarshal(raw, &pod); err != nil {
					t.Fatalf("decode %s: %v", file, err)
				}
				fixtures = append(fixtures, psaFixture{
					level:   level,
					verdict: verdict,
					name:    strings.TrimSuffix(filepath.Base(file), ".yaml"),
					raw:     raw,
					pod:     pod,
				})
			}
		}
	}
	return fixtures
}

// wrappings puts a fixture Pod into the input shapes and pod templates the
// library must judge alike: the Pod as a manifest and as an admission
// request, and its metadata and spec as the template of a Deployment
// (manifest) and of a CronJob (admission request).
func wrappings(pod map[string]any) map[string]any {
	template := map[string]any{"metadata": pod["metadata"], "spec": pod["spec"]}
	meta := map[string]any{"name": "fixture", "namespace": "default"}
	deployment := map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
		"spec": map[string]any{"template": template},
	}
	cronJob := map[string]any{
		"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta,
		"spec": map[string]any{"jobTemplate": map[string]any{"spec": map[string]any{"template": template}}},
	}
	return map[string]any{
		"Pod manifest":            pod,
		"Pod admission":           admissionReview(pod, "default"),
		"Pod ephemeralcontainers": ephemeralReview(pod),
		"Deployment manifest":     deployment,
		"Deployment admission":    admissionReview(deployment, "default"),
		"CronJob manifest":        cronJob,
		"CronJob admission":       admissionReview(cronJob, "default"),
	}
}

func admissionReview(obj map[string]any, namespace string) map[string]any {
	return map[string]any{
		"apiVersion": "admission.k8s.io/v1",
		"kind":       "AdmissionReview",
		"request": map[string]any{
			"uid":       "fixture",
			"operation": "CREATE",
			"namespace": namespace,
			"object":    obj,
		},
	}
}

// ephemeralReview is the request `kubectl debug` sends: an UPDATE of the
// pods/ephemeralcontainers subresource whose object is the whole Pod.
func ephemeralReview(pod map[string]any) map[string]any {
	r := admissionReview(pod, "default")
	req := r["request"].(map[string]any)
	req["operation"] = "UPDATE"
	req["subResource"] = "ephemeralcontainers"
	return r
}

// TestPSAFixtures runs every Pod Security Admission fixture of the newest
// version through the library: each fail/ Pod must be denied at its level by
// the policy of the check it is named after, each pass/ Pod admitted, in
// every input shape and pod template. Every mismatch is reported.
func TestPSAFixtures(t *testing.T) {
	c := compileLibrary(t, ast.CapabilitiesForThisVersion())
	queries := map[psaapi.Level]rego.PreparedEvalQuery{
		psaapi.LevelBaseline:   prepare(t, c, baselineQuery),
		psaapi.LevelRestricted: prepare(t, c, restrictedQuery),
	}
	fixtures := loadPSAFixtures(t)
	counts := map[string]int{}
	for _, f := range fixtures {
		counts[string(f.level)+"/"+f.verdict]++
		t.Run(fmt.Sprintf("%s/%s/%s", f.level, f.verdict, f.name), func(t *testing.T) {
			want, known := checkPolicies[f.check()]
			if f.verdict == "fail" && !known {
				t.Fatalf("fixture for check %q, which the library does not map to a policy", f.check())
			}
			var verdicts []string
			for shape, input := range wrappings(f.pod) {
				rs, err := results(t.Context(), queries[f.level], input)
				if err != nil {
					t.Errorf("%s: evaluate: %v", shape, err)
					continue
				}
				ids := policyIDs(rs)
				verdicts = append(verdicts, fmt.Sprintf("%s=%v", shape, ids))
				switch {
				case f.verdict == "pass" && len(rs) > 0:
					t.Errorf("%s: admitted by Pod Security Admission, denied by the library: %v", shape, messages(rs))
				case f.verdict == "fail" && len(rs) == 0:
					t.Errorf("%s: denied by Pod Security Admission, admitted by the library", shape)
				case f.verdict == "fail" && !contains(ids, want):
					t.Errorf("%s: denied by %v, not by %s", shape, ids, want)
				}
				for _, r := range rs {
					if problem := checkResultShape(r); problem != "" {
						t.Errorf("%s: result %v: %s", shape, r, problem)
					}
				}
			}
			// The policies that fire must not depend on the input shape.
			sort.Strings(verdicts)
			first := strings.SplitN(verdicts[0], "=", 2)[1]
			for _, v := range verdicts[1:] {
				if strings.SplitN(v, "=", 2)[1] != first {
					t.Errorf("verdicts differ between input shapes: %v", verdicts)
					break
				}
			}
		})
	}
	t.Logf("fixtures %s: %v", pssVersion, counts)
	for _, k := range []string{"baseline/pass", "baseline/fail", "restricted/pass", "restricted/fail"} {
		if counts[k] == 0 {
			t.Errorf("no %s fixtures", k)
		}
	}
}

func messages(rs []map[string]any) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, fmt.Sprint(r["msg"]))
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// psaEvaluator is Pod Security Admission's own Go implementation of the
// standards, the reference the library is compared with.
type psaEvaluator struct {
	eval    psapolicy.Evaluator
	version psaapi.Version
}

func newPSAEvaluator(t testing.TB) psaEvaluator {
	t.Helper()
	ev, err := psapolicy.NewEvaluator(psapolicy.DefaultChecks(), nil)
	if err != nil {
		t.Fatalf("psa evaluator: %v", err)
	}
	v, err := psaapi.ParseVersion(pssVersion)
	if err != nil {
		t.Fatalf("parse %s: %v", pssVersion, err)
	}
	return psaEvaluator{eval: ev, version: v}
}

func (e psaEvaluator) allowed(level psaapi.Level, pod *corev1.Pod) bool {
	rs := e.eval.EvaluatePod(psaapi.LevelVersion{Level: level, Version: e.version}, &pod.ObjectMeta, &pod.Spec)
	for _, r := range rs {
		if !r.Allowed {
			return false
		}
	}
	return true
}

// applyAPIDefaults applies the one API server default the standards depend
// on: a volume that names no source becomes an emptyDir. The library judges
// a manifest as the API server will store it.
func applyAPIDefaults(pod *corev1.Pod) {
	for i := range pod.Spec.Volumes {
		if reflect.ValueOf(pod.Spec.Volumes[i].VolumeSource).IsZero() {
			pod.Spec.Volumes[i].EmptyDir = &corev1.EmptyDirVolumeSource{}
		}
	}
}

// rejectedByAPIValidation reports whether the API server refuses pod before
// admission, so that no admission verdict on it matters: Linux-only
// security fields on a Windows pod. Pod Security Admission exempts Windows
// pods from some restricted checks and lets those checks override the
// baseline ones; the library keeps baseline and restricted as separate
// policies, which only disagrees on such pods.
func rejectedByAPIValidation(pod *corev1.Pod) bool {
	if pod.Spec.OS == nil || pod.Spec.OS.Name != corev1.Windows {
		return false
	}
	linuxOnly := func(sc *corev1.SecurityContext) bool {
		return sc != nil && (sc.Capabilities != nil || sc.SeccompProfile != nil || sc.AllowPrivilegeEscalation != nil ||
			sc.SELinuxOptions != nil || sc.ProcMount != nil || sc.AppArmorProfile != nil || sc.RunAsUser != nil ||
			sc.RunAsGroup != nil || sc.Privileged != nil || sc.ReadOnlyRootFilesystem != nil)
	}
	if psc := pod.Spec.SecurityContext; psc != nil && (psc.SeccompProfile != nil || psc.SELinuxOptions != nil ||
		psc.AppArmorProfile != nil || psc.RunAsUser != nil || psc.RunAsGroup != nil || len(psc.Sysctls) > 0) {
		return true
	}
	if pod.Spec.HostUsers != nil {
		return true
	}
	for i := range pod.Spec.InitContainers {
		if linuxOnly(pod.Spec.InitContainers[i].SecurityContext) {
			return true
		}
	}
	for i := range pod.Spec.Containers {
		if linuxOnly(pod.Spec.Containers[i].SecurityContext) {
			return true
		}
	}
	for i := range pod.Spec.EphemeralContainers {
		if linuxOnly(pod.Spec.EphemeralContainers[i].SecurityContext) {
			return true
		}
	}
	return false
}

// psaAgreement compares the library with Pod Security Admission's Go
// evaluator on one Pod given as YAML, at both levels. It returns "" when they
// agree or the input is not a Pod the API server would admit for review.
func psaAgreement(ctx context.Context, ev psaEvaluator, queries map[psaapi.Level]rego.PreparedEvalQuery, raw []byte) (string, error) {
	// YAML aliases can expand a small input into a huge Pod; what is compared
	// here is the policies, not YAML decoding, so inputs that use aliases or
	// are larger than any real Pod are left out.
	if len(raw) > maxFuzzPod || bytes.ContainsAny(raw, "&*") {
		return "", nil
	}
	var pod corev1.Pod
	if err := yaml.Unmarshal(raw, &pod); err != nil {
		return "", nil //nolint:nilerr // not a Pod: nothing to compare
	}
	applyAPIDefaults(&pod)
	if rejectedByAPIValidation(&pod) {
		return "", nil
	}
	// The library sees the Pod as the API server sends it: the typed object
	// encoded as JSON.
	b, err := json.Marshal(&pod)
	if err != nil {
		return "", fmt.Errorf("encode pod: %w", err)
	}
	if len(b) > maxFuzzPod {
		return "", nil
	}
	var input map[string]any
	if err := json.Unmarshal(b, &input); err != nil {
		return "", fmt.Errorf("decode pod: %w", err)
	}
	input["apiVersion"], input["kind"] = "v1", "Pod"
	for _, level := range []psaapi.Level{psaapi.LevelBaseline, psaapi.LevelRestricted} {
		rs, err := results(ctx, queries[level], input)
		if err != nil {
			return "", fmt.Errorf("evaluate: %w", err)
		}
		want := ev.allowed(level, &pod)
		if got := len(rs) == 0; got != want {
			return fmt.Sprintf("%s: pod security admission allowed=%v, library allowed=%v %v\npod: %s", level, want, got, messages(rs), b), nil
		}
	}
	return "", nil
}

// seedVariants are pod spec fields merged into each fixture for extra seeds:
// user namespaces relax runAsNonRoot, runAsUser and the baseline procMount;
// spec.os exempts Windows pods from some restricted checks.
var seedVariants = []map[string]any{
	{"hostUsers": false},
	{"hostUsers": true},
	{"os": map[string]any{"name": "linux"}},
	{"os": map[string]any{"name": "windows"}},
}

// withSpec returns pod as YAML with fields set in its spec.
func withSpec(pod map[string]any, fields map[string]any) ([]byte, error) {
	spec := map[string]any{}
	if s, ok := pod["spec"].(map[string]any); ok {
		for k, v := range s {
			spec[k] = v
		}
	}
	for k, v := range fields {
		spec[k] = v
	}
	out := map[string]any{}
	for k, v := range pod {
		out[k] = v
	}
	out["spec"] = spec
	b, err := yaml.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode variant: %w", err)
	}
	return b, nil
}

// maxFuzzPod bounds the Pods the fuzz test compares (bytes of YAML or JSON).
const maxFuzzPod = 64 << 10

// FuzzPSAAgreement mutates Pods, starting from every fixture, and checks that
// the library and Pod Security Admission's evaluator give the same verdict at
// both levels. The seeds run in plain go test.
func FuzzPSAAgreement(f *testing.F) {
	for _, fx := range loadPSAFixtures(f) {
		f.Add(fx.raw)
		// The fixtures exercise one control each; the variants cross them
		// with the pod-level switches that relax or exempt controls.
		for _, v := range seedVariants {
			raw, err := withSpec(fx.pod, v)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(raw)
		}
	}
	c := compileLibrary(f, ast.CapabilitiesForThisVersion())
	queries := map[psaapi.Level]rego.PreparedEvalQuery{
		psaapi.LevelBaseline:   prepare(f, c, baselineQuery),
		psaapi.LevelRestricted: prepare(f, c, restrictedQuery),
	}
	ev := newPSAEvaluator(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		diff, err := psaAgreement(t.Context(), ev, queries, raw)
		if err != nil {
			t.Fatal(err)
		}
		if diff != "" {
			t.Error(diff)
		}
	})
}
