package chart

import (
	"strings"
	"testing"
)

// TestLint runs helm lint --strict (warnings fail) with the default values
// and with each values file in testdata.
func TestLint(t *testing.T) {
	helm := requireHelm(t)
	for _, tc := range []struct {
		name   string
		values []string
	}{
		{"defaults", nil},
		{"full", []string{testdata("values-full.yaml")}},
		{"tuned", []string{testdata("values-tuned.yaml")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"lint", "--strict", chartDir(t), "--namespace", "gitgate-system"}
			for _, v := range tc.values {
				args = append(args, "--values", v)
			}
			out, err := runHelm(t.Context(), t, helm, args...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !strings.Contains(string(out), "0 chart(s) failed") {
				t.Errorf("helm lint output:\n%s", out)
			}
		})
	}
}

// TestValuesRefused renders the chart with malformed values: the schema or
// the templates must refuse each, naming what is wrong, instead of
// rendering something the API server or gitgate would choke on later.
func TestValuesRefused(t *testing.T) {
	helm := requireHelm(t)
	const sha = "0123456789abcdef0123456789abcdef01234567"
	deployment := map[string]any{"group": "apps", "version": "v1", "kind": "Deployment", "resource": "deployments", "namespaced": true}
	cases := []struct {
		name   string
		values map[string]any
		want   string
	}{
		{"unknown top-level value", map[string]any{"replica": 3}, "additional properties 'replica' not allowed"},
		{"unknown nested value", map[string]any{"webhook": map[string]any{"timeout": 5}}, "additional properties 'timeout' not allowed"},
		{"name that cannot name a Service", map[string]any{"fullnameOverride": "1gitgate"}, "/fullnameOverride"},
		{"failure policy", map[string]any{"webhook": map[string]any{"failurePolicy": "Deny"}}, "/webhook/failurePolicy"},
		{"timeout above 30", map[string]any{"webhook": map[string]any{"timeoutSeconds": 31}}, "/webhook/timeoutSeconds"},
		{"timeout zero", map[string]any{"webhook": map[string]any{"timeoutSeconds": 0}}, "/webhook/timeoutSeconds"},
		{"exempt namespace not a name", map[string]any{"webhook": map[string]any{"exemptNamespaces": []any{"Bad_NS"}}}, "/webhook/exemptNamespaces/0"},
		{"certificate mode", map[string]any{"certificates": map[string]any{"mode": "manual"}}, "/certificates/mode"},
		{"replicas zero", map[string]any{"replicas": 0}, "/replicas"},
		{"anti-affinity", map[string]any{"podAntiAffinity": "strict"}, "/podAntiAffinity"},
		{"log level", map[string]any{"server": map[string]any{"logLevel": "trace"}}, "/server/logLevel"},
		{"shutdown timeout", map[string]any{"server": map[string]any{"shutdownTimeout": "soon"}}, "/server/shutdownTimeout"},
		{"exempt user with comma", map[string]any{"server": map[string]any{"exemptUsers": []any{"a,b"}}}, "/server/exemptUsers/0"},
		{"extra arg not a flag", map[string]any{"server": map[string]any{"extraArgs": []any{"serve"}}}, "/server/extraArgs/0"},
		{"receiver on the metrics port", map[string]any{"receiver": map[string]any{"port": 8080}}, "/receiver/port"},
		{"image digest", map[string]any{"image": map[string]any{"digest": "latest"}}, "/image/digest"},
		{"resource without version", map[string]any{"managedResources": []any{
			map[string]any{"group": "apps", "kind": "Deployment", "resource": "deployments", "namespaced": true},
		}}, "missing property 'version'"},
		{"resource with a wildcard", map[string]any{"managedResources": []any{
			map[string]any{"group": "apps", "version": "v1", "kind": "Deployment", "resource": "*", "namespaced": true},
		}}, "/managedResources/0/resource"},
		{"subresource that is not a write subresource", map[string]any{"managedResources": []any{
			map[string]any{"group": "", "version": "v1", "kind": "Pod", "resource": "pods", "namespaced": true, "subresources": []any{"exec"}},
		}}, "/managedResources/0/subresources/0"},
		{"extra verb", map[string]any{"managedResources": []any{
			map[string]any{"group": "apps", "version": "v1", "kind": "Deployment", "resource": "deployments", "namespaced": true, "extraVerbs": []any{"*"}},
		}}, "/managedResources/0/extraVerbs/0"},
		{"resource listed twice", map[string]any{"managedResources": []any{deployment, deployment}}, "managedResources lists apps/deployments twice"},
		{"root source without trust root", map[string]any{"rootSource": map[string]any{
			"enabled": true, "spec": map[string]any{"url": "https://git.example/r.git"},
		}}, "missing property 'trustRoot'"},
		{"root source with a misspelled field", map[string]any{"rootSource": map[string]any{
			"enabled": true, "spec": map[string]any{"url": "https://git.example/r.git", "trustRoot": sha, "intervall": "1m"},
		}}, "additional properties 'intervall' not allowed"},
		{"root source with plain http", map[string]any{"rootSource": map[string]any{
			"enabled": true, "spec": map[string]any{"url": "http://git.example/r.git", "trustRoot": sha},
		}}, "/rootSource/spec/url"},
		{"root source with a short trust root", map[string]any{"rootSource": map[string]any{
			"enabled": true, "spec": map[string]any{"url": "https://git.example/r.git", "trustRoot": "abc123"},
		}}, "/rootSource/spec/trustRoot"},
		{"shutdown no longer than the admission timeout", map[string]any{"webhook": map[string]any{"timeoutSeconds": 30}},
			"server.shutdownTimeout (25s) must be longer than webhook.timeoutSeconds (30s)"},
		{"shutdown in minutes no longer than the admission timeout", map[string]any{
			"webhook": map[string]any{"timeoutSeconds": 30}, "server": map[string]any{"shutdownTimeout": "0m30s"},
		}, "server.shutdownTimeout (0m30s) must be longer"},
		{"grace period shorter than the shutdown", map[string]any{
			"server": map[string]any{"shutdownTimeout": "1m30s"}, "terminationGracePeriodSeconds": 90,
		}, "terminationGracePeriodSeconds (90) must be longer than server.shutdownTimeout (1m30s)"},
		{"several replicas without leader election", map[string]any{"server": map[string]any{"leaderElection": false}},
			"server.leaderElection is off with 3 replicas"},
		{"disruption budget that blocks every eviction", map[string]any{"replicas": 1},
			"podDisruptionBudget.minAvailable (1) must be below replicas (1)"},
		{"root source name too long", map[string]any{"rootSource": map[string]any{
			"enabled": true, "name": strings.Repeat("a", 64), "spec": map[string]any{"url": "https://git.example/r.git", "trustRoot": sha},
		}}, "/rootSource/name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := release{name: "gitgate", namespace: "gitgate-system", values: []string{writeValues(t, tc.values)}}
			args := append([]string{"template"}, r.args()...)
			out, err := runHelm(t.Context(), t, helm, append(args, chartDir(t))...)
			if err == nil {
				t.Fatalf("helm template accepted %v:\n%s", tc.values, out)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not mention %q:\n%v", tc.want, err)
			}
		})
	}
}
