package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	fakediscovery "k8s.io/client-go/discovery/fake"
	clienttesting "k8s.io/client-go/testing"

	"gitgate.dev/gitgate/provenance/index"
)

func fakeDiscovery() *fakediscovery.FakeDiscovery {
	return &fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{Resources: []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "pods", Kind: "Pod", Namespaced: true},
			{Name: "pods/ephemeralcontainers", Kind: "Pod", Namespaced: true},
			{Name: "pods/resize", Kind: "Pod", Namespaced: true},
			{Name: "pods/status", Kind: "Pod", Namespaced: true},
			{Name: "pods/eviction", Group: "policy", Version: "v1", Kind: "Eviction", Namespaced: true},
			{Name: "namespaces", Kind: "Namespace"},
			{Name: "namespaces/finalize", Kind: "Namespace"},
			{Name: "events", Kind: "Event", Namespaced: true},
		}},
		{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{
			{Name: "deployments", Kind: "Deployment", Namespaced: true},
			{Name: "deployments/scale", Group: "autoscaling", Version: "v1", Kind: "Scale", Namespaced: true},
			{Name: "deployments/status", Kind: "Deployment", Namespaced: true},
		}},
		{GroupVersion: "autoscaling/v2", APIResources: []metav1.APIResource{
			{Name: "horizontalpodautoscalers", Kind: "HorizontalPodAutoscaler", Namespaced: true},
			{Name: "horizontalpodautoscalers/status", Kind: "HorizontalPodAutoscaler", Namespaced: true},
		}},
		{GroupVersion: "autoscaling/v1", APIResources: []metav1.APIResource{
			{Name: "horizontalpodautoscalers", Kind: "HorizontalPodAutoscaler", Namespaced: true},
		}},
		{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{
			{Name: "widgets", Kind: "Widget", Namespaced: true},
		}},
		{GroupVersion: "example.com/v1beta1", APIResources: []metav1.APIResource{
			{Name: "widgets", Kind: "Widget", Namespaced: true},
			{Name: "widgets/scale", Group: "autoscaling", Version: "v1", Kind: "Scale", Namespaced: true},
			{Name: "gadgets", Kind: "Gadget"},
		}},
		{GroupVersion: "example.com/v1alpha1", APIResources: []metav1.APIResource{
			{Name: "gadgets", Kind: "Gadget"},
		}},
	}}}
}

func TestResourcesFor(t *testing.T) {
	kinds := []schema.GroupVersionKind{
		{Group: "apps", Kind: "Deployment"},
		{Kind: "Pod", Version: "v1"},
		{Kind: "Namespace"},
		{Kind: "Event"},
		// Git declares HPAs in v1; the rules must name v1 although v2 is
		// preferred.
		{Group: "autoscaling", Version: "v1", Kind: "HorizontalPodAutoscaler"},
		{Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscaler"},
		// Preferred version, where the scale subresource is not served.
		{Group: "example.com", Kind: "Widget"},
		// Not in the preferred version: the newest served one.
		{Group: "example.com", Kind: "Gadget"},
		{Group: "example.com", Kind: "Gizmo"},
		{Group: "apps", Version: "v1beta2", Kind: "StatefulSet"},
	}
	got, missing, err := ResourcesFor(fakeDiscovery(), kinds)
	if err != nil {
		t.Fatal(err)
	}
	want := []Resource{
		{Kind: "Event", Resource: "events", Version: "v1", Namespaced: true},
		{Kind: "Namespace", Resource: "namespaces", Version: "v1"},
		{Kind: "Pod", Resource: "pods", Version: "v1", Namespaced: true, Subresources: []string{"ephemeralcontainers", "resize"}},
		{Group: "apps", Kind: "Deployment", Resource: "deployments", Version: "v1", Namespaced: true, Subresources: []string{"scale"}},
		{Group: "autoscaling", Kind: "HorizontalPodAutoscaler", Resource: "horizontalpodautoscalers", Version: "v1", Namespaced: true},
		{Group: "example.com", Kind: "Gadget", Resource: "gadgets", Version: "v1beta1"},
		{Group: "example.com", Kind: "Widget", Resource: "widgets", Version: "v1", Namespaced: true},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("resources (-want +got):\n%s", d)
	}
	wantMissing := []schema.GroupVersionKind{
		{Group: "apps", Version: "v1beta2", Kind: "StatefulSet"},
		{Group: "example.com", Kind: "Gizmo"},
	}
	if d := cmp.Diff(wantMissing, missing); d != "" {
		t.Errorf("missing (-want +got):\n%s", d)
	}
}

// failingDiscovery reports a failed group, as discovery does for an
// aggregated API whose backend is down.
type failingDiscovery struct {
	discovery.ServerResourcesInterface
	err error
}

func (f failingDiscovery) ServerGroupsAndResources() ([]*metav1.APIGroup, []*metav1.APIResourceList, error) {
	_, lists, _ := f.ServerResourcesInterface.ServerGroupsAndResources()
	return nil, lists, f.err
}

func TestResourcesForDiscoveryFailures(t *testing.T) {
	down := &discovery.ErrGroupDiscoveryFailed{Groups: map[schema.GroupVersion]error{
		{Group: "metrics.k8s.io", Version: "v1beta1"}: errors.New("service unavailable"),
	}}
	d := failingDiscovery{fakeDiscovery(), down}
	got, _, err := ResourcesFor(d, []schema.GroupVersionKind{{Group: "apps", Kind: "Deployment"}})
	if err != nil || len(got) != 1 {
		t.Fatalf("a failed unrelated group should not matter: %v %v", got, err)
	}
	_, _, err = ResourcesFor(d, []schema.GroupVersionKind{{Group: "metrics.k8s.io", Kind: "PodMetrics"}})
	if err == nil || !strings.Contains(err.Error(), "service unavailable") {
		t.Fatalf("error %v, want the failed group's", err)
	}
	_, _, err = ResourcesFor(failingDiscovery{fakeDiscovery(), errors.New("connection refused")}, nil)
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("error %v", err)
	}
}

// TestResourcesForFeedsScope: discovery output is a valid scope.
func TestResourcesForFeedsScope(t *testing.T) {
	rs, _, err := ResourcesFor(fakeDiscovery(), []schema.GroupVersionKind{{Group: "example.com", Version: "v1beta1", Kind: "Widget"}, {Kind: "Event"}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := Scope{Namespace: "gitgate-system", Service: &Service{Name: "gitgate"}, Resources: rs}.Validating()
	if err != nil {
		t.Fatal(err)
	}
	// The namespaced webhook with the widgets, and the cluster one with
	// only the GitSource status rule.
	if len(v.Webhooks) != 2 || len(v.Webhooks[0].Rules) != 1 || len(managedRules(v.Webhooks[1].Rules)) != 0 {
		t.Fatalf("webhooks %+v", v.Webhooks)
	}
	if d := cmp.Diff([]string{"widgets", "widgets/scale"}, v.Webhooks[0].Rules[0].Resources); d != "" {
		t.Error(d)
	}
}

func TestKindsOf(t *testing.T) {
	b := index.NewBuilder()
	add := func(apiVersion, kind, ns, name string) {
		t.Helper()
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(apiVersion)
		u.SetKind(kind)
		u.SetNamespace(ns)
		u.SetName(name)
		if _, err := b.Add(u, index.Origin{Source: "s"}); err != nil {
			t.Fatal(err)
		}
	}
	add("autoscaling/v2", "HorizontalPodAutoscaler", "a", "web")
	add("autoscaling/v1", "HorizontalPodAutoscaler", "b", "web")
	add("apps/v1", "Deployment", "a", "web")
	add("v1", "Namespace", "", "a")
	got := KindsOf(b.Build(), schema.GroupKind{Group: "apps", Kind: "Deployment"}, schema.GroupKind{Kind: "ConfigMap"})
	want := []schema.GroupVersionKind{
		{Kind: "Namespace", Version: "v1"},
		{Group: "apps", Kind: "Deployment", Version: "v1"},
		{Group: "autoscaling", Kind: "HorizontalPodAutoscaler", Version: "v2"},
		{Kind: "ConfigMap"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if got := KindsOf(nil); got != nil {
		t.Errorf("nil index: %v", got)
	}
}
