// Package drifte2e proves the drift watcher against the real kube-apiserver
// and etcd: objects applied with server-side apply as gitgate, then edited,
// deleted and extended by another field manager with no webhook in the way,
// are put back (revert) or only reported (detect).
package drifte2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/provenance/conform"
	"gitgate.dev/gitgate/provenance/index"
	"gitgate.dev/gitgate/reconcile/drift"
	"gitgate.dev/gitgate/test/e2e/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m, testenv.Options{})) }

// editor is the field manager of the out-of-band edits: not gitgate, and
// not exempt from anything, because no webhook is registered.
const editor = "e2e-editor"

var (
	deploymentsGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	configMapsGVR  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
)

// ssaApplier applies as the reconciler does: server-side apply, field
// manager gitgate, force. It counts its calls.
type ssaApplier struct {
	c     client.Client
	calls atomic.Int64
}

func (a *ssaApplier) Apply(ctx context.Context, obj *unstructured.Unstructured) error {
	a.calls.Add(1)
	u := obj.DeepCopy()
	if err := a.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("gitgate"), client.ForceOwnership); err != nil {
		return fmt.Errorf("apply %s %s: %w", obj.GetKind(), obj.GetName(), err)
	}
	return nil
}

// syncBuffer collects the audit log from concurrent workers.
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

// suite is one source's objects in their own namespace, applied as
// gitgate, and a running Watcher.
type suite struct {
	env     *testenv.Env
	ns      string
	source  string
	objs    []*unstructured.Unstructured
	ix      *index.Index
	applier *ssaApplier
	mapper  meta.RESTMapper
	w       *drift.Watcher
	reg     *prometheus.Registry
	audit   *syncBuffer
	kube    kubernetes.Interface
}

// deployment is a Deployment of source in ns with the named containers.
func deployment(ns, source, name string, replicas int64, containers ...string) *unstructured.Unstructured {
	cs := make([]any, 0, len(containers))
	for i, c := range containers {
		cs = append(cs, map[string]any{
			"name":  c,
			"image": "registry.example/" + c + ":1.0",
			"ports": []any{map[string]any{"containerPort": int64(8080 + i)}},
			"env":   []any{map[string]any{"name": "MODE", "value": "prod"}},
			"resources": map[string]any{
				"requests": map[string]any{"cpu": "100m", "memory": "64Mi"},
			},
		})
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1",
		"kind":       "Deployment",
		"metadata": map[string]any{
			"name": name, "namespace": ns,
			"labels": map[string]any{v1alpha1.SourceLabel: source, "app": name},
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
}

func configMap(ns, source, name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata": map[string]any{
			"name": name, "namespace": ns,
			"labels": map[string]any{v1alpha1.SourceLabel: source},
		},
		"data": map[string]any{"mode": "prod", "level": "info"},
	}}
}

// namespaces counts the namespaces made by this process: envtest runs no
// namespace controller, so a deleted namespace stays Terminating and its
// name cannot be used again by -count or a benchmark's repeated runs.
var namespaces atomic.Int64

// uniqueNamespace returns a namespace name no earlier test of this
// process used.
func uniqueNamespace(base string) string {
	return fmt.Sprintf("%s-%d", base, namespaces.Add(1))
}

// newSuite creates namespace ns, applies objs as gitgate and starts a
// Watcher tracking them as source in mode. The Watcher stops, and the
// namespace goes, when the test ends.
func newSuite(t testing.TB, ns, source string, mode drift.Mode, objs ...*unstructured.Unstructured) *suite {
	t.Helper()
	env := testenv.Require(t)
	ctx := context.Background()
	hc, err := rest.HTTPClientFor(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	mapper, err := apiutil.NewDynamicRESTMapper(env.Config, hc)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(env.Config, client.Options{Mapper: mapper, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	kube, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	if _, err := kube.CoreV1().Namespaces().Create(ctx, nsObj, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() {
		_ = kube.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})

	s := &suite{env: env, ns: ns, source: source, objs: objs, applier: &ssaApplier{c: c}, mapper: mapper,
		reg: prometheus.NewRegistry(), audit: &syncBuffer{}, kube: kube}
	s.ix = s.index(t, objs...)
	for _, o := range objs {
		if err := s.applier.Apply(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	s.applier.calls.Store(0)

	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: kube.CoreV1().Events("")})
	recorder := broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "gitgate"})

	s.w, err = drift.New(drift.Options{
		Config:     env.Config,
		Mapper:     mapper,
		Applier:    s.applier,
		Recorder:   recorder,
		AuditLog:   s.audit,
		Registerer: s.reg,
		Logger:     logger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.w.Start(wctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watcher: %v", err)
		}
		broadcaster.Shutdown()
	})
	s.w.Track(source, s.ix, mode)
	return s
}

// logger logs the Watcher into the test's log; a benchmark's log is
// always printed, so a benchmark gets none.
func logger(t testing.TB) logr.Logger {
	if tt, ok := t.(*testing.T); ok {
		return testr.NewWithOptions(tt, testr.Options{Verbosity: 1})
	}
	return logr.Discard()
}

// index builds the source's Index of objs, as the reconciler would.
func (s *suite) index(t testing.TB, objs ...*unstructured.Unstructured) *index.Index {
	t.Helper()
	b := index.NewBuilder()
	for _, o := range objs {
		origin := index.Origin{Source: s.source, Commit: strings.Repeat("ab", 20), Path: "apps/" + o.GetName() + ".yaml", Signers: []string{"alice"}}
		if _, err := b.Add(o.DeepCopy(), origin); err != nil {
			t.Fatal(err)
		}
	}
	return b.Build()
}

func (s *suite) resource(gvr schema.GroupVersionResource) interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions, sub ...string) (*unstructured.Unstructured, error)
	Update(ctx context.Context, obj *unstructured.Unstructured, opts metav1.UpdateOptions, sub ...string) (*unstructured.Unstructured, error)
	Delete(ctx context.Context, name string, opts metav1.DeleteOptions, sub ...string) error
} {
	return s.env.Dynamic.Resource(gvr).Namespace(s.ns)
}

// get returns the live object, nil when it does not exist.
func (s *suite) get(t testing.TB, gvr schema.GroupVersionResource, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := s.resource(gvr).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	return u
}

// edit changes an object as the editor field manager (an update, as
// kubectl edit makes it).
func (s *suite) edit(t testing.TB, gvr schema.GroupVersionResource, name string, change func(u *unstructured.Unstructured)) {
	t.Helper()
	for {
		u := s.get(t, gvr, name)
		if u == nil {
			t.Fatalf("edit %s: not found", name)
		}
		change(u)
		_, err := s.resource(gvr).Update(context.Background(), u, metav1.UpdateOptions{FieldManager: editor})
		if apierrors.IsConflict(err) {
			continue // the watcher wrote meanwhile
		}
		if err != nil {
			t.Fatalf("edit %s: %v", name, err)
		}
		return
	}
}

func setReplicas(n int64) func(u *unstructured.Unstructured) {
	return func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(u.Object, n, "spec", "replicas")
	}
}

func addContainer(name string) func(u *unstructured.Unstructured) {
	return func(u *unstructured.Unstructured) {
		cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
		cs = append(cs, map[string]any{"name": name, "image": "registry.example/" + name + ":6.6.6"})
		_ = unstructured.SetNestedSlice(u.Object, cs, "spec", "template", "spec", "containers")
	}
}

func (s *suite) remove(t testing.TB, gvr schema.GroupVersionResource, name string) {
	t.Helper()
	if err := s.resource(gvr).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete %s: %v", name, err)
	}
}

// conforms reports whether the live object matches desired (false when it
// does not exist).
func (s *suite) conforms(t testing.TB, gvr schema.GroupVersionResource, desired *unstructured.Unstructured) bool {
	live := s.get(t, gvr, desired.GetName())
	return live != nil && len(conform.Compare(desired.Object, live.Object)) == 0
}

// metric returns the value of the counter or gauge name with labels from
// the Watcher's registry (0 when absent).
func (s *suite) metric(t testing.TB, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := s.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}

// events returns the messages of Events with reason on the named object.
func (s *suite) events(t testing.TB, name, reason string) []string {
	t.Helper()
	list, err := s.kube.CoreV1().Events(s.ns).List(context.Background(), metav1.ListOptions{
		FieldSelector: "involvedObject.name=" + name + ",reason=" + reason,
	})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(list.Items))
	for _, e := range list.Items {
		out = append(out, e.Message)
	}
	return out
}

// serverWatches returns how many watch requests on resource the API server
// is serving now (its apiserver_longrunning_requests gauge).
func serverWatches(t testing.TB, env *testenv.Env, resource string) int {
	t.Helper()
	dc, err := discovery.NewDiscoveryClientForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := dc.RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		t.Fatalf("read API server metrics: %v", err)
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_longrunning_requests{") ||
			!strings.Contains(line, `resource="`+resource+`"`) || !strings.Contains(line, `verb="WATCH"`) {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		n += int(v)
	}
	return n
}

// eventually polls cond until it holds, failing after 30 s (the API
// server on a small shared machine can be slow; a revert takes
// milliseconds).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func metav1ListOptions(fieldSelector string) metav1.ListOptions {
	return metav1.ListOptions{FieldSelector: fieldSelector}
}

func unstructuredSlice(obj map[string]any, fields ...string) ([]any, bool, error) {
	return unstructured.NestedSlice(obj, fields...)
}
