package e2e

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"gitgate.dev/gitgate/policies"
	"gitgate.dev/gitgate/policy"
	"gitgate.dev/gitgate/webhook"
	"gitgate.dev/gitgate/webhook/certs"
)

// TestWebhook is issue 4's acceptance list against the real API server:
// gitgate's admission server runs in this process over TLS, registered
// through the configurations webhook/config generates with the caBundle
// webhook/certs injects, and kubectl (built with the API server) is the
// client. The subtests share the registration and run in order: each
// builds on the objects the ones before it applied.
func TestWebhook(t *testing.T) {
	s := newWebhookSuite(t, e2eRepo(t), certs.Options{})

	t.Run("register", s.testRegister)
	t.Run("apply-git-manifests", s.testApplyGit)
	if t.Failed() {
		t.FailNow()
	}
	t.Run("denied", s.testDenied)
	t.Run("allowed", s.testAllowed)
	t.Run("dry-run", s.testDryRun)
	t.Run("policy", s.testPolicy)
	t.Run("never-sent", s.testNeverSent)
	t.Run("webhook-down", s.testWebhookDown)
}

// testRegister registers the configurations before the CRD exists, checks
// what the API server stored, and waits until it calls the webhook.
func (s *webhookSuite) testRegister(t *testing.T) {
	missing := s.register(t)
	want := []schema.GroupVersionKind{{Group: "e2e.gitgate.dev", Version: "v1", Kind: "Widget"}}
	if !slices.Equal(missing, want) {
		t.Errorf("kinds not served before the CRD is applied: %v, want %v", missing, want)
	}
	v, m := s.registeredConfigurations(t)
	bundle := s.certs.CABundle()
	for _, cc := range slices.Concat(clientConfigs(v.Webhooks), clientConfigsM(m.Webhooks)) {
		if !bytes.Equal(cc.CABundle, bundle) {
			t.Fatal("the caBundle the certificate manager injected is not in every webhook")
		}
	}
	for _, w := range v.Webhooks {
		if *w.FailurePolicy != "Fail" || *w.TimeoutSeconds != 3 || *w.MatchPolicy != "Equivalent" || *w.SideEffects != "None" {
			t.Errorf("%s as stored: failurePolicy %s timeout %d matchPolicy %s sideEffects %s", w.Name, *w.FailurePolicy, *w.TimeoutSeconds, *w.MatchPolicy, *w.SideEffects)
		}
	}
	// A Namespace Git does not declare is out of scope; creating one in
	// dry-run reaches the cluster webhook and changes nothing.
	s.waitCalled(t, "a Namespace create", func() error {
		_, err := s.client.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gg-probe"}},
			metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err
	}, func(c admissionCall) bool { return c.Resource.Resource == "namespaces" && c.Name == "gg-probe" })
}

// testApplyGit applies exactly the Git manifests with kubectl, first the
// cluster-scoped ones, then (once the CRD is served and the configurations
// regenerated to name it) the rest, and checks the provenance stamp.
func (s *webhookSuite) testApplyGit(t *testing.T) {
	start := time.Now()
	mark := s.rec.mark()
	s.mustKubectl(t, "apply", "-f", filepath.Join(s.repo, "apps", "namespace.yaml"), "-f", filepath.Join(s.repo, "crds"))
	t.Logf("%s: cluster objects applied", time.Since(start))
	s.checkSeen(t, mark, "namespaces", "customresourcedefinitions")
	s.mustKubectl(t, "wait", "--for=condition=Established", "--timeout=60s", "crd/widgets.e2e.gitgate.dev")
	t.Logf("%s: CRD established", time.Since(start))
	if missing := s.register(t); len(missing) > 0 {
		t.Fatalf("still not served after the CRD: %v", missing)
	}
	widgets := schema.GroupVersionResource{Group: "e2e.gitgate.dev", Version: "v1", Resource: "widgets"}
	s.waitCalled(t, "a Widget create", func() error {
		w := &unstructured.Unstructured{}
		w.SetAPIVersion("e2e.gitgate.dev/v1")
		w.SetKind("Widget")
		w.SetName("probe")
		_, err := s.env.Dynamic.Resource(widgets).Namespace(gitNamespace).Create(t.Context(), w, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err
	}, func(c admissionCall) bool { return c.Resource.Resource == "widgets" })
	t.Logf("%s: widgets reach the webhook", time.Since(start))

	mark = s.rec.mark()
	r := s.mustKubectl(t, "apply", "-R", "-f", filepath.Join(s.repo, "apps"))
	t.Logf("%s: kubectl apply:\n%s%s", time.Since(start), r.stdout, r.stderr)
	s.checkSeen(t, mark, "deployments", "services", "configmaps", "horizontalpodautoscalers", "widgets", "pods")
	s.checkStamped(t)

	// Server-side apply of the same manifests is admitted too.
	s.mustKubectl(t, "apply", "--server-side", "--field-manager=gitops-e2e", "-R", "-f", filepath.Join(s.repo, "apps"))
	// And so is a re-apply of the live objects as the API server stores
	// them.
	live := s.mustKubectl(t, "get", "-n", gitNamespace, "deployment/web", "configmap/web-config", "service/web", "widget/gear", "hpa/web", "-o", "yaml")
	cmd := s.env.KubectlCmd(t.Context(), "replace", "-f", "-")
	cmd.Stdin = strings.NewReader(live.stdout)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("replace with the live objects: %v\n%s", err, out)
	}
}

// checkSeen checks that writes of each resource reached both webhooks
// since mark.
func (s *webhookSuite) checkSeen(t *testing.T, mark int, resources ...string) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range s.rec.since(mark) {
		seen[c.Path+" "+c.Resource.Resource] = true
	}
	for _, res := range resources {
		if !seen[webhook.ValidatePath+" "+res] || !seen[webhook.MutatePath+" "+res] {
			t.Errorf("writes of %s did not go through both webhooks", res)
		}
	}
}

// checkStamped checks the provenance annotations on every Git object.
func (s *webhookSuite) checkStamped(t *testing.T) {
	t.Helper()
	mapper := s.mapper(t)
	for _, o := range decodeFiles(t, slices.Concat(clusterFiles, workloadFiles)) {
		gvk := o.obj.GroupVersionKind()
		mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatal(err)
		}
		ri := s.env.Dynamic.Resource(mapping.Resource)
		var live *unstructured.Unstructured
		if ns := o.obj.GetNamespace(); ns != "" {
			live, err = ri.Namespace(ns).Get(t.Context(), o.obj.GetName(), metav1.GetOptions{})
		} else {
			live, err = ri.Get(t.Context(), o.obj.GetName(), metav1.GetOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
		got := live.GetAnnotations()
		want := map[string]string{
			webhook.CommitAnnotation:  gitCommit,
			webhook.SourceAnnotation:  gitSource,
			webhook.PathAnnotation:    o.path,
			webhook.SignersAnnotation: strings.Join(gitSigners, ","),
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s %s: annotation %s = %q, want %q", gvk.Kind, o.obj.GetName(), k, got[k], v)
			}
		}
	}
}

// testDenied sends every write path at the managed objects; each must be
// denied with a message naming the field and the commit. None of them
// changes anything, so they run in parallel.
func (s *webhookSuite) testDenied(t *testing.T) {
	ssaFile := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, ssaFile, strings.Replace(workloadFiles[1].yaml, "level: info", "level: debug", 1))
	cases := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"kubectl-edit", []string{`KUBE_EDITOR=sed -i -e "s/^  replicas: 2$/  replicas: 7/"`},
			[]string{"edit", "-n", gitNamespace, "deployment/web"},
			[]string{"spec.replicas", "Git has 2", "7", "apps/web.yaml"}},
		{"kubectl-scale", nil,
			[]string{"scale", "-n", gitNamespace, "deployment/web", "--replicas=5"},
			[]string{"replicas", "5"}},
		{"json-patch", nil,
			[]string{"patch", "-n", gitNamespace, "deployment/web", "--type=json", "-p", `[{"op":"replace","path":"/spec/template/spec/containers/0/env/0/value","value":"debug"}]`},
			[]string{"MODE", "production", "debug"}},
		{"merge-patch", nil,
			[]string{"patch", "-n", gitNamespace, "configmap/web-config", "--type=merge", "-p", `{"data":{"greeting":"bonjour"}}`},
			[]string{"data.greeting", "hello", "bonjour", "apps/config.yaml"}},
		{"strategic-merge-patch", nil,
			[]string{"patch", "-n", gitNamespace, "deployment/web", "--type=strategic", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"registry.k8s.io/pause:3.9"}]}}}}`},
			[]string{"image", "pause:3.10", "pause:3.9"}},
		{"server-side-apply-other-value", nil,
			[]string{"apply", "--server-side", "--force-conflicts", "--field-manager=intruder", "-f", ssaFile},
			[]string{"data.level", "info", "debug"}},
		{"custom-resource-merge-patch", nil,
			[]string{"patch", "-n", gitNamespace, "widget/gear", "--type=merge", "-p", `{"spec":{"size":4}}`},
			[]string{"spec.size", "3", "4", "apps/widget.yaml"}},
		{"other-api-version", nil,
			[]string{"patch", "-n", gitNamespace, "horizontalpodautoscalers.v1.autoscaling/web", "--type=merge", "-p", `{"spec":{"maxReplicas":9}}`},
			[]string{"maxReplicas", "5", "9", "apps/hpa.yaml"}},
		{"kubectl-delete", nil,
			[]string{"delete", "-n", gitNamespace, "configmap/web-config", "--wait=false"},
			[]string{"cannot be deleted", "apps/config.yaml"}},
		{"deletecollection", nil,
			[]string{"delete", "--raw", "/api/v1/namespaces/" + gitNamespace + "/configmaps"},
			[]string{"cannot be deleted"}},
		{"delete-namespace", nil,
			[]string{"delete", "namespace", gitNamespace, "--wait=false"},
			[]string{"cannot be deleted", "apps/namespace.yaml"}},
		{"cluster-scoped-crd", nil,
			[]string{"patch", "crd/widgets.e2e.gitgate.dev", "--type=json", "-p", `[{"op":"replace","path":"/spec/names/singular","value":"gadget"}]`},
			[]string{"spec.names.singular", "widget", "gadget", "crds/widgets.yaml"}},
		{"create-undeclared", nil,
			[]string{"create", "-n", gitNamespace, "configmap", "rogue", "--from-literal=a=b"},
			[]string{"not declared in Git"}},
		{"kubectl-debug", nil,
			[]string{"debug", "-n", gitNamespace, "toolbox", "--image=registry.k8s.io/pause:3.10", "--container=debugger"},
			[]string{"ephemeral", "debugger"}},
		{"exemption-label", nil,
			[]string{"label", "namespace", gitNamespace, webhook.ExemptLabel + "=" + webhook.ExemptValue},
			[]string{webhook.ExemptLabel}},
	}
	// The group returns once every parallel case has finished.
	t.Run("write-paths", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				r := s.kubectl(t, tc.env, tc.args...)
				t.Logf("kubectl %s\n%s", strings.Join(tc.args, " "), r.stderr)
				deniedBy(t, r, append([]string{shortCommit}, tc.want...)...)
				if !strings.Contains(r.stderr, "signed by alice, bob") {
					t.Errorf("denial does not name the signers:\n%s", r)
				}
				if !strings.Contains(r.stderr, gitRepository) {
					t.Errorf("denial does not say where to open a pull request:\n%s", r)
				}
			})
		}
	})
	t.Run("nothing-changed", func(t *testing.T) {
		s.checkStamped(t)
		d, err := s.client.AppsV1().Deployments(gitNamespace).Get(t.Context(), "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if *d.Spec.Replicas != 2 || d.Spec.Template.Spec.Containers[0].Image != "registry.k8s.io/pause:3.10" {
			t.Fatalf("a denied request changed the Deployment: replicas %d image %s", *d.Spec.Replicas, d.Spec.Template.Spec.Containers[0].Image)
		}
	})
	t.Run("event-and-audit", func(t *testing.T) {
		// A denial on an existing managed object leaves a Warning Event
		// on it, and every denial an audit line.
		err := poll(t.Context(), 30*time.Second, func() (bool, error) {
			evs, err := s.client.CoreV1().Events(gitNamespace).List(t.Context(), metav1.ListOptions{
				FieldSelector: "involvedObject.name=web-config,involvedObject.kind=ConfigMap,type=Warning",
			})
			if err != nil {
				return false, err
			}
			return slices.ContainsFunc(evs.Items, func(e corev1.Event) bool { return strings.Contains(e.Message, "data.greeting") }), nil
		})
		if err != nil {
			t.Errorf("no Warning Event for the denied merge patch of web-config: %v", err)
		}
		audit := s.audit.String()
		for _, want := range []string{`"operation":"DELETE"`, `"name":"web-config"`, `"decision":"denied"`, gitCommit} {
			if !strings.Contains(audit, want) {
				t.Errorf("audit log lacks %s:\n%s", want, audit)
			}
		}
	})
	t.Run("converted-to-git-version", func(t *testing.T) {
		// The v1 patch above reached the webhook converted to v2, the
		// version Git declares HPAs in.
		for _, c := range s.rec.since(0) {
			if c.Resource.Resource == "horizontalpodautoscalers" && c.Operation == "UPDATE" && c.Kind.Version != "v2" {
				t.Errorf("HPA update reached the webhook as %s: %s", c.Kind.Version, c)
			}
		}
	})
}

// testAllowed: changes Git does not care about go through.
func (s *webhookSuite) testAllowed(t *testing.T) {
	ctx := t.Context()
	t.Run("annotation-git-leaves-out", func(t *testing.T) {
		s.mustKubectl(t, "annotate", "-n", gitNamespace, "deployment/web", "example.com/note=on-call")
		s.mustKubectl(t, "annotate", "-n", gitNamespace, "horizontalpodautoscalers.v1.autoscaling/web", "example.com/note=v1-client")
		s.mustKubectl(t, "label", "-n", gitNamespace, "configmap/web-config", "example.com/tier=gold")
		s.checkStamped(t)
	})
	t.Run("status", func(t *testing.T) {
		mark := s.rec.mark()
		s.mustKubectl(t, "patch", "-n", gitNamespace, "deployment/web", "--subresource=status", "--type=merge", "-p", `{"status":{"observedGeneration":1}}`)
		for _, c := range s.rec.since(mark) {
			if c.SubResource == "status" {
				t.Errorf("a status write reached the webhook: %s", c)
			}
		}
	})
	t.Run("controller-children", func(t *testing.T) {
		// As the Deployment and ReplicaSet controllers would: a
		// ReplicaSet owned by the Deployment, and a Pod owned by it.
		d, err := s.client.AppsV1().Deployments(gitNamespace).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rs := &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{
				Name: "web-5d8f7c9b6", Namespace: gitNamespace,
				Labels:          map[string]string{"app": "web", "pod-template-hash": "5d8f7c9b6"},
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, appsv1.SchemeGroupVersion.WithKind("Deployment"))},
			},
			Spec: appsv1.ReplicaSetSpec{
				Replicas: d.Spec.Replicas,
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "pod-template-hash": "5d8f7c9b6"}},
				Template: d.Spec.Template,
			},
		}
		rs.Spec.Template.Labels = map[string]string{"app": "web", "pod-template-hash": "5d8f7c9b6"}
		rs, err = s.client.AppsV1().ReplicaSets(gitNamespace).Create(ctx, rs, metav1.CreateOptions{FieldManager: "kube-controller-manager"})
		if err != nil {
			t.Fatal(err)
		}
		mark := s.rec.mark()
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				GenerateName: "web-5d8f7c9b6-", Namespace: gitNamespace, Labels: rs.Spec.Template.Labels,
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))},
			},
			Spec: rs.Spec.Template.Spec,
		}
		created, err := s.client.CoreV1().Pods(gitNamespace).Create(ctx, pod, metav1.CreateOptions{FieldManager: "kube-controller-manager"})
		if err != nil {
			t.Fatalf("controller-created Pod denied: %v", err)
		}
		if !slices.ContainsFunc(s.rec.since(mark), func(c admissionCall) bool { return c.Resource.Resource == "pods" && c.Path == webhook.ValidatePath }) {
			t.Error("the Pod create did not reach the webhook; the test proves nothing")
		}
		if _, ok := created.Annotations[webhook.CommitAnnotation]; ok {
			t.Error("a Pod Git does not declare got a provenance stamp")
		}
	})
	t.Run("re-apply", func(t *testing.T) {
		s.mustKubectl(t, "apply", "-R", "-f", filepath.Join(s.repo, "apps"))
	})
}

// testDryRun: the same verdicts with --dry-run=server, and no side effects.
func (s *webhookSuite) testDryRun(t *testing.T) {
	mark := s.rec.mark()
	r := s.kubectl(t, nil, "scale", "-n", gitNamespace, "deployment/web", "--replicas=6", "--dry-run=server")
	deniedBy(t, r, "replicas", "6", shortCommit)
	r = s.kubectl(t, nil, "create", "-n", gitNamespace, "configmap", "rogue", "--from-literal=a=b", "--dry-run=server")
	deniedBy(t, r, "not declared in Git")
	r = s.kubectl(t, nil, "delete", "-n", gitNamespace, "configmap/web-config", "--dry-run=server")
	deniedBy(t, r, "cannot be deleted")
	s.mustKubectl(t, "annotate", "-n", gitNamespace, "deployment/web", "example.com/dry=run", "--dry-run=server")

	calls := s.rec.since(mark)
	if len(calls) == 0 {
		t.Fatal("dry-run requests did not reach the webhook")
	}
	for _, c := range calls {
		if !c.DryRun {
			t.Errorf("a dry-run request reached the webhook without dryRun: %s", c)
		}
	}
	d, err := s.client.AppsV1().Deployments(gitNamespace).Get(t.Context(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Spec.Replicas != 2 {
		t.Errorf("dry-run scale changed replicas to %d", *d.Spec.Replicas)
	}
	if _, ok := d.Annotations["example.com/dry"]; ok {
		t.Error("a dry-run annotation was stored")
	}
	if _, err := s.client.CoreV1().ConfigMaps(gitNamespace).Get(t.Context(), "web-config", metav1.GetOptions{}); err != nil {
		t.Errorf("dry-run delete had an effect: %v", err)
	}

	// No Event either. Events are recorded in order, so once the Event of
	// a real denial made afterwards is there, one for the dry-run would be
	// too.
	deniedBy(t, s.kubectl(t, nil, "scale", "-n", gitNamespace, "deployment/web", "--replicas=8"), "replicas")
	var events []corev1.Event
	err = poll(t.Context(), 30*time.Second, func() (bool, error) {
		list, err := s.client.CoreV1().Events(gitNamespace).List(t.Context(), metav1.ListOptions{
			FieldSelector: "involvedObject.name=web,involvedObject.kind=Deployment,type=Warning",
		})
		if err != nil {
			return false, err
		}
		events = list.Items
		return slices.ContainsFunc(events, func(e corev1.Event) bool { return strings.Contains(e.Message, "the object has 8") }), nil
	})
	if err != nil {
		t.Fatalf("no Event for the real denial: %v", err)
	}
	for _, e := range events {
		if strings.Contains(e.Message, "the object has 6") {
			t.Errorf("a dry-run denial left an Event: %s", e.Message)
		}
	}
}

// testPolicy turns on part of the policy library: a privileged Pod that a
// controller creates in the managed namespace (allowed by provenance) is
// denied with the policy's message, and a Pod whose image is pinned by tag
// only is admitted with the policy's warning in kubectl's output.
func (s *webhookSuite) testPolicy(t *testing.T) {
	mods, err := policy.ReadModulesFS(policies.FS(), "lib", "pss/baseline/privileged", "images/pinned")
	if err != nil {
		t.Fatal(err)
	}
	engine, err := policy.Compile(t.Context(), policy.Source{Modules: mods}, policy.WithProfile(policy.ProfileAdmission), policy.WithAllNamespaces())
	if err != nil {
		t.Fatal(err)
	}
	s.server.SetPolicy(engine)
	t.Cleanup(func() { s.server.SetPolicy(nil) })

	rs, err := s.client.AppsV1().ReplicaSets(gitNamespace).Get(t.Context(), "web-5d8f7c9b6", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod := func(name string, privileged bool) string {
		return fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata:
  name: %s
  namespace: %s
  labels: {app: web, pod-template-hash: 5d8f7c9b6}
  ownerReferences:
    - {apiVersion: apps/v1, kind: ReplicaSet, name: %s, uid: %s, controller: true, blockOwnerDeletion: true}
spec:
  containers:
    - name: web
      image: registry.k8s.io/pause:3.10
      securityContext: {privileged: %t}
`, name, gitNamespace, rs.Name, rs.UID, privileged)
	}
	create := func(manifest string) kubectlResult {
		cmd := s.env.KubectlCmd(t.Context(), "create", "-f", "-")
		cmd.Stdin = strings.NewReader(manifest)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return kubectlResult{args: []string{"create", "-f", "-"}, stdout: stdout.String(), stderr: stderr.String(), err: err}
	}
	r := create(pod("web-5d8f7c9b6-priv", true))
	deniedBy(t, r, "denied by policy", `container "web" must not set securityContext.privileged=true`)
	r = create(pod("web-5d8f7c9b6-tag", false))
	if r.err != nil {
		t.Fatalf("unprivileged Pod denied: %s", r)
	}
	if !strings.Contains(r.stderr, "Warning:") || !strings.Contains(r.stderr, "pinned by tag only") {
		t.Errorf("no policy warning in kubectl's output:\n%s", r)
	}
}

// testNeverSent: kube-system, kube-node-lease, gitgate's namespace, Events
// and Leases never reach the webhook, even for kinds it manages.
func (s *webhookSuite) testNeverSent(t *testing.T) {
	ctx := t.Context()
	mark := s.rec.mark()
	s.mustKubectl(t, "create", "namespace", gitgateNamespace)
	for _, ns := range []string{"kube-system", "kube-node-lease", gitgateNamespace} {
		s.mustKubectl(t, "create", "-n", ns, "configmap", "gg-never-sent", "--from-literal=a=b")
		s.mustKubectl(t, "patch", "-n", ns, "configmap/gg-never-sent", "--type=merge", "-p", `{"data":{"a":"c"}}`)
		s.mustKubectl(t, "delete", "-n", ns, "configmap/gg-never-sent")
		s.mustKubectl(t, "label", "--overwrite", "namespace", ns, "example.com/touched=yes")
	}
	s.writeEventsAndLeases(t, gitNamespace, "gg-never-sent")
	for _, c := range s.rec.since(mark) {
		switch {
		case slices.Contains([]string{"kube-system", "kube-node-lease", gitgateNamespace}, c.Namespace),
			c.Resource.Resource == "namespaces" && slices.Contains([]string{"kube-system", "kube-node-lease", gitgateNamespace}, c.Name),
			c.Resource.Resource == "events", c.Resource.Resource == "leases":
			t.Errorf("reached the webhook: %s", c)
		}
	}
	// The webhook was listening all along: the same write in the managed
	// namespace reaches it.
	mark = s.rec.mark()
	_, err := s.client.CoreV1().ConfigMaps(gitNamespace).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "gg-never-sent"}},
		metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err == nil {
		t.Error("an undeclared ConfigMap was admitted in the managed namespace")
	}
	if len(s.rec.since(mark)) == 0 {
		t.Error("the control write did not reach the webhook")
	}
}

// writeEventsAndLeases creates an Event (core and events.k8s.io) and a
// Lease named name in ns, and updates and deletes the Lease.
func (s *webhookSuite) writeEventsAndLeases(t *testing.T, ns, name string) {
	t.Helper()
	ctx := t.Context()
	now := metav1.NewTime(time.Now())
	ref := corev1.ObjectReference{Kind: "ConfigMap", Namespace: ns, Name: "web-config", APIVersion: "v1"}
	if _, err := s.client.CoreV1().Events(ns).Create(ctx, &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: name + "-"}, InvolvedObject: ref, Reason: "Test", Message: "core event",
		Type: corev1.EventTypeNormal, FirstTimestamp: now, LastTimestamp: now, Count: 1, Source: corev1.EventSource{Component: "e2e"},
	}, metav1.CreateOptions{}); err != nil {
		t.Errorf("core Event: %v", err)
	}
	if _, err := s.client.EventsV1().Events(ns).Create(ctx, &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: name + "-"}, EventTime: metav1.NewMicroTime(time.Now()), Regarding: ref,
		Reason: "Test", Note: "events.k8s.io event", Type: corev1.EventTypeNormal, Action: "Test", ReportingController: "e2e.gitgate.dev/test", ReportingInstance: "e2e",
	}, metav1.CreateOptions{}); err != nil {
		t.Errorf("events.k8s.io Event: %v", err)
	}
	leases := s.client.CoordinationV1().Leases(ns)
	holder := "e2e"
	lease, err := leases.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder}}, metav1.CreateOptions{})
	if err != nil {
		t.Errorf("Lease: %v", err)
		return
	}
	other := "e2e-2"
	lease.Spec.HolderIdentity = &other
	if _, err := leases.Update(ctx, lease, metav1.UpdateOptions{}); err != nil {
		t.Errorf("Lease update: %v", err)
	}
	if err := leases.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Errorf("Lease delete: %v", err)
	}
}

// testWebhookDown stops the server: the cluster must still heal itself
// (kube-system, gitgate's namespace, Events, Leases), and managed objects
// must be refused (failurePolicy Fail).
func (s *webhookSuite) testWebhookDown(t *testing.T) {
	s.stop(t)
	for _, ns := range []string{"kube-system", gitgateNamespace} {
		s.mustKubectl(t, "create", "-n", ns, "configmap", "gg-webhook-down", "--from-literal=a=b")
		s.mustKubectl(t, "delete", "-n", ns, "configmap/gg-webhook-down")
	}
	s.writeEventsAndLeases(t, gitNamespace, "gg-webhook-down")
	refused := [][]string{
		{"patch", "-n", gitNamespace, "configmap/web-config", "--type=merge", "-p", `{"data":{"greeting":"hello"}}`},
		{"annotate", "-n", gitNamespace, "deployment/web", "example.com/down=yes"},
		{"create", "-n", gitNamespace, "configmap", "gg-webhook-down", "--from-literal=a=b"},
		{"label", "namespace", gitNamespace, "example.com/down=yes"},
	}
	for _, args := range refused {
		r := s.kubectl(t, nil, args...)
		if r.err == nil || !strings.Contains(r.stderr, "failed calling webhook") {
			t.Errorf("with the webhook down, not refused:\n%s", r)
		}
	}
}

func clientConfigs(ws []admissionregistrationv1.ValidatingWebhook) []admissionregistrationv1.WebhookClientConfig {
	var out []admissionregistrationv1.WebhookClientConfig
	for _, w := range ws {
		out = append(out, w.ClientConfig)
	}
	return out
}

func clientConfigsM(ws []admissionregistrationv1.MutatingWebhook) []admissionregistrationv1.WebhookClientConfig {
	var out []admissionregistrationv1.WebhookClientConfig
	for _, w := range ws {
		out = append(out, w.ClientConfig)
	}
	return out
}
