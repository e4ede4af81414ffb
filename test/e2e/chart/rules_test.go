package chart

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"gitgate.dev/gitgate/test/e2e/testenv"
	"gitgate.dev/gitgate/webhook/config"
)

// TestWebhookRulesMatchCode renders the chart for several sets of values
// and builds the two webhook configurations with gitgate's code
// (webhook/config) for the same resources, looked up in the API server's
// discovery as gitgate does it (config.ResourcesFor). Everything the API
// server acts on must be equal: rules, operations, scopes, matchPolicy,
// sideEffects, admissionReviewVersions, namespaceSelector, objectSelector,
// failurePolicy, timeoutSeconds, reinvocationPolicy and the Service the API
// server calls. One set lists every resource the API server serves, so
// that the chart's filtering (Events, Leases, admission configurations) and
// its ordering are proven on all of them, not on a sample.
func TestWebhookRulesMatchCode(t *testing.T) {
	helm := requireHelm(t)
	env := testenv.Require(t)
	every := writeValues(t, map[string]any{"managedResources": everyServedResource(t, env)})

	cases := []struct {
		name string
		rel  release
	}{
		{"defaults", release{name: "gitgate", namespace: "gitgate-system"}},
		{"tuned", release{name: "admission", namespace: "platform", values: []string{testdata("values-tuned.yaml")}}},
		{"full", release{name: "gitgate", namespace: "gitgate-system", values: []string{testdata("values-full.yaml")}}},
		{"every-served-resource", release{name: "gitgate", namespace: "ops", values: []string{every}}},
		{"no-resources", release{name: "gitgate", namespace: "gitgate-system", values: []string{
			writeValues(t, map[string]any{"managedResources": []any{}}),
		}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := valuesOf(t, tc.rel)
			resources := resolve(t, env, v.ManagedResources)
			scope := config.Scope{
				Name:             v.FullnameOverride,
				Namespace:        tc.rel.namespace,
				ExemptNamespaces: v.Webhook.ExemptNamespaces,
				Resources:        resources,
				Service:          &config.Service{Name: v.FullnameOverride},
				FailurePolicy:    admissionregistrationv1.FailurePolicyType(v.Webhook.FailurePolicy),
				TimeoutSeconds:   v.Webhook.TimeoutSeconds,
			}
			wantV, err := scope.Validating()
			if err != nil {
				t.Fatal(err)
			}
			wantM, err := scope.Mutating()
			if err != nil {
				t.Fatal(err)
			}

			objs := render(t, helm, tc.rel, false)
			var gotV admissionregistrationv1.ValidatingWebhookConfiguration
			decodeStrict(t, find(t, objs, "ValidatingWebhookConfiguration", v.FullnameOverride), &gotV)
			var gotM admissionregistrationv1.MutatingWebhookConfiguration
			decodeStrict(t, find(t, objs, "MutatingWebhookConfiguration", v.FullnameOverride), &gotM)

			if diff := cmp.Diff(wantV.Webhooks, gotV.Webhooks); diff != "" {
				t.Errorf("validating webhooks: chart differs from webhook/config (-code +chart):\n%s", diff)
			}
			if diff := cmp.Diff(wantM.Webhooks, gotM.Webhooks); diff != "" {
				t.Errorf("mutating webhooks: chart differs from webhook/config (-code +chart):\n%s", diff)
			}
			for _, got := range []map[string]string{gotV.Labels, gotM.Labels} {
				for k, want := range wantV.Labels {
					if got[k] != want {
						t.Errorf("label %s = %q, want %q as webhook/config sets it", k, got[k], want)
					}
				}
			}
			wantAnnotations := map[string]string(nil)
			if v.Certificates.Mode == "certManager" {
				wantAnnotations = map[string]string{"cert-manager.io/inject-ca-from": tc.rel.namespace + "/" + v.FullnameOverride}
			}
			for _, got := range []map[string]string{gotV.Annotations, gotM.Annotations} {
				if !maps.Equal(got, wantAnnotations) {
					t.Errorf("annotations = %v, want %v", got, wantAnnotations)
				}
			}
		})
	}
}

// resolve looks the managed resources up in discovery as gitgate does, and
// checks that each entry says what the API server serves (plural name,
// scope, write subresources): the chart renders rules from the entries,
// gitgate from discovery.
func resolve(t *testing.T, env *testenv.Env, entries []managedResource) []config.Resource {
	t.Helper()
	gvks := make([]schema.GroupVersionKind, 0, len(entries))
	for _, e := range entries {
		gvks = append(gvks, e.gvk())
	}
	resources, missing, err := config.ResourcesFor(env.Discovery, gvks)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Fatalf("managedResources name kinds the API server does not serve: %v", missing)
	}
	served := map[schema.GroupKind]config.Resource{}
	for _, r := range resources {
		served[schema.GroupKind{Group: r.Group, Kind: r.Kind}] = r
	}
	for _, e := range entries {
		want := fromResource(served[e.gvk().GroupKind()])
		got := e
		got.ExtraVerbs = nil
		got.Subresources = slices.Sorted(slices.Values(got.Subresources))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("managedResources entry %s/%s differs from discovery (-served +values):\n%s", e.Group, e.Kind, diff)
		}
	}
	return resources
}

// everyServedResource lists every kind the API server serves, in its
// preferred version, as managedResources entries.
func everyServedResource(t *testing.T, env *testenv.Env) []managedResource {
	t.Helper()
	_, lists, err := env.Discovery.ServerGroupsAndResources()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[schema.GroupKind]bool{}
	var gvks []schema.GroupVersionKind
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range l.APIResources {
			gk := schema.GroupKind{Group: gv.Group, Kind: r.Kind}
			if strings.Contains(r.Name, "/") || seen[gk] {
				continue
			}
			seen[gk] = true
			gvks = append(gvks, gk.WithVersion(""))
		}
	}
	resources, missing, err := config.ResourcesFor(env.Discovery, gvks)
	if err != nil || len(missing) > 0 {
		t.Fatalf("discovery: %v (missing %v)", err, missing)
	}
	entries := make([]managedResource, 0, len(resources))
	never := 0
	for _, r := range resources {
		entries = append(entries, fromResource(r))
		if config.NeverSent(r.Group, r.Resource) {
			never++
		}
	}
	// The set must exercise the filter and the subresources, or the
	// comparison proves less than it claims.
	if never < 3 || !slices.ContainsFunc(resources, func(r config.Resource) bool { return len(r.Subresources) > 1 }) {
		t.Fatalf("discovery served too little to compare: %d resources, %d never sent", len(resources), never)
	}
	return entries
}

// decodeStrict converts a rendered object into a typed one, refusing fields
// the type does not know (a typo in the template would otherwise vanish).
func decodeStrict(t *testing.T, u *unstructured.Unstructured, into any) {
	t.Helper()
	b, err := json.Marshal(u.Object)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
	}
}
