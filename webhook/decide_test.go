package webhook

import (
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

type decideCase struct {
	name    string
	req     func(t *testing.T) admission.Request
	allowed bool
	reason  Reason
	// message holds substrings the denial message must contain.
	message []string
	// warning is a substring one admission warning must contain.
	warning string
}

func runDecideCases(t *testing.T, f *fixture, cases []decideCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := f.decideRequest(t, tc.req(t))
			if d.allowed != tc.allowed || d.reason != tc.reason {
				t.Fatalf("allowed=%v reason=%s, want allowed=%v reason=%s; message:\n%s", d.allowed, d.reason, tc.allowed, tc.reason, d.message)
			}
			for _, want := range tc.message {
				if !strings.Contains(d.message, want) {
					t.Errorf("message does not contain %q:\n%s", want, d.message)
				}
			}
			if tc.warning != "" && !containsAny(d.warnings, tc.warning) {
				t.Errorf("warnings %q do not mention %q", d.warnings, tc.warning)
			}
		})
	}
}

func containsAny(xs []string, sub string) bool {
	for _, x := range xs {
		if strings.Contains(x, sub) {
			return true
		}
	}
	return false
}

// gitDenial is what every denial of a change to a managed object names: the
// commit (short SHA), the signers, the path and the repository.
var gitDenial = []string{"commit 4f7c1e0b9a8d of source demo", "signed by alice, bob", "open a pull request against " + testRepo + " path clusters/demo/web.yaml"}

func TestDecideManagedObject(t *testing.T) {
	f := newFixture(t)
	web := func(t *testing.T) map[string]any { return live(t, "web") }
	cases := []decideCase{
		{
			name: "create exactly as in Git, with server defaults",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Create, web(t), nil)
			},
			allowed: true, reason: ReasonConforms,
			// The library's images.pinned warns about a tag without a digest.
			warning: "registry.example.com/web:1.4.2",
		},
		{
			name: "update of an annotation Git leaves out",
			req: func(t *testing.T) admission.Request {
				obj := setPath(web(t), "2025-06-01T00:00:00Z", "metadata", "annotations", "kubectl.kubernetes.io/restartedAt")
				return newRequest(t, admissionv1.Update, obj, web(t))
			},
			allowed: true, reason: ReasonConforms,
		},
		{
			name: "update of spec.replicas",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Update, setPath(web(t), int64(5), "spec", "replicas"), web(t))
			},
			reason:  ReasonNotConforming,
			message: append([]string{"Deployment.apps demo/web does not match Git", "spec.replicas: Git has 2, the object has 5"}, gitDenial...),
		},
		{
			name: "update of a container image",
			req: func(t *testing.T) admission.Request {
				obj := web(t)
				c := obj["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
				c["image"] = "evil.example.com/web:latest"
				return newRequest(t, admissionv1.Update, obj, web(t))
			},
			reason:  ReasonNotConforming,
			message: append([]string{`spec.template.spec.containers[name=web].image: Git has "registry.example.com/web:1.4.2", the object has "evil.example.com/web:latest"`}, gitDenial...),
		},
		{
			name: "update that adds a container",
			req: func(t *testing.T) admission.Request {
				obj := web(t)
				spec := obj["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
				spec["containers"] = append(spec["containers"].([]any), map[string]any{"name": "miner", "image": "miner:1"})
				return newRequest(t, admissionv1.Update, obj, web(t))
			},
			reason:  ReasonNotConforming,
			message: []string{"containers[name=miner]"},
		},
		{
			name: "the same update through another API version",
			req: func(t *testing.T) admission.Request {
				req := newRequest(t, admissionv1.Update, setPath(web(t), int64(5), "spec", "replicas"), web(t))
				req.Kind.Version, req.Resource.Version = "v1beta2", "v1beta2"
				return req
			},
			reason:  ReasonNotConforming,
			message: []string{"spec.replicas: Git has 2, the object has 5"},
		},
		{
			name: "dry-run gets the same verdict",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Update, setPath(web(t), int64(5), "spec", "replicas"), web(t), dryRun())
			},
			reason:  ReasonNotConforming,
			message: []string{"spec.replicas: Git has 2, the object has 5"},
		},
		{
			name: "delete",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Delete, nil, web(t))
			},
			reason:  ReasonManagedDelete,
			message: []string{"is declared in Git and cannot be deleted by hand", "commit 4f7c1e0b9a8d", "To delete it, remove it from Git: open a pull request against " + testRepo + " path clusters/demo/web.yaml"},
		},
		{
			name: "deletecollection: one DELETE per object, without a name",
			req: func(t *testing.T) admission.Request {
				req := newRequest(t, admissionv1.Delete, nil, web(t))
				req.Name = ""
				return req
			},
			reason:  ReasonManagedDelete,
			message: []string{"Deployment.apps demo/web is declared in Git and cannot be deleted by hand"},
		},
		{
			name:    "scale to another replica count",
			req:     func(t *testing.T) admission.Request { return scaleRequest(t, 5, 2) },
			reason:  ReasonNotConforming,
			message: append([]string{"Deployment.apps demo/web (subresource scale) does not match Git", "spec.replicas: Git has 2, the object has 5"}, gitDenial...),
		},
		{
			name:    "scale to Git's replica count",
			req:     func(t *testing.T) admission.Request { return scaleRequest(t, 2, 5) },
			allowed: true, reason: ReasonConforms,
		},
		{
			name: "status subresource",
			req: func(t *testing.T) admission.Request {
				obj := setPath(web(t), int64(1), "status", "readyReplicas")
				return newRequest(t, admissionv1.Update, obj, web(t), subresource("status", nil))
			},
			allowed: true, reason: ReasonStatus,
		},
		{
			name: "exempt user (gitgate's service account)",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Update, setPath(web(t), int64(5), "spec", "replicas"), web(t), asUser(gitgateSA))
			},
			allowed: true, reason: ReasonExemptUser,
		},
		{
			name: "exempt group",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Delete, nil, web(t), asUser("root", "system:masters"))
			},
			allowed: true, reason: ReasonExemptUser,
		},
		{
			name: "a user that impersonates nobody exempt",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Delete, nil, web(t), asUser("system:serviceaccount:gitgate-system:other", "system:serviceaccounts:gitgate-system"))
			},
			reason: ReasonManagedDelete,
		},
		{
			name: "CONNECT",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Connect, web(t), nil)
			},
			allowed: true, reason: ReasonNotWrite,
		},
		{
			name: "update of the managed Namespace, namespace field set to its name",
			req: func(t *testing.T) admission.Request {
				obj := setPath(live(t, "namespace"), "x", "metadata", "annotations", "note")
				req := newRequest(t, admissionv1.Update, obj, live(t, "namespace"))
				req.Namespace = "demo"
				return req
			},
			allowed: true, reason: ReasonConforms,
		},
		{
			name: "relabelling the managed Namespace",
			req: func(t *testing.T) admission.Request {
				obj := setPath(live(t, "namespace"), "other", "metadata", "labels", "app.kubernetes.io/name")
				return newRequest(t, admissionv1.Update, obj, live(t, "namespace"))
			},
			reason:  ReasonNotConforming,
			message: []string{`metadata.labels["app.kubernetes.io/name"]: Git has "demo", the object has "other"`},
		},
	}
	runDecideCases(t, f, cases)
}

func TestDecideManagedPod(t *testing.T) {
	f := newFixture(t)
	podKind := &metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}
	withEphemeral := func(t *testing.T, pod map[string]any) map[string]any {
		spec := pod["spec"].(map[string]any)
		spec["ephemeralContainers"] = []any{map[string]any{
			"name": "debugger-x1", "image": "registry.example.com/busybox:1.36", "targetContainerName": "tools",
			"securityContext": map[string]any{"allowPrivilegeEscalation": false, "capabilities": map[string]any{"drop": []any{"ALL"}}},
		}}
		return pod
	}
	cases := []decideCase{
		{
			name: "kubectl debug on a managed Pod",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Update, withEphemeral(t, live(t, "toolbox")), live(t, "toolbox"), subresource("ephemeralcontainers", podKind))
			},
			reason:  ReasonEphemeralContainers,
			message: []string{"Pod demo/toolbox (subresource ephemeralcontainers)", "Git declares no ephemeral containers", "spec.ephemeralContainers", "debugger-x1", "path clusters/demo/toolbox.yaml"},
		},
		{
			name: "kubectl debug on a Pod of a managed Deployment",
			req: func(t *testing.T) admission.Request {
				pod := childPod(t, "web-7d4b9c-abcde")
				return newRequest(t, admissionv1.Update, withEphemeral(t, deepCopy(pod)), pod, subresource("ephemeralcontainers", podKind))
			},
			allowed: true, reason: ReasonControllerChild,
		},
		{
			name: "in-place resize of a managed Pod",
			req: func(t *testing.T) admission.Request {
				obj := live(t, "toolbox")
				c := obj["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
				setPath(c, "1Gi", "resources", "limits", "memory")
				return newRequest(t, admissionv1.Update, obj, live(t, "toolbox"), subresource("resize", podKind))
			},
			reason:  ReasonNotConforming,
			message: []string{`resources.limits.memory: Git has "32Mi", the object has "1Gi"`},
		},
		{
			name: "binding of a managed Pod",
			req: func(t *testing.T) admission.Request {
				binding := map[string]any{
					"apiVersion": "v1", "kind": "Binding",
					"metadata": map[string]any{"name": "toolbox", "namespace": "demo"},
					"target":   map[string]any{"kind": "Node", "name": "node-1"},
				}
				return newRequest(t, admissionv1.Create, binding, nil, subresource("binding", &metav1.GroupVersionKind{Version: "v1", Kind: "Binding"}), func(r *admissionv1.AdmissionRequest) {
					r.Resource = metav1.GroupVersionResource{Version: "v1", Resource: "pods"}
				})
			},
			allowed: true, reason: ReasonSubresource,
		},
	}
	runDecideCases(t, f, cases)
}

func TestDecideUndeclared(t *testing.T) {
	f := newFixture(t)
	extra := func() map[string]any { return configMap("demo", "extra", map[string]any{"k": "v"}) }
	oldConfig := func() map[string]any {
		cm := configMap("demo", "old-config", map[string]any{"k": "v"})
		return setPath(cm, "uid-old", "metadata", "uid")
	}
	privileged := func(t *testing.T) map[string]any {
		pod := childPod(t, "web-7d4b9c-priv")
		c := pod["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
		setPath(c, true, "securityContext", "privileged")
		return pod
	}
	cases := []decideCase{
		{
			name:    "create in a managed namespace",
			req:     func(t *testing.T) admission.Request { return newRequest(t, admissionv1.Create, extra(), nil) },
			reason:  ReasonNotDeclared,
			message: []string{"ConfigMap demo/extra is not declared in Git, and namespace demo is managed by source demo", "Git holds the namespace at commit 4f7c1e0b9a8d of source demo, signed by alice, bob", "To create it, declare it in Git: open a pull request against " + testRepo},
		},
		{
			name:    "update in a managed namespace",
			req:     func(t *testing.T) admission.Request { return newRequest(t, admissionv1.Update, extra(), extra()) },
			reason:  ReasonNotDeclared,
			message: []string{"is not declared in Git"},
		},
		{
			name:    "delete in a managed namespace",
			req:     func(t *testing.T) admission.Request { return newRequest(t, admissionv1.Delete, nil, extra()) },
			reason:  ReasonNotDeclared,
			message: []string{"only objects that Git declared and has since removed may be deleted"},
		},
		{
			name: "create in a namespace the scope lists, of a kind it lists",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Create, secret("listed", "token"), nil)
			},
			reason:  ReasonNotDeclared,
			message: []string{"Secret listed/token is not declared in Git, and namespace listed is managed by source demo", testRepo},
		},
		{
			name: "create in a namespace the scope lists, of a kind nobody manages",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Create, map[string]any{
					"apiVersion": "v1", "kind": "ServiceAccount",
					"metadata": map[string]any{"name": "robot", "namespace": "listed", "labels": map[string]any{"app.kubernetes.io/name": "robot"}},
				}, nil)
			},
			allowed: true, reason: ReasonUnmanagedKind,
		},
		{
			name: "create in an unmanaged namespace",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Create, configMap("elsewhere", "x", nil), nil)
			},
			allowed: true, reason: ReasonOutOfScope,
		},
		{
			name: "create of a cluster-scoped object Git does not declare",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Create, map[string]any{
					"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": map[string]any{"name": "viewer"},
				}, nil)
			},
			allowed: true, reason: ReasonOutOfScope,
		},
		{
			name:    "prune: delete of an object the current commit removed",
			req:     func(t *testing.T) admission.Request { return newRequest(t, admissionv1.Delete, nil, oldConfig()) },
			allowed: true, reason: ReasonPrune,
		},
		{
			name: "finalizers of a pruned object",
			req: func(t *testing.T) admission.Request {
				old := setPath(oldConfig(), "2025-06-01T00:00:00Z", "metadata", "deletionTimestamp")
				old = setPath(old, []any{"example.com/cleanup"}, "metadata", "finalizers")
				obj := setPath(deepCopy(old), []any{}, "metadata", "finalizers")
				return newRequest(t, admissionv1.Update, obj, old)
			},
			allowed: true, reason: ReasonFinalizing,
		},
		{
			name:    "re-creating a pruned object",
			req:     func(t *testing.T) admission.Request { return newRequest(t, admissionv1.Create, oldConfig(), nil) },
			reason:  ReasonNotDeclared,
			message: []string{"ConfigMap demo/old-config is not declared in Git"},
		},
		{
			name: "update of a pruned object that is not being deleted",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Update, oldConfig(), oldConfig())
			},
			reason:  ReasonNotDeclared,
			message: []string{"ConfigMap demo/old-config is not declared in Git"},
		},
		{
			name: "Pod the ReplicaSet controller creates for a managed Deployment",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Create, childPod(t, "web-7d4b9c-abcde"), nil)
			},
			allowed: true, reason: ReasonControllerChild,
		},
		{
			name: "deleting a controller's Pod",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Delete, nil, childPod(t, "web-7d4b9c-abcde"))
			},
			allowed: true, reason: ReasonControllerChild,
		},
		{
			name: "ReplicaSet of a managed Deployment",
			req: func(t *testing.T) admission.Request {
				d := live(t, "web")
				rs := map[string]any{
					"apiVersion": "apps/v1", "kind": "ReplicaSet",
					"metadata": map[string]any{"name": "web-7d4b9c", "namespace": "demo", "labels": map[string]any{"app.kubernetes.io/name": "web"},
						"ownerReferences": []any{map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "u", "controller": true}}},
					"spec": map[string]any{"replicas": int64(2), "selector": d["spec"].(map[string]any)["selector"], "template": d["spec"].(map[string]any)["template"]},
				}
				return newRequest(t, admissionv1.Create, rs, nil)
			},
			allowed: true, reason: ReasonUnmanagedKind,
		},
		{
			name:    "a privileged Pod under a controller is still judged by policy",
			req:     func(t *testing.T) admission.Request { return newRequest(t, admissionv1.Create, privileged(t), nil) },
			reason:  ReasonPolicyDenied,
			message: []string{"Pod demo/web-7d4b9c-priv is denied by policy", `container "web" must not set securityContext.privileged=true`, "Git holds the namespace at commit 4f7c1e0b9a8d"},
		},
		{
			name: "a Pod without a controller in a namespace where Git declares Pods",
			req: func(t *testing.T) admission.Request {
				pod := childPod(t, "stray")
				delete(pod["metadata"].(map[string]any), "ownerReferences")
				return newRequest(t, admissionv1.Create, pod, nil)
			},
			reason:  ReasonNotDeclared,
			message: []string{"Pod demo/stray is not declared in Git"},
		},
		{
			name: "an update cannot add a controller reference to escape",
			req: func(t *testing.T) admission.Request {
				old := extra()
				obj := setPath(deepCopy(old), []any{map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "u", "controller": true}}, "metadata", "ownerReferences")
				return newRequest(t, admissionv1.Update, obj, old)
			},
			reason: ReasonNotDeclared,
		},
		{
			name: "kube-root-ca.crt by the root CA publisher",
			req: func(t *testing.T) admission.Request {
				cm := configMap("demo", "kube-root-ca.crt", map[string]any{"ca.crt": "-----BEGIN CERTIFICATE-----"})
				return newRequest(t, admissionv1.Create, cm, nil, asUser("system:serviceaccount:kube-system:root-ca-cert-publisher", "system:serviceaccounts"))
			},
			allowed: true, reason: ReasonExemptUser,
		},
	}
	runDecideCases(t, f, cases)
}

func secret(ns, name string) map[string]any {
	return map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata": map[string]any{"name": name, "namespace": ns, "labels": map[string]any{"app.kubernetes.io/name": name}},
		"data":     map[string]any{"token": "c2VjcmV0"},
	}
}

func TestDecideExemptions(t *testing.T) {
	f := newFixture(t)
	event := func(group string) map[string]any {
		apiVersion := "v1"
		if group != "" {
			apiVersion = group + "/v1"
		}
		return map[string]any{"apiVersion": apiVersion, "kind": "Event", "metadata": map[string]any{"name": "web.1", "namespace": "demo"}}
	}
	cases := []decideCase{
		{
			name: "kube-system",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Create, configMap("kube-system", "x", nil), nil)
			},
			allowed: true, reason: ReasonExemptNamespace,
		},
		{
			name: "kube-node-lease",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Delete, nil, configMap("kube-node-lease", "x", nil))
			},
			allowed: true, reason: ReasonExemptNamespace,
		},
		{
			name: "gitgate's own namespace",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Create, secret("gitgate-system", "tls"), nil)
			},
			allowed: true, reason: ReasonExemptNamespace,
		},
		{
			name: "the kube-system Namespace object",
			req: func(t *testing.T) admission.Request {
				ns := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "kube-system"}}
				return newRequest(t, admissionv1.Update, ns, ns)
			},
			allowed: true, reason: ReasonExemptNamespace,
		},
		{
			name:    "core Event in a managed namespace",
			req:     func(t *testing.T) admission.Request { return newRequest(t, admissionv1.Create, event(""), nil) },
			allowed: true, reason: ReasonExemptKind,
		},
		{
			name: "events.k8s.io Event",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Create, event("events.k8s.io"), nil)
			},
			allowed: true, reason: ReasonExemptKind,
		},
		{
			name: "Lease in a managed namespace",
			req: func(t *testing.T) admission.Request {
				lease := map[string]any{"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": map[string]any{"name": "leader", "namespace": "demo"}}
				return newRequest(t, admissionv1.Update, lease, lease)
			},
			allowed: true, reason: ReasonExemptKind,
		},
	}
	runDecideCases(t, f, cases)
}

func TestDecideExemptLabel(t *testing.T) {
	f := newFixture(t)
	exempt := func(obj map[string]any) map[string]any {
		return setPath(obj, ExemptValue, "metadata", "labels", ExemptLabel)
	}
	cases := []decideCase{
		{
			name: "labelling a managed Namespace exempt",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Update, exempt(live(t, "namespace")), live(t, "namespace"))
			},
			reason:  ReasonExemptLabelChange,
			message: []string{"Namespace demo: only Git may set the label gitgate.dev/exempt=true", "commit 4f7c1e0b9a8d", "path clusters/demo/namespace.yaml"},
		},
		{
			name: "labelling a managed object exempt, which otherwise conforms",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Update, exempt(live(t, "web")), live(t, "web"))
			},
			reason:  ReasonExemptLabelChange,
			message: []string{"Deployment.apps demo/web: only Git may set the label"},
		},
		{
			name: "creating an exempt Namespace",
			req: func(t *testing.T) admission.Request {
				ns := exempt(map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "loophole"}})
				return newRequest(t, admissionv1.Create, ns, nil)
			},
			reason: ReasonExemptLabelChange,
		},
		{
			name: "labelling an unmanaged object exempt",
			req: func(t *testing.T) admission.Request {
				cm := configMap("elsewhere", "x", nil)
				return newRequest(t, admissionv1.Update, exempt(deepCopy(cm)), cm)
			},
			reason: ReasonExemptLabelChange,
		},
		{
			name: "changing the label's value to true",
			req: func(t *testing.T) admission.Request {
				cm := setPath(configMap("demo", "extra", nil), "false", "metadata", "labels", ExemptLabel)
				return newRequest(t, admissionv1.Update, exempt(deepCopy(cm)), cm)
			},
			reason: ReasonExemptLabelChange,
		},
		{
			name: "an object Git exempts",
			req: func(t *testing.T) admission.Request {
				obj := setPath(live(t, "exempted"), "anything", "data", "mode")
				return newRequest(t, admissionv1.Update, obj, live(t, "exempted"))
			},
			allowed: true, reason: ReasonExemptLabel,
		},
		{
			name: "deleting an object Git exempts",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Delete, nil, live(t, "exempted"))
			},
			allowed: true, reason: ReasonExemptLabel,
		},
		{
			name: "an object in a Namespace Git exempts",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Create, configMap("sandbox", "anything", nil), nil)
			},
			allowed: true, reason: ReasonExemptLabel,
		},
		{
			name: "an undeclared object that was exempt before the request",
			req: func(t *testing.T) admission.Request {
				old := exempt(configMap("demo", "legacy", map[string]any{"a": "1"}))
				return newRequest(t, admissionv1.Update, setPath(deepCopy(old), "2", "data", "a"), old)
			},
			allowed: true, reason: ReasonExemptLabel,
		},
		{
			name: "removing the label from an undeclared object",
			req: func(t *testing.T) admission.Request {
				old := exempt(configMap("demo", "legacy", nil))
				obj := deepCopy(old)
				delete(obj["metadata"].(map[string]any)["labels"].(map[string]any), ExemptLabel)
				return newRequest(t, admissionv1.Update, obj, old)
			},
			allowed: true, reason: ReasonExemptLabel,
		},
		{
			name: "an exempt user may set the label",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Update, exempt(live(t, "namespace")), live(t, "namespace"), asUser(gitgateSA))
			},
			allowed: true, reason: ReasonExemptUser,
		},
	}
	runDecideCases(t, f, cases)
}
