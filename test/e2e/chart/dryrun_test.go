package chart

import (
	"encoding/json"
	"slices"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"gitgate.dev/gitgate/test/e2e/testenv"
)

// TestServerSideDryRun applies every object helm renders (CRDs included)
// to the real API server with server-side apply, dryRun=All and strict
// field validation: the API server's schemas (built-in types, gitgate's
// CRD, the real cert-manager and prometheus-operator CRDs) and its
// admission validation judge each object without storing it. A warning
// (an unknown or duplicate field, a deprecated API) fails the test too.
func TestServerSideDryRun(t *testing.T) {
	helm := requireHelm(t)
	env := testenv.Require(t)

	cases := []struct {
		name      string
		rel       release
		thirdPty  bool
		wantKinds []string
	}{
		{
			name: "defaults",
			rel:  release{name: "gitgate", namespace: "gitgate-system"},
			wantKinds: []string{
				"CustomResourceDefinition", "ServiceAccount", "ConfigMap", "ClusterRole", "ClusterRoleBinding",
				"Role", "RoleBinding", "Service", "Deployment", "PodDisruptionBudget",
				"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
			},
		},
		{
			name:     "full",
			rel:      release{name: "gitgate", namespace: "gitgate-full", values: []string{testdata("values-full.yaml")}},
			thirdPty: true,
			wantKinds: []string{
				"Issuer", "Certificate", "ServiceMonitor", "NetworkPolicy", "GitSource", "ConfigMap",
				"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "Deployment",
			},
		},
		{
			name:      "tuned",
			rel:       release{name: "admission", namespace: "platform", values: []string{testdata("values-tuned.yaml")}},
			thirdPty:  true,
			wantKinds: []string{"Certificate", "Deployment", "PodDisruptionBudget"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.thirdPty {
				requireThirdPartyCRDs(t, helm)
			}
			objs := render(t, helm, tc.rel, true)
			var kinds []string
			for _, o := range objs {
				kinds = append(kinds, o.GetKind())
			}
			for _, k := range tc.wantKinds {
				if !slices.Contains(kinds, k) {
					t.Errorf("no %s rendered (rendered: %v)", k, kinds)
				}
			}
			namespaces := []string{tc.rel.namespace}
			for _, o := range objs {
				if ns := o.GetNamespace(); ns != "" && !slices.Contains(namespaces, ns) {
					namespaces = append(namespaces, ns)
				}
			}
			ensureNamespaces(t, env, namespaces...)
			applier := newDryRunApplier(t, env)
			for _, o := range objs {
				applier.apply(t, o, tc.rel.namespace)
			}
		})
	}
}

// dryRunApplier applies objects with server-side apply and dryRun=All, and
// records the API server's warnings.
type dryRunApplier struct {
	client dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
	warn   *warnings
}

type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.msgs
	w.msgs = nil
	return m
}

func newDryRunApplier(t *testing.T, env *testenv.Env) *dryRunApplier {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	w := &warnings{}
	cfg.WarningHandler = w
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &dryRunApplier{
		client: client,
		mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(env.Discovery)),
		warn:   w,
	}
}

func (a *dryRunApplier) apply(t *testing.T, o *unstructured.Unstructured, namespace string) {
	t.Helper()
	gvk := o.GroupVersionKind()
	mapping, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		t.Errorf("%s %s: %v", gvk, o.GetName(), err)
		return
	}
	var ri dynamic.ResourceInterface = a.client.Resource(mapping.Resource)
	if mapping.Scope.Name() == "namespace" {
		ns := o.GetNamespace()
		if ns == "" {
			ns = namespace
		}
		ri = a.client.Resource(mapping.Resource).Namespace(ns)
	} else if o.GetNamespace() != "" {
		t.Errorf("%s %s is cluster-scoped but the chart sets namespace %q", gvk.Kind, o.GetName(), o.GetNamespace())
	}
	body, err := json.Marshal(o.Object)
	if err != nil {
		t.Fatal(err)
	}
	force := true
	_, err = ri.Patch(t.Context(), o.GetName(), types.ApplyPatchType, body, metav1.PatchOptions{
		FieldManager:    "gitgate-chart-test",
		Force:           &force,
		DryRun:          []string{metav1.DryRunAll},
		FieldValidation: metav1.FieldValidationStrict,
	})
	if err != nil {
		t.Errorf("server-side apply (dry run) of %s %s: %v", gvk.Kind, o.GetName(), err)
	}
	for _, w := range a.warn.take() {
		t.Errorf("server-side apply (dry run) of %s %s: warning: %s", gvk.Kind, o.GetName(), w)
	}
}

// ensureNamespaces creates the namespaces that do not exist yet.
func ensureNamespaces(t *testing.T, env *testenv.Env, names ...string) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		_, err := cs.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create namespace %s: %v", n, err)
		}
	}
}
