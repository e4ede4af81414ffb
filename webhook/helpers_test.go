package webhook

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"gitgate.dev/gitgate/policies"
	"gitgate.dev/gitgate/policy"
	"gitgate.dev/gitgate/provenance/index"
)

const (
	testSource = "demo"
	testCommit = "4f7c1e0b9a8d6c5e4f3a2b1c0d9e8f7a6b5c4d3e"
	testRepo   = "https://git.example.com/platform/demo.git"
	gitgateSA  = "system:serviceaccount:gitgate-system:gitgate"
)

var testSigners = []string{"alice", "bob"}

// gitObject reads testdata/git/<name>.yaml as the renderer would hand it to
// the Index.
func gitObject(tb testing.TB, name string) *unstructured.Unstructured {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "git", name+".yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	obj := map[string]any{}
	if err := yaml.Unmarshal(data, &obj); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return &unstructured.Unstructured{Object: obj}
}

// gitFiles are the manifests of the test repository.
var gitFiles = []string{"namespace", "sandbox", "web", "config", "exempted", "toolbox"}

func origin(name string) index.Origin {
	return index.Origin{Source: testSource, Commit: testCommit, Path: "clusters/demo/" + name + ".yaml", Signers: testSigners}
}

// newStore publishes the test repository. An earlier commit also declared
// ConfigMap demo/old-config, which the current one removed: it is
// withdrawn.
func newStore(tb testing.TB) *index.Store {
	tb.Helper()
	store := index.NewStore()
	for _, withOld := range []bool{true, false} {
		b := index.NewBuilder()
		for _, name := range gitFiles {
			if _, err := b.Add(gitObject(tb, name), origin(name)); err != nil {
				tb.Fatal(err)
			}
		}
		if withOld {
			old := configMap("demo", "old-config", map[string]any{"k": "v"})
			if _, err := b.Add(&unstructured.Unstructured{Object: old}, origin("old-config")); err != nil {
				tb.Fatal(err)
			}
		}
		if err := store.Publish(testSource, b.Build()); err != nil {
			tb.Fatal(err)
		}
	}
	return store
}

var (
	libraryOnce   sync.Once
	libraryShared *policy.Engine
	libraryErr    error
)

// libraryEngine is the whole shipped policy library in the admission
// profile, compiled once per test binary.
func libraryEngine(tb testing.TB) *policy.Engine {
	tb.Helper()
	libraryOnce.Do(func() {
		mods, err := policy.ReadModulesFS(policies.FS())
		if err != nil {
			libraryErr = err
			return
		}
		libraryShared, libraryErr = policy.Compile(tb.Context(), policy.Source{Modules: mods},
			policy.WithProfile(policy.ProfileAdmission), policy.WithAllNamespaces(), policy.WithMessagesOnly())
	})
	if libraryErr != nil {
		tb.Fatal(libraryErr)
	}
	return libraryShared
}

// compilePolicy compiles Rego modules (package main) in the admission
// profile.
func compilePolicy(tb testing.TB, src string, opts ...policy.Option) *policy.Engine {
	tb.Helper()
	opts = append([]policy.Option{policy.WithProfile(policy.ProfileAdmission)}, opts...)
	e, err := policy.Compile(tb.Context(), policy.Source{Modules: map[string][]byte{"test.rego": []byte(src)}}, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

type recordedEvent struct {
	object            *unstructured.Unstructured
	eventType, reason string
	message           string
}

type fakeRecorder struct {
	mu     sync.Mutex
	events []recordedEvent
}

func (f *fakeRecorder) Event(object runtime.Object, eventtype, reason, message string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, _ := object.(*unstructured.Unstructured)
	f.events = append(f.events, recordedEvent{object: u, eventType: eventtype, reason: reason, message: message})
}

func (f *fakeRecorder) recorded() []recordedEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recordedEvent(nil), f.events...)
}

// fixture is a Server over the test repository with the whole policy
// library, an audit buffer, an Event recorder and a metrics registry.
type fixture struct {
	s      *Server
	store  *index.Store
	audit  *bytes.Buffer
	events *fakeRecorder
	reg    *prometheus.Registry
}

func testOptions(tb testing.TB) Options {
	return Options{
		Desired: newStore(tb),
		Scope: Scope{Sources: []SourceScope{{
			Name:       testSource,
			Repository: testRepo,
			Namespaces: []string{"listed"},
			Kinds:      []schema.GroupKind{{Kind: "Secret"}},
		}}},
		Policy:    libraryEngine(tb),
		Exempt:    Exemptions{Users: []string{gitgateSA}, Groups: []string{"system:masters"}},
		Namespace: "gitgate-system",
	}
}

func newFixture(tb testing.TB, mods ...func(*Options)) *fixture {
	tb.Helper()
	opts := testOptions(tb)
	f := &fixture{audit: &bytes.Buffer{}, events: &fakeRecorder{}, reg: prometheus.NewRegistry()}
	opts.AuditLog, opts.Events, opts.Registerer = f.audit, f.events, f.reg
	for _, m := range mods {
		m(&opts)
	}
	s, err := NewServer(opts)
	if err != nil {
		tb.Fatal(err)
	}
	f.s = s
	f.store, _ = opts.Desired.(*index.Store)
	return f
}

// decideRequest runs the validating pipeline on req and returns the
// decision with its reason.
func (f *fixture) decideRequest(tb testing.TB, req admission.Request) decision {
	tb.Helper()
	ix := f.s.opts.Desired.Current()
	r, err := f.s.parseReview(&req.AdmissionRequest, ix, nil)
	if err != nil {
		tb.Fatalf("parse: %v", err)
	}
	return f.s.decide(tb.Context(), r, ix)
}

// roundTrip encodes obj to JSON and decodes it as the server does: what an
// object looks like after crossing the wire.
func roundTrip(tb testing.TB, obj map[string]any) map[string]any {
	tb.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]any{}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(data, &out); err != nil {
		tb.Fatal(err)
	}
	return out
}

// live returns the object the API server stores for a Git manifest:
// server-set metadata, defaults, a status, kubectl's annotation.
func live(tb testing.TB, name string) map[string]any {
	tb.Helper()
	git := gitObject(tb, name)
	last, err := json.Marshal(git.Object)
	if err != nil {
		tb.Fatal(err)
	}
	obj := roundTrip(tb, git.Object)
	md := obj["metadata"].(map[string]any)
	md["uid"] = "6a1c2d3e-0000-4000-8000-" + strings.Repeat("0", 12-len(git.GetName())) + git.GetName()
	md["resourceVersion"] = "4711"
	md["generation"] = int64(3)
	md["creationTimestamp"] = "2025-01-02T03:04:05Z"
	md["annotations"] = map[string]any{"kubectl.kubernetes.io/last-applied-configuration": string(last)}
	md["managedFields"] = []any{map[string]any{
		"manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": obj["apiVersion"],
		"time": "2025-01-02T03:04:05Z", "fieldsType": "FieldsV1", "fieldsV1": map[string]any{"f:metadata": map[string]any{}},
	}}
	switch obj["kind"] {
	case "Deployment":
		spec := obj["spec"].(map[string]any)
		spec["revisionHistoryLimit"] = int64(10)
		spec["progressDeadlineSeconds"] = int64(600)
		spec["strategy"] = map[string]any{"type": "RollingUpdate", "rollingUpdate": map[string]any{"maxSurge": "25%", "maxUnavailable": "25%"}}
		tmpl := spec["template"].(map[string]any)
		tmpl["metadata"].(map[string]any)["creationTimestamp"] = nil
		defaultPodSpec(tmpl["spec"].(map[string]any))
		obj["status"] = map[string]any{"replicas": int64(2), "readyReplicas": int64(2), "observedGeneration": int64(3)}
	case "Pod":
		defaultPodSpec(obj["spec"].(map[string]any))
		obj["spec"].(map[string]any)["nodeName"] = "node-1"
		obj["status"] = map[string]any{"phase": "Running"}
	case "Namespace":
		md["labels"].(map[string]any)["kubernetes.io/metadata.name"] = git.GetName()
		obj["spec"] = map[string]any{"finalizers": []any{"kubernetes"}}
		obj["status"] = map[string]any{"phase": "Active"}
	}
	return obj
}

// defaultPodSpec applies the API server's pod spec defaults.
func defaultPodSpec(spec map[string]any) {
	spec["restartPolicy"] = "Always"
	spec["dnsPolicy"] = "ClusterFirst"
	spec["schedulerName"] = "default-scheduler"
	spec["terminationGracePeriodSeconds"] = int64(30)
	if _, ok := spec["serviceAccountName"]; !ok {
		spec["serviceAccountName"] = "default"
	}
	spec["enableServiceLinks"] = true
	spec["tolerations"] = []any{map[string]any{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": int64(300)}}
	for _, c := range spec["containers"].([]any) {
		cm := c.(map[string]any)
		cm["imagePullPolicy"] = "IfNotPresent"
		cm["terminationMessagePath"] = "/dev/termination-log"
		cm["terminationMessagePolicy"] = "File"
		for _, p := range asList(cm["ports"]) {
			p.(map[string]any)["protocol"] = "TCP"
		}
		for _, probe := range []string{"livenessProbe", "readinessProbe"} {
			if pm, ok := cm[probe].(map[string]any); ok {
				pm["timeoutSeconds"], pm["periodSeconds"], pm["successThreshold"], pm["failureThreshold"] = int64(1), int64(10), int64(1), int64(3)
				if hg, ok := pm["httpGet"].(map[string]any); ok {
					hg["scheme"] = "HTTP"
				}
			}
		}
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func configMap(ns, name string, data map[string]any) map[string]any {
	return map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": ns, "labels": map[string]any{"app.kubernetes.io/name": name}},
		"data":     data,
	}
}

// childPod is a Pod as the ReplicaSet controller creates it for the managed
// Deployment web: the template's spec, a controller ownerReference.
func childPod(tb testing.TB, name string) map[string]any {
	tb.Helper()
	tmpl := live(tb, "web")["spec"].(map[string]any)["template"].(map[string]any)
	md := tmpl["metadata"].(map[string]any)
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{
			"name": name, "namespace": "demo", "labels": md["labels"],
			"ownerReferences": []any{map[string]any{
				"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d4b9c", "uid": "11111111-2222-4333-8444-555555555555",
				"controller": true, "blockOwnerDeletion": true,
			}},
		},
		"spec": tmpl["spec"],
	}
}

// deepCopy copies a JSON-like object.
func deepCopy(obj map[string]any) map[string]any { return runtime.DeepCopyJSON(obj) }

// set sets the value at path in obj, creating maps on the way.
func setPath(obj map[string]any, value any, path ...string) map[string]any {
	m := obj
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = value
	return obj
}

type reqOption func(*admissionv1.AdmissionRequest)

// newRequest builds the AdmissionRequest the API server sends for op on
// obj (oldObject old).
func newRequest(tb testing.TB, op admissionv1.Operation, obj, old map[string]any, opts ...reqOption) admission.Request {
	tb.Helper()
	src := obj
	if src == nil {
		src = old
	}
	u := &unstructured.Unstructured{Object: src}
	gvk := u.GroupVersionKind()
	plural, _ := meta.UnsafeGuessKindToResource(gvk)
	dry := false
	req := admissionv1.AdmissionRequest{
		UID:       "0e4b2c6a-7f1d-4e3a-9b8c-1d2e3f4a5b6c",
		Kind:      metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind},
		Resource:  metav1.GroupVersionResource{Group: plural.Group, Version: plural.Version, Resource: plural.Resource},
		Name:      u.GetName(),
		Namespace: u.GetNamespace(),
		Operation: op,
		UserInfo:  authenticationv1.UserInfo{Username: "mallory", Groups: []string{"system:authenticated", "devs"}},
		DryRun:    &dry,
	}
	req.RequestKind, req.RequestResource = &req.Kind, &req.Resource
	req.Object = raw(tb, obj)
	req.OldObject = raw(tb, old)
	for _, o := range opts {
		o(&req)
	}
	return admission.Request{AdmissionRequest: req}
}

func raw(tb testing.TB, obj map[string]any) runtime.RawExtension {
	tb.Helper()
	if obj == nil {
		return runtime.RawExtension{}
	}
	data, err := json.Marshal(obj)
	if err != nil {
		tb.Fatal(err)
	}
	return runtime.RawExtension{Raw: data}
}

func asUser(name string, groups ...string) reqOption {
	return func(r *admissionv1.AdmissionRequest) {
		r.UserInfo = authenticationv1.UserInfo{Username: name, Groups: groups}
	}
}

func dryRun() reqOption {
	return func(r *admissionv1.AdmissionRequest) {
		t := true
		r.DryRun = &t
	}
}

// subresource makes the request one on a subresource: kind is the
// subresource's kind (Scale), resource stays the parent's.
func subresource(sub string, kind *metav1.GroupVersionKind) reqOption {
	return func(r *admissionv1.AdmissionRequest) {
		r.SubResource = sub
		r.RequestSubResource = sub
		if kind != nil {
			r.Kind = *kind
		}
	}
}

// scaleRequest is kubectl scale on deployment demo/web.
func scaleRequest(tb testing.TB, replicas, oldReplicas int64, opts ...reqOption) admission.Request {
	tb.Helper()
	scale := func(n int64) map[string]any {
		return map[string]any{
			"apiVersion": "autoscaling/v1", "kind": "Scale",
			"metadata": map[string]any{"name": "web", "namespace": "demo", "uid": "6a1c2d3e-0000-4000-8000-000000000web", "resourceVersion": "4711"},
			"spec":     map[string]any{"replicas": n},
			"status":   map[string]any{"replicas": oldReplicas, "selector": "app.kubernetes.io/name=web"},
		}
	}
	req := newRequest(tb, admissionv1.Update, scale(replicas), scale(oldReplicas), opts...)
	req.Kind = metav1.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}
	req.Resource = metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	req.SubResource = "scale"
	return req
}

// counterValue reads a counter.
func counterValue(tb testing.TB, c prometheus.Counter) float64 {
	tb.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		tb.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
