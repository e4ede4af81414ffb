package drift

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/tools/record"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/provenance/index"
)

// The resources the fakes serve.
var (
	deploymentsGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	configMapsGVR  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	secretsGVR     = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	namespacesGVR  = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	deploymentGK   = schema.GroupKind{Group: "apps", Kind: "Deployment"}
	configMapGK    = schema.GroupKind{Kind: "ConfigMap"}
)

const testCommit = "0123456789abcdef0123456789abcdef01234567"

func testMapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	m.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "Secret"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, meta.RESTScopeRoot)
	return m
}

// deployment is a Deployment manifest of source with one container per
// image name given.
func deployment(source, name string, replicas int64, containers ...string) *unstructured.Unstructured {
	var cs []any
	for _, c := range containers {
		cs = append(cs, map[string]any{"name": c, "image": "registry.example/" + c + ":1"})
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1",
		"kind":       "Deployment",
		"metadata": map[string]any{
			"name": name, "namespace": "app",
			"labels": map[string]any{v1alpha1.SourceLabel: source},
		},
		"spec": map[string]any{
			"replicas": replicas,
			"selector": map[string]any{"matchLabels": map[string]any{"app": name}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"app": name}},
				"spec":     map[string]any{"containers": cs},
			},
		},
	}}
	return u
}

func configMap(source, name string, data map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata": map[string]any{
			"name": name, "namespace": "app",
			"labels": map[string]any{v1alpha1.SourceLabel: source},
		},
		"data": data,
	}}
}

func secret(source, name string, data map[string]any) *unstructured.Unstructured {
	u := configMap(source, name, nil)
	u.SetKind("Secret")
	delete(u.Object, "data")
	u.Object["data"] = data
	return u
}

// buildIndex builds source's Index of objs.
func buildIndex(t testing.TB, source string, objs ...*unstructured.Unstructured) *index.Index {
	t.Helper()
	b := index.NewBuilder()
	for _, o := range objs {
		if _, err := b.Add(o.DeepCopy(), index.Origin{Source: source, Commit: testCommit, Path: "apps/" + o.GetName() + ".yaml", Signers: []string{"alice"}}); err != nil {
			t.Fatalf("index add: %v", err)
		}
	}
	return b.Build()
}

// fakeApplier writes objects into the fake client, the way an apply
// leaves them; the first failures calls fail.
type fakeApplier struct {
	dyn *dynamicfake.FakeDynamicClient

	mu       sync.Mutex
	calls    []*unstructured.Unstructured
	failures int
	failWith error
}

func (a *fakeApplier) Apply(ctx context.Context, obj *unstructured.Unstructured) error {
	a.mu.Lock()
	a.calls = append(a.calls, obj.DeepCopy())
	if a.failures > 0 {
		a.failures--
		a.mu.Unlock()
		return a.failWith
	}
	a.mu.Unlock()
	gvr := map[string]schema.GroupVersionResource{"Deployment": deploymentsGVR, "ConfigMap": configMapsGVR, "Secret": secretsGVR, "Namespace": namespacesGVR}[obj.GetKind()]
	r := a.dyn.Resource(gvr).Namespace(obj.GetNamespace())
	live, err := r.Get(ctx, obj.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = r.Create(ctx, obj, metav1.CreateOptions{FieldManager: fieldManager})
		return err
	}
	if err != nil {
		return err
	}
	obj.SetResourceVersion(live.GetResourceVersion())
	obj.SetUID(live.GetUID())
	_, err = r.Update(ctx, obj, metav1.UpdateOptions{FieldManager: fieldManager})
	return err
}

func (a *fakeApplier) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.calls)
}

// syncBuffer is a bytes.Buffer safe for the workers' concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// auditLines decodes the audit log.
func (s *syncBuffer) auditLines(t testing.TB) []auditLine {
	t.Helper()
	var out []auditLine
	for l := range strings.Lines(s.String()) {
		var a auditLine
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		out = append(out, a)
	}
	return out
}

type change struct {
	source string
	n      int
}

// fixture is a Watcher on a fake API server.
type fixture struct {
	w       *Watcher
	dyn     *dynamicfake.FakeDynamicClient
	applier *fakeApplier
	events  *record.FakeRecorder
	audit   *syncBuffer
	logs    *syncBuffer
	reg     *prometheus.Registry

	mu      sync.Mutex
	changes []change
}

// newFixture returns a Watcher whose fake API server holds objs. It is not
// started.
func newFixture(t *testing.T, objs ...*unstructured.Unstructured) *fixture {
	t.Helper()
	rs := make([]runtime.Object, len(objs))
	for i, o := range objs {
		rs[i] = o.DeepCopy()
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		deploymentsGVR: "DeploymentList",
		configMapsGVR:  "ConfigMapList",
		secretsGVR:     "SecretList",
		namespacesGVR:  "NamespaceList",
	}, rs...)
	f := &fixture{
		dyn:     dyn,
		applier: &fakeApplier{dyn: dyn},
		events:  record.NewFakeRecorder(100),
		audit:   &syncBuffer{},
		logs:    &syncBuffer{},
		reg:     prometheus.NewRegistry(),
	}
	logs := f.logs
	w, err := newWatcher(Options{
		Mapper:     testMapper(),
		Applier:    f.applier,
		Recorder:   f.events,
		AuditLog:   f.audit,
		Registerer: f.reg,
		Logger: funcr.New(func(prefix, args string) {
			_, _ = logs.Write([]byte(prefix + " " + args + "\n"))
		}, funcr.Options{Verbosity: 1}),
		OnChange: func(source string, n int) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.changes = append(f.changes, change{source, n})
		},
	}, dyn)
	if err != nil {
		t.Fatalf("new watcher: %v", err)
	}
	f.w = w
	return f
}

// start runs the Watcher until the test ends.
func (f *fixture) start(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- f.w.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("start: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("watcher did not stop")
		}
	})
}

// waitSynced waits until the watches of gks run and have their initial
// list.
func (f *fixture) waitSynced(t *testing.T, gks ...schema.GroupKind) {
	t.Helper()
	eventually(t, "watches synced", func() bool {
		f.w.mu.Lock()
		defer f.w.mu.Unlock()
		for _, gk := range gks {
			if wt := f.w.watches[gk]; wt == nil || !wt.synced.Load() {
				return false
			}
		}
		return true
	})
}

func (f *fixture) watchedKinds() []schema.GroupKind {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	var out []schema.GroupKind
	for gk := range f.w.watches {
		out = append(out, gk)
	}
	return out
}

func (f *fixture) changeLog() []change {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]change(nil), f.changes...)
}

// drainEvents returns the events recorded so far.
func (f *fixture) drainEvents() []string {
	var out []string
	for {
		select {
		case e := <-f.events.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func (f *fixture) detected(source, kind string) float64 {
	return testutil.ToFloat64(f.w.metrics.detected.WithLabelValues(source, kind))
}

func (f *fixture) reverted(source, kind string) float64 {
	return testutil.ToFloat64(f.w.metrics.reverted.WithLabelValues(source, kind))
}

// get reads an object from the fake API server; nil when it is not there.
func (f *fixture) get(t *testing.T, gvr schema.GroupVersionResource, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := f.dyn.Resource(gvr).Namespace("app").Get(t.Context(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("get %s %s: %v", gvr.Resource, name, err)
	}
	return u
}

// edit changes an object on the fake API server as manager, stamping its
// managedFields as the API server would.
func (f *fixture) edit(t *testing.T, gvr schema.GroupVersionResource, name, manager string, at time.Time, change func(u *unstructured.Unstructured)) {
	t.Helper()
	u := f.get(t, gvr, name)
	if u == nil {
		t.Fatalf("edit %s: not found", name)
	}
	change(u)
	stampEditor(u, manager, at)
	// The fake keeps no resource versions on objects; the API server does.
	u.SetResourceVersion(strconv.FormatInt(editVersion.Add(1), 10))
	if _, err := f.dyn.Resource(gvr).Namespace("app").Update(t.Context(), u, metav1.UpdateOptions{FieldManager: manager}); err != nil {
		t.Fatalf("edit %s: %v", name, err)
	}
}

// stampEditor gives u a gitgate Apply entry and manager's Update entry at
// at.
func stampEditor(u *unstructured.Unstructured, manager string, at time.Time) {
	u.SetManagedFields([]metav1.ManagedFieldsEntry{
		{Manager: fieldManager, Operation: metav1.ManagedFieldsOperationApply, APIVersion: "v1", Time: &metav1.Time{Time: at.Add(-time.Hour)}},
		{Manager: manager, Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1", Time: &metav1.Time{Time: at}},
	})
}

// eventually polls cond until it holds, failing the test after 10 s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var errApply = errors.New("apply refused")

var editVersion atomic.Int64

func deleteOptions() metav1.DeleteOptions { return metav1.DeleteOptions{} }
