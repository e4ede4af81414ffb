package reconcile

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/record"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/provenance/gittest"
	"gitgate.dev/gitgate/provenance/index"
)

// trustPolicy returns a trust policy that lets signers change every path.
func trustPolicy(signers map[string]*gittest.Signer) string {
	var b strings.Builder
	b.WriteString("version: 1\nsigners:\n")
	var names []string
	for name, s := range signers {
		fmt.Fprintf(&b, "  %s:\n    keys:\n      - ssh: %q\n", name, s.PublicKey())
		names = append(names, name)
	}
	fmt.Fprintf(&b, "rules:\n  - paths: [\"**\"]\n    signers: [%s]\n", strings.Join(names, ", "))
	return b.String()
}

// testRepo is a signed repository with a trust root.
type testRepo struct {
	*gittest.Repo
	alice *gittest.Signer
	root  string
}

func newTestRepo(t *testing.T) *testRepo {
	t.Helper()
	r := gittest.NewRepo(t)
	alice := gittest.NewSSHSigner(t, "alice")
	r.WriteFile(".gitgate/trust.yaml", trustPolicy(map[string]*gittest.Signer{"alice": alice}))
	root := r.Commit("trust root", nil)
	return &testRepo{Repo: r, alice: alice, root: root}
}

func (r *testRepo) url() string { return "file://" + r.Dir }

func configMapYAML(ns, name, value string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\ndata:\n  value: %q\n", name, ns, value)
}

func namespaceYAML(name string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", name)
}

// testScheme has client-go's types and v1alpha1.
func testScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// testMapper knows the core kinds the unit tests use.
func testMapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, meta.RESTScopeRoot)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "Secret"}, meta.RESTScopeNamespace)
	m.Add(v1alpha1.GroupVersion.WithKind("GitSource"), meta.RESTScopeRoot)
	return m
}

// applyRecorder records the objects the applier is asked to apply.
type applyRecorder struct {
	mu   sync.Mutex
	objs []string
	fail map[string]error
}

func (a *applyRecorder) apply(_ context.Context, obj *unstructured.Unstructured) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	d := describe(obj)
	a.objs = append(a.objs, d)
	return a.fail[d]
}

func (a *applyRecorder) applied() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.objs...)
}

// publisher records what the Reconciler publishes.
type publisher struct {
	mu        sync.Mutex
	published map[string]Published
	withdrawn []string
}

func (p *publisher) Publish(pub Published) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.published == nil {
		p.published = map[string]Published{}
	}
	p.published[pub.Source] = pub
}

func (p *publisher) Withdraw(source string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.published, source)
	p.withdrawn = append(p.withdrawn, source)
}

func (p *publisher) get(source string) (Published, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pub, ok := p.published[source]
	return pub, ok
}

// fixture is a Reconciler over a fake client.
type fixture struct {
	r        *Reconciler
	client   client.Client
	store    *index.Store
	pub      *publisher
	applies  *applyRecorder
	events   *record.FakeRecorder
	leader   bool
	cacheDir string
}

func newFixture(t *testing.T, objs ...client.Object) *fixture {
	t.Helper()
	c := fake.NewClientBuilder().
		WithScheme(testScheme(t)).
		WithRESTMapper(testMapper()).
		WithStatusSubresource(&v1alpha1.GitSource{}).
		WithObjects(objs...).
		Build()
	f := &fixture{client: c, applies: &applyRecorder{}, events: record.NewFakeRecorder(100)}
	f.restart(t, t.TempDir())
	return f
}

// restart replaces the Reconciler with a new process's: a new Store and
// Publisher, the clone cache in cacheDir; the cluster (the fake client)
// stays.
func (f *fixture) restart(t *testing.T, cacheDir string) {
	t.Helper()
	f.store, f.pub, f.cacheDir = index.NewStore(), &publisher{}, cacheDir
	r, err := New(Options{
		Client: f.client, APIReader: f.client, Scheme: f.client.Scheme(), RESTMapper: testMapper(), Store: f.store,
		Publisher: f.pub, Namespace: "gitgate-system", CacheDir: cacheDir, Recorder: f.events,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.applier.apply = f.applies.apply
	r.elected = func() bool { return f.leader }
	f.r = r
}

func (f *fixture) reconcile(t *testing.T, name string) ctrl.Result {
	t.Helper()
	res, err := f.r.Reconcile(t.Context(), ctrl.Request{NamespacedName: client.ObjectKey{Name: name}})
	if err != nil {
		t.Fatalf("reconcile %s: %v", name, err)
	}
	return res
}

func (f *fixture) get(t *testing.T, name string) *v1alpha1.GitSource {
	t.Helper()
	var gs v1alpha1.GitSource
	if err := f.client.Get(t.Context(), client.ObjectKey{Name: name}, &gs); err != nil {
		t.Fatal(err)
	}
	return &gs
}

func gitSource(name, url, root string) *v1alpha1.GitSource {
	return &v1alpha1.GitSource{
		ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1},
		Spec: v1alpha1.GitSourceSpec{
			URL: url, Branch: "main", TrustRoot: root,
			Interval: metav1.Duration{Duration: time.Minute},
		},
	}
}

func condition(gs *v1alpha1.GitSource, typ string) *metav1.Condition {
	return meta.FindStatusCondition(gs.Status.Conditions, typ)
}

func wantCondition(t *testing.T, gs *v1alpha1.GitSource, typ string, status metav1.ConditionStatus, reason string) *metav1.Condition {
	t.Helper()
	c := condition(gs, typ)
	if c == nil {
		t.Fatalf("no %s condition in %+v", typ, gs.Status.Conditions)
	}
	if c.Status != status || c.Reason != reason {
		t.Fatalf("%s = %s/%s (%s), want %s/%s", typ, c.Status, c.Reason, c.Message, status, reason)
	}
	return c
}
