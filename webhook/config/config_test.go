package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.yaml")

// managed is a scope's resources as discovery reports them on a 1.37 API
// server, plus the kinds that must never get rules.
func managed() []Resource {
	return []Resource{
		{Group: "apps", Kind: "Deployment", Resource: "deployments", Version: "v1", Namespaced: true, Subresources: []string{"status", "scale"}},
		{Group: "apps", Kind: "StatefulSet", Resource: "statefulsets", Version: "v1", Namespaced: true, Subresources: []string{"scale", "status"}},
		{Group: "", Kind: "Pod", Resource: "pods", Version: "v1", Namespaced: true, Subresources: []string{"binding", "ephemeralcontainers", "eviction", "resize", "status"}},
		{Group: "", Kind: "ConfigMap", Resource: "configmaps", Version: "v1", Namespaced: true},
		{Group: "", Kind: "ReplicationController", Resource: "replicationcontrollers", Version: "v1", Namespaced: true, Subresources: []string{"scale"}},
		{Group: "autoscaling", Kind: "HorizontalPodAutoscaler", Resource: "horizontalpodautoscalers", Version: "v2", Namespaced: true},
		{Group: "", Kind: "Namespace", Resource: "namespaces", Version: "v1", Subresources: []string{"finalize", "status"}},
		{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition", Resource: "customresourcedefinitions", Version: "v1"},
		{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole", Resource: "clusterroles", Version: "v1"},
		// Asked for, never sent.
		{Group: "", Kind: "Event", Resource: "events", Version: "v1", Namespaced: true},
		{Group: "events.k8s.io", Kind: "Event", Resource: "events", Version: "v1", Namespaced: true},
		{Group: "coordination.k8s.io", Kind: "Lease", Resource: "leases", Version: "v1", Namespaced: true},
		{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration", Resource: "validatingwebhookconfigurations", Version: "v1"},
	}
}

func TestGolden(t *testing.T) {
	cases := []struct {
		name  string
		scope Scope
	}{
		{"service", Scope{
			Namespace: "gitgate-system",
			Resources: managed(),
			Service:   &Service{Name: "gitgate-webhook"},
		}},
		{"url-overrides", Scope{
			Name:             "gitgate-e2e",
			Namespace:        "gitgate",
			ExemptNamespaces: []string{"monitoring", "gitgate"},
			Resources:        managed()[:4],
			URL:              "https://127.0.0.1:9443/",
			CABundle:         []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
			FailurePolicy:    admissionregistrationv1.Ignore,
			TimeoutSeconds:   10,
		}},
		{"cluster-only", Scope{
			Namespace: "gitgate-system",
			Resources: managed()[6:9],
			Service:   &Service{Name: "gitgate", Namespace: "other", Port: 8443},
		}},
		{"empty", Scope{Namespace: "gitgate-system", Service: &Service{Name: "gitgate"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := tc.scope.Validating()
			if err != nil {
				t.Fatal(err)
			}
			m, err := tc.scope.Mutating()
			if err != nil {
				t.Fatal(err)
			}
			got, err := Marshal(v, m)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.name+".golden.yaml")
			if *update {
				if err := os.WriteFile(path, got, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if d := cmp.Diff(string(want), string(got)); d != "" {
				t.Errorf("%s differs (-want +got, -update rewrites it):\n%s", path, d)
			}
		})
	}
}

// TestGoldenRoundTrip reads the golden YAML back into typed objects: the
// chart will carry this text, so it must mean what the objects mean.
func TestGoldenRoundTrip(t *testing.T) {
	s := Scope{Namespace: "gitgate-system", Resources: managed(), Service: &Service{Name: "gitgate-webhook"}}
	v, err := s.Validating()
	if err != nil {
		t.Fatal(err)
	}
	y, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var back admissionregistrationv1.ValidatingWebhookConfiguration
	if err := yaml.UnmarshalStrict([]byte(strings.TrimPrefix(string(y), "---\n")), &back); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(v, &back); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
}

func TestValidatingRules(t *testing.T) {
	s := Scope{Namespace: "gitgate-system", Resources: managed(), URL: "https://127.0.0.1:9443"}
	v, err := s.Validating()
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Webhooks) != 2 {
		t.Fatalf("%d webhooks, want a namespaced and a cluster one", len(v.Webhooks))
	}
	ns, cl := v.Webhooks[0], v.Webhooks[1]
	if ns.Name != ValidateNamespacedWebhook || cl.Name != ValidateClusterWebhook {
		t.Fatalf("webhook names %q, %q", ns.Name, cl.Name)
	}
	wantOps := []admissionregistrationv1.OperationType{"CREATE", "UPDATE", "DELETE"}
	for _, w := range v.Webhooks {
		checkCommon(t, w.Name, w.FailurePolicy, w.MatchPolicy, w.SideEffects, w.TimeoutSeconds, w.AdmissionReviewVersions, w.NamespaceSelector, w.ObjectSelector)
		if got := *w.ClientConfig.URL; got != "https://127.0.0.1:9443/validate" {
			t.Errorf("%s: URL %q", w.Name, got)
		}
		for _, r := range managedRules(w.Rules) {
			if !slices.Equal(r.Operations, wantOps) {
				t.Errorf("%s: %v: operations %v, want %v", w.Name, r.Resources, r.Operations, wantOps)
			}
		}
	}
	if n := len(ns.Rules) - len(managedRules(ns.Rules)); n != 0 {
		t.Errorf("the namespaced webhook has %d GitSource status rules", n)
	}
	if d := cmp.Diff(SourceStatusRule(), cl.Rules[len(cl.Rules)-1]); d != "" {
		t.Errorf("the cluster webhook's last rule is not the GitSource status rule (-want +got):\n%s", d)
	}
	got := resourcesOf(ns.Rules, admissionregistrationv1.NamespacedScope, t)
	want := []string{
		"/configmaps", "/pods", "/pods/ephemeralcontainers", "/pods/resize",
		"/replicationcontrollers", "/replicationcontrollers/scale",
		"apps/deployments", "apps/deployments/scale", "apps/statefulsets", "apps/statefulsets/scale",
		"autoscaling/horizontalpodautoscalers",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("namespaced resources (-want +got):\n%s", d)
	}
	got = resourcesOf(cl.Rules, admissionregistrationv1.ClusterScope, t)
	want = []string{"/namespaces", "apiextensions.k8s.io/customresourcedefinitions", "gitgate.dev/gitsources/status", "rbac.authorization.k8s.io/clusterroles"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("cluster resources (-want +got):\n%s", d)
	}
	for _, w := range v.Webhooks {
		for _, r := range managedRules(w.Rules) {
			want := []string{"v1"}
			if r.APIGroups[0] == "autoscaling" {
				want = []string{"v2"}
			}
			if !slices.Equal(r.APIVersions, want) {
				t.Errorf("%v: versions %v, want %v (one version, the one asked for)", r.Resources, r.APIVersions, want)
			}
		}
	}
}

func TestMutatingRules(t *testing.T) {
	s := Scope{Namespace: "gitgate-system", Resources: managed(), Service: &Service{Name: "gitgate"}}
	m, err := s.Mutating()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Webhooks) != 2 || m.Webhooks[0].Name != MutateNamespacedWebhook || m.Webhooks[1].Name != MutateClusterWebhook {
		t.Fatalf("webhooks %+v", m.Webhooks)
	}
	for _, w := range m.Webhooks {
		checkCommon(t, w.Name, w.FailurePolicy, w.MatchPolicy, w.SideEffects, w.TimeoutSeconds, w.AdmissionReviewVersions, w.NamespaceSelector, w.ObjectSelector)
		if w.ReinvocationPolicy == nil || *w.ReinvocationPolicy != admissionregistrationv1.NeverReinvocationPolicy {
			t.Errorf("%s: reinvocationPolicy %v", w.Name, w.ReinvocationPolicy)
		}
		if p := *w.ClientConfig.Service.Path; p != MutatePath {
			t.Errorf("%s: path %q", w.Name, p)
		}
		for _, r := range w.Rules {
			if !slices.Equal(r.Operations, []admissionregistrationv1.OperationType{"CREATE", "UPDATE"}) {
				t.Errorf("%s: operations %v", w.Name, r.Operations)
			}
			for _, res := range r.Resources {
				if strings.Contains(res, "/") {
					t.Errorf("%s: subresource %q in the mutating configuration", w.Name, res)
				}
			}
		}
	}
}

func checkCommon(t *testing.T, name string, fp *admissionregistrationv1.FailurePolicyType, mp *admissionregistrationv1.MatchPolicyType,
	se *admissionregistrationv1.SideEffectClass, timeout *int32, versions []string, nsSel, objSel *metav1.LabelSelector,
) {
	t.Helper()
	if *fp != admissionregistrationv1.Fail || *mp != admissionregistrationv1.Equivalent || *se != admissionregistrationv1.SideEffectClassNone || *timeout != 3 {
		t.Errorf("%s: failurePolicy %s matchPolicy %s sideEffects %s timeout %d", name, *fp, *mp, *se, *timeout)
	}
	if !slices.Equal(versions, []string{"v1"}) {
		t.Errorf("%s: admissionReviewVersions %v", name, versions)
	}
	want := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn,
		Values: []string{"gitgate-system", "kube-node-lease", "kube-system"},
	}}}
	if d := cmp.Diff(want, nsSel); d != "" {
		t.Errorf("%s: namespaceSelector (-want +got):\n%s", name, d)
	}
	// No object selector: a request must not be able to label itself out.
	if len(objSel.MatchLabels) > 0 || len(objSel.MatchExpressions) > 0 {
		t.Errorf("%s: objectSelector %v", name, objSel)
	}
}

// resourcesOf flattens rules to group/resource strings, checking each rule's
// scope on the way.
func resourcesOf(rules []admissionregistrationv1.RuleWithOperations, scope admissionregistrationv1.ScopeType, t *testing.T) []string {
	t.Helper()
	var out []string
	for _, r := range rules {
		if *r.Scope != scope {
			t.Errorf("rule %v: scope %s, want %s", r.Resources, *r.Scope, scope)
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				out = append(out, g+"/"+res)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestNeverSentFiltered(t *testing.T) {
	s := Scope{Namespace: "gitgate-system", Service: &Service{Name: "gitgate"}, Resources: []Resource{
		{Kind: "Event", Resource: "events", Version: "v1", Namespaced: true},
		{Group: "events.k8s.io", Kind: "Event", Resource: "events", Version: "v1", Namespaced: true},
		{Group: "coordination.k8s.io", Kind: "Lease", Resource: "leases", Version: "v1", Namespaced: true},
	}}
	v, err := s.Validating()
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Mutating()
	if err != nil {
		t.Fatal(err)
	}
	// Only the GitSource status rule, which every validating
	// configuration carries.
	if len(v.Webhooks) != 1 || len(managedRules(v.Webhooks[0].Rules)) != 0 || len(m.Webhooks) != 0 {
		t.Fatalf("events and leases produced webhooks: %+v %+v", v.Webhooks, m.Webhooks)
	}
}

// managedRules leaves out the GitSource status rule, which Validating adds
// to every configuration whatever the Scope.
func managedRules(rules []admissionregistrationv1.RuleWithOperations) []admissionregistrationv1.RuleWithOperations {
	return slices.DeleteFunc(slices.Clone(rules), func(r admissionregistrationv1.RuleWithOperations) bool {
		return slices.Equal(r.APIGroups, []string{SourceGroup}) && slices.Equal(r.Resources, []string{SourceResource + "/status"})
	})
}

func TestMergesDuplicates(t *testing.T) {
	s := Scope{Namespace: "gitgate-system", Service: &Service{Name: "gitgate"}, Resources: []Resource{
		{Group: "apps", Resource: "deployments", Version: "v1", Namespaced: true},
		{Group: "apps", Resource: "deployments", Version: "v1", Namespaced: true, Subresources: []string{"scale", "status"}},
	}}
	v, err := s.Validating()
	if err != nil {
		t.Fatal(err)
	}
	rules := v.Webhooks[0].Rules
	if len(rules) != 1 || !slices.Equal(rules[0].APIVersions, []string{"v1"}) ||
		!slices.Equal(rules[0].Resources, []string{"deployments", "deployments/scale"}) {
		t.Fatalf("rules %+v", rules)
	}
}

func TestInvalidScope(t *testing.T) {
	ok := func() Scope {
		return Scope{Namespace: "gitgate-system", Service: &Service{Name: "gitgate"}, Resources: managed()[:1]}
	}
	cases := []struct {
		name   string
		change func(*Scope)
		want   string
	}{
		{"no namespace", func(s *Scope) { s.Namespace = "" }, "gitgate namespace"},
		{"bad name", func(s *Scope) { s.Name = "Not_A_Name" }, "name"},
		{"no endpoint", func(s *Scope) { s.Service = nil }, "neither a service nor a URL"},
		{"both endpoints", func(s *Scope) { s.URL = "https://x" }, "both a service and a URL"},
		{"bad service name", func(s *Scope) { s.Service.Name = "1abc" }, "service name"},
		{"bad service namespace", func(s *Scope) { s.Service.Namespace = "a.b" }, "service namespace"},
		{"bad port", func(s *Scope) { s.Service.Port = 70000 }, "service port"},
		{"http URL", func(s *Scope) { s.Service, s.URL = nil, "http://127.0.0.1:9443" }, "scheme must be https"},
		{"URL without host", func(s *Scope) { s.Service, s.URL = nil, "https:///x" }, "no host"},
		{"URL with user", func(s *Scope) { s.Service, s.URL = nil, "https://u:p@h" }, "user information"},
		{"URL with query", func(s *Scope) { s.Service, s.URL = nil, "https://h/?a=b" }, "query"},
		{"URL with fragment", func(s *Scope) { s.Service, s.URL = nil, "https://h/#f" }, "fragment"},
		{"unparsable URL", func(s *Scope) { s.Service, s.URL = nil, "https://h:port" }, "URL"},
		{"failure policy", func(s *Scope) { s.FailurePolicy = "Maybe" }, "failurePolicy"},
		{"timeout", func(s *Scope) { s.TimeoutSeconds = 31 }, "timeoutSeconds"},
		{"negative timeout", func(s *Scope) { s.TimeoutSeconds = -1 }, "timeoutSeconds"},
		{"exempt namespace", func(s *Scope) { s.ExemptNamespaces = []string{"Bad"} }, "exempt namespace"},
		{"no version", func(s *Scope) { s.Resources[0].Version = "" }, "version"},
		{"wildcard version", func(s *Scope) { s.Resources[0].Version = "*" }, "version"},
		{"two versions", func(s *Scope) {
			r := s.Resources[0]
			r.Version = "v1beta1"
			s.Resources = append(s.Resources, r)
		}, "listed in versions v1 and v1beta1"},
		{"wildcard resource", func(s *Scope) { s.Resources[0].Resource = "*" }, "plural"},
		{"subresource as resource", func(s *Scope) { s.Resources[0].Resource = "deployments/scale" }, "plural"},
		{"upper-case resource", func(s *Scope) { s.Resources[0].Resource = "Deployments" }, "plural"},
		{"bad group", func(s *Scope) { s.Resources[0].Group = "Apps!" }, "group"},
		{"scope conflict", func(s *Scope) {
			r := s.Resources[0]
			r.Namespaced = false
			s.Resources = append(s.Resources, r)
		}, "both as namespaced and as cluster-scoped"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := ok()
			tc.change(&s)
			_, verr := s.Validating()
			_, merr := s.Mutating()
			for _, err := range []error{verr, merr} {
				if !errors.Is(err, ErrInvalidScope) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %v, want ErrInvalidScope mentioning %q", err, tc.want)
				}
			}
		})
	}
}

// TestConfigurationsDoNotShare makes sure the two objects share no
// pointers, so that injecting a caBundle into one leaves the other alone.
func TestConfigurationsDoNotShare(t *testing.T) {
	s := Scope{Namespace: "gitgate-system", Service: &Service{Name: "gitgate"}, Resources: managed(), CABundle: []byte("ca")}
	v, err := s.Validating()
	if err != nil {
		t.Fatal(err)
	}
	v.Webhooks[0].ClientConfig.CABundle[0] = 'X'
	v.Webhooks[0].NamespaceSelector.MatchExpressions[0].Values[0] = "changed"
	*v.Webhooks[0].ClientConfig.Service.Port = 1
	w1 := v.Webhooks[1]
	if string(w1.ClientConfig.CABundle) != "ca" || string(s.CABundle) != "ca" {
		t.Errorf("caBundle shared: %q %q", w1.ClientConfig.CABundle, s.CABundle)
	}
	if *w1.ClientConfig.Service.Port != DefaultServicePort {
		t.Error("service reference shared between webhooks")
	}
	if w1.NamespaceSelector.MatchExpressions[0].Values[0] == "changed" {
		t.Error("namespaceSelector shared between webhooks")
	}
}

func TestMarshalNeedsKind(t *testing.T) {
	if _, err := Marshal(&admissionregistrationv1.ValidatingWebhookConfiguration{}); err == nil {
		t.Fatal("marshalled an object without apiVersion and kind")
	}
}

// TestSourceStatusRule: every validating configuration sends UPDATE on
// gitsources/status, once, from its cluster-scoped webhook; the mutating
// configuration never does.
func TestSourceStatusRule(t *testing.T) {
	gitSources := Resource{Group: SourceGroup, Kind: "GitSource", Resource: SourceResource, Version: "v1alpha1", Subresources: []string{"status"}}
	cases := []struct {
		name      string
		resources []Resource
		// managed lists the cluster webhook's other resources.
		managed []string
	}{
		{"no resources", nil, nil},
		{"namespaced only", managed()[:4], nil},
		{"cluster-scoped too", managed(), []string{"namespaces", "customresourcedefinitions", "clusterroles"}},
		{"GitSources managed as well", []Resource{gitSources}, []string{"gitsources"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := Scope{Namespace: "gitgate-system", Service: &Service{Name: "gitgate"}, Resources: tc.resources}
			v, err := s.Validating()
			if err != nil {
				t.Fatal(err)
			}
			var statusRules, clusterHooks int
			for _, w := range v.Webhooks {
				n := len(w.Rules) - len(managedRules(w.Rules))
				statusRules += n
				if w.Name != ValidateClusterWebhook {
					if n > 0 {
						t.Errorf("%s carries the GitSource status rule", w.Name)
					}
					continue
				}
				clusterHooks++
				if d := cmp.Diff(SourceStatusRule(), w.Rules[len(w.Rules)-1]); d != "" {
					t.Errorf("last rule (-want +got):\n%s", d)
				}
				var others []string
				for _, r := range managedRules(w.Rules) {
					others = append(others, r.Resources...)
				}
				if d := cmp.Diff(tc.managed, others); d != "" {
					t.Errorf("other resources (-want +got):\n%s", d)
				}
			}
			if statusRules != 1 || clusterHooks != 1 {
				t.Errorf("%d status rules in %d cluster webhooks, want one in one", statusRules, clusterHooks)
			}
			m, err := s.Mutating()
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range m.Webhooks {
				if len(managedRules(w.Rules)) != len(w.Rules) {
					t.Errorf("mutating %s carries the GitSource status rule", w.Name)
				}
			}
		})
	}
	r := SourceStatusRule()
	r.Resources[0] = "changed"
	if SourceStatusRule().Resources[0] != SourceResource+"/status" {
		t.Error("SourceStatusRule shares its slices between calls")
	}
}

// TestSourceStatusRuleMatchesCRD keeps the rule equal to the GitSource CRD
// the chart installs: its group, plural and cluster scope.
func TestSourceStatusRuleMatchesCRD(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "charts", "gitgate", "crds", "gitgate.dev_gitsources.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var crd struct {
		Spec struct {
			Group string `json:"group"`
			Scope string `json:"scope"`
			Names struct {
				Plural string `json:"plural"`
			} `json:"names"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatal(err)
	}
	if crd.Spec.Group != SourceGroup || crd.Spec.Names.Plural != SourceResource || crd.Spec.Scope != "Cluster" {
		t.Fatalf("CRD %s/%s scope %s; the rule names %s/%s, cluster-scoped", crd.Spec.Group, crd.Spec.Names.Plural, crd.Spec.Scope, SourceGroup, SourceResource)
	}
}

// TestMutatingCopiesEveryField checks that mutating carries over every
// field a validating webhook has, so that a field webhook sets (or a new
// field of the API type) cannot silently go missing from the mutating
// configuration.
func TestMutatingCopiesEveryField(t *testing.T) {
	s := Scope{Namespace: "gitgate-system", Resources: managed(), Service: &Service{Name: "gitgate"}}
	c, err := s.common(MutatePath)
	if err != nil {
		t.Fatal(err)
	}
	w := c.webhook(MutateNamespacedWebhook, rulesFor(c.namespaced, admissionregistrationv1.NamespacedScope, []admissionregistrationv1.OperationType{admissionregistrationv1.Create}, false))
	// The one field webhook leaves empty, set so that its copy is checked too.
	w.MatchConditions = []admissionregistrationv1.MatchCondition{{Name: "any", Expression: "true"}}
	m := reflect.ValueOf(mutating(w))
	v := reflect.ValueOf(w)
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		if v.Field(i).IsZero() {
			t.Errorf("%s is empty in the test's webhook: set it, so that the test checks mutating copies it", name)
			continue
		}
		if got := m.FieldByName(name); !got.IsValid() || !reflect.DeepEqual(got.Interface(), v.Field(i).Interface()) {
			t.Errorf("mutating does not copy %s", name)
		}
	}
}
