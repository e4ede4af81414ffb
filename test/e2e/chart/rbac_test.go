package chart

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"gitgate.dev/gitgate/test/e2e/testenv"
)

// access is one request gitgate's service account may or may not make.
type access struct {
	verb, group, resource, subresource, namespace, name string
	allowed                                             bool
}

func (a access) String() string {
	r := a.resource
	if a.group != "" {
		r += "." + a.group
	}
	if a.subresource != "" {
		r += "/" + a.subresource
	}
	return fmt.Sprintf("%s %s ns=%q name=%q", a.verb, r, a.namespace, a.name)
}

func allow(verb, group, resource, sub, ns, name string) access {
	return access{verb, group, resource, sub, ns, name, true}
}

func deny(verb, group, resource, sub, ns, name string) access {
	return access{verb, group, resource, sub, ns, name, false}
}

// TestRBAC installs the chart's ServiceAccount and RBAC objects for real and
// asks the API server's authorizer (SubjectAccessReview) what the service
// account may do: everything gitgate does (apply, watch and prune the
// managed resources, its GitSources, Events, the builtin CA Secret, CA
// injection into its own webhook configurations, leader election) and
// nothing else (other kinds, other Secrets, other webhook configurations,
// subresource writes, RBAC escalation). It then applies objects as the
// service account with server-side apply, which creates an object through
// a PATCH: the API server asks for create as well as patch.
func TestRBAC(t *testing.T) {
	helm := requireHelm(t)
	env := testenv.Require(t)
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name   string
		rel    release
		checks []access
		// applyAsGitgate applies objects as the service account.
		applyAsGitgate bool
	}{
		{
			name: "builtin",
			rel: release{name: "gitgate", namespace: "rbac-builtin", values: []string{
				writeValues(t, map[string]any{"fullnameOverride": "gitgate-rbac-builtin"}),
			}},
			checks: []access{
				// Managed resources: apply, watch, prune, in every namespace.
				allow("get", "apps", "deployments", "", "apps", "web"),
				allow("list", "apps", "deployments", "", "", ""),
				allow("watch", "apps", "deployments", "", "", ""),
				allow("create", "apps", "deployments", "", "apps", ""),
				allow("patch", "apps", "deployments", "", "apps", "web"),
				allow("delete", "apps", "deployments", "", "apps", "web"),
				allow("create", "", "namespaces", "", "", ""),
				allow("delete", "", "namespaces", "", "", "apps"),
				allow("patch", "", "configmaps", "", "apps", "web-config"),
				deny("update", "apps", "deployments", "", "apps", "web"),
				deny("deletecollection", "apps", "deployments", "", "apps", ""),
				deny("update", "apps", "deployments", "scale", "apps", "web"),
				deny("patch", "apps", "deployments", "status", "apps", "web"),
				deny("create", "", "pods", "", "apps", ""),
				deny("get", "", "pods", "", "apps", "web-1"),
				deny("create", "rbac.authorization.k8s.io", "clusterroles", "", "", ""),
				deny("bind", "rbac.authorization.k8s.io", "clusterroles", "", "", "cluster-admin"),
				deny("escalate", "rbac.authorization.k8s.io", "clusterroles", "", "", "cluster-admin"),
				deny("impersonate", "", "users", "", "", "admin"),
				// GitSources: read, status, finalizers; never created or deleted.
				allow("watch", "gitgate.dev", "gitsources", "", "", ""),
				allow("patch", "gitgate.dev", "gitsources", "", "", "root"),
				allow("update", "gitgate.dev", "gitsources", "status", "", "root"),
				allow("update", "gitgate.dev", "gitsources", "finalizers", "", "root"),
				deny("create", "gitgate.dev", "gitsources", "", "", ""),
				deny("delete", "gitgate.dev", "gitsources", "", "", "root"),
				// Events anywhere.
				allow("create", "", "events", "", "apps", ""),
				allow("patch", "events.k8s.io", "events", "", "apps", "web.1"),
				deny("delete", "", "events", "", "apps", "web.1"),
				// CA injection into its own configurations only.
				allow("get", "admissionregistration.k8s.io", "validatingwebhookconfigurations", "", "", "gitgate-rbac-builtin"),
				allow("update", "admissionregistration.k8s.io", "mutatingwebhookconfigurations", "", "", "gitgate-rbac-builtin"),
				deny("update", "admissionregistration.k8s.io", "validatingwebhookconfigurations", "", "", "other"),
				deny("list", "admissionregistration.k8s.io", "validatingwebhookconfigurations", "", "", ""),
				deny("delete", "admissionregistration.k8s.io", "validatingwebhookconfigurations", "", "", "gitgate-rbac-builtin"),
				// Secrets in its own namespace only; writes only to the CA.
				allow("get", "", "secrets", "", "rbac-builtin", "git-credentials"),
				allow("create", "", "secrets", "", "rbac-builtin", ""),
				allow("update", "", "secrets", "", "rbac-builtin", "gitgate-rbac-builtin-webhook-ca"),
				deny("update", "", "secrets", "", "rbac-builtin", "git-credentials"),
				deny("list", "", "secrets", "", "rbac-builtin", ""),
				deny("delete", "", "secrets", "", "rbac-builtin", "gitgate-rbac-builtin-webhook-ca"),
				deny("get", "", "secrets", "", "apps", "git-credentials"),
				// serve asks who it runs as (SelfSubjectReview), which the
				// default system:basic-user role grants every account.
				allow("create", "authentication.k8s.io", "selfsubjectreviews", "", "", ""),
				// Its leader-election Lease.
				allow("create", "coordination.k8s.io", "leases", "", "rbac-builtin", ""),
				allow("update", "coordination.k8s.io", "leases", "", "rbac-builtin", "gitgate-rbac-builtin-leader"),
				deny("update", "coordination.k8s.io", "leases", "", "rbac-builtin", "other"),
				deny("get", "coordination.k8s.io", "leases", "", "kube-system", "kube-scheduler"),
			},
			applyAsGitgate: true,
		},
		{
			name: "cert-manager-and-named-secrets",
			rel: release{name: "gitgate", namespace: "rbac-cm", values: []string{
				writeValues(t, map[string]any{
					"fullnameOverride": "gitgate-rbac-cm",
					"certificates":     map[string]any{"mode": "certManager"},
					"rbac":             map[string]any{"secretNames": []any{"git-credentials"}},
					"managedResources": []any{map[string]any{
						"group": "rbac.authorization.k8s.io", "version": "v1", "kind": "Role",
						"resource": "roles", "namespaced": true, "extraVerbs": []any{"bind", "escalate"},
					}},
				}),
			}},
			checks: []access{
				allow("get", "", "secrets", "", "rbac-cm", "git-credentials"),
				deny("get", "", "secrets", "", "rbac-cm", "other"),
				deny("create", "", "secrets", "", "rbac-cm", ""),
				deny("get", "", "secrets", "", "rbac-cm", "gitgate-rbac-cm-webhook-ca"),
				deny("get", "admissionregistration.k8s.io", "validatingwebhookconfigurations", "", "", "gitgate-rbac-cm"),
				deny("update", "admissionregistration.k8s.io", "mutatingwebhookconfigurations", "", "", "gitgate-rbac-cm"),
				allow("escalate", "rbac.authorization.k8s.io", "roles", "", "apps", "web"),
				allow("bind", "rbac.authorization.k8s.io", "roles", "", "apps", "web"),
				deny("escalate", "rbac.authorization.k8s.io", "clusterroles", "", "", "web"),
				deny("create", "apps", "deployments", "", "apps", ""),
				allow("update", "coordination.k8s.io", "leases", "", "rbac-cm", "gitgate-rbac-cm-leader"),
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ensureNamespaces(t, env, tc.rel.namespace)
			v := valuesOf(t, tc.rel)
			installRBAC(t, env, render(t, helm, tc.rel, false))
			user := "system:serviceaccount:" + tc.rel.namespace + ":" + v.FullnameOverride
			groups := []string{"system:serviceaccounts", "system:serviceaccounts:" + tc.rel.namespace, "system:authenticated"}
			for _, a := range tc.checks {
				sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
					User: user, Groups: groups,
					ResourceAttributes: &authorizationv1.ResourceAttributes{
						Verb: a.verb, Group: a.group, Resource: a.resource, Subresource: a.subresource,
						Namespace: a.namespace, Name: a.name,
					},
				}}
				got, err := cs.AuthorizationV1().SubjectAccessReviews().Create(t.Context(), sar, metav1.CreateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if got.Status.Allowed != a.allowed {
					t.Errorf("%s: allowed = %v, want %v (%s)", a, got.Status.Allowed, a.allowed, got.Status.Reason)
				}
			}
			if tc.applyAsGitgate {
				applyAsGitgate(t, env, user, groups)
			}
		})
	}

}

// applyAsGitgate applies objects with server-side apply (dryRun=All: the
// authorizer runs all the same) as gitgate's service account: a Namespace
// and a ConfigMap that do not exist yet (managed: allowed; the API server
// asks for create and patch), and a Secret (not managed: forbidden).
func applyAsGitgate(t *testing.T, env *testenv.Env, user string, groups []string) {
	t.Helper()
	ensureNamespaces(t, env, "rbac-apps")
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	configMap := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	secret := schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	namespace := schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	for _, tc := range []struct {
		gvr     schema.GroupVersionResource
		obj     map[string]any
		allowed bool
	}{
		{namespace, map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "rbac-new"}}, true},
		{configMap, map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "web-config", "namespace": "rbac-apps"}, "data": map[string]any{"a": "b"}}, true},
		{secret, map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "web", "namespace": "rbac-apps"}}, false},
	} {
		u := &unstructured.Unstructured{Object: tc.obj}
		body, err := json.Marshal(u.Object)
		if err != nil {
			t.Fatal(err)
		}
		var ri dynamic.ResourceInterface = client.Resource(tc.gvr)
		if u.GetNamespace() != "" {
			ri = client.Resource(tc.gvr).Namespace(u.GetNamespace())
		}
		force := true
		_, err = ri.Patch(t.Context(), u.GetName(), types.ApplyPatchType, body, metav1.PatchOptions{
			FieldManager: "gitgate", Force: &force, DryRun: []string{metav1.DryRunAll},
		})
		switch {
		case tc.allowed && err != nil:
			t.Errorf("apply %s %s as gitgate: %v", u.GetKind(), u.GetName(), err)
		case !tc.allowed && !apierrors.IsForbidden(err):
			t.Errorf("apply %s %s as gitgate: err = %v, want forbidden", u.GetKind(), u.GetName(), err)
		}
	}
}

// installRBAC creates the ServiceAccount and RBAC objects among objs for
// real (server-side apply), and removes the cluster-scoped ones at the end.
func installRBAC(t *testing.T, env *testenv.Env, objs []*unstructured.Unstructured) {
	t.Helper()
	kinds := map[string]schema.GroupVersionResource{
		"ServiceAccount":     {Version: "v1", Resource: "serviceaccounts"},
		"ClusterRole":        {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
		"ClusterRoleBinding": {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"},
		"Role":               {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
		"RoleBinding":        {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"},
	}
	installed := 0
	for _, o := range objs {
		gvr, ok := kinds[o.GetKind()]
		if !ok {
			continue
		}
		body, err := json.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		var ri dynamic.ResourceInterface = env.Dynamic.Resource(gvr)
		if ns := o.GetNamespace(); ns != "" {
			ri = env.Dynamic.Resource(gvr).Namespace(ns)
		} else {
			name := o.GetName()
			t.Cleanup(func() {
				// t.Context is done by the time cleanups run.
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := env.Dynamic.Resource(gvr).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
					t.Errorf("delete %s %s: %v", gvr.Resource, name, err)
				}
			})
		}
		force := true
		if _, err := ri.Patch(t.Context(), o.GetName(), types.ApplyPatchType, body, metav1.PatchOptions{
			FieldManager: "gitgate-chart-test", Force: &force, FieldValidation: metav1.FieldValidationStrict,
		}); err != nil {
			t.Fatalf("apply %s %s: %v", o.GetKind(), o.GetName(), err)
		}
		installed++
	}
	if installed != len(kinds) {
		t.Fatalf("installed %d RBAC objects, want one of each of %d kinds", installed, len(kinds))
	}
}
