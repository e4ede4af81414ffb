package reconcile

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/provenance"
	"gitgate.dev/gitgate/provenance/gittest"
	"gitgate.dev/gitgate/provenance/index"
)

// TestRewindRefusedAfterRestart: the ledger is the status, so a new
// Reconciler (a restarted process, with an empty clone cache) still refuses
// a branch rewound to an older signed commit, and applies nothing.
func TestRewindRefusedAfterRestart(t *testing.T) {
	repo := newTestRepo(t)
	repo.WriteFile("a.yaml", configMapYAML("default", "a", "1"))
	old := repo.Commit("a=1", repo.alice)
	repo.WriteFile("a.yaml", configMapYAML("default", "a", "2"))
	head := repo.Commit("a=2", repo.alice)
	f := newFixture(t, gitSource("src", repo.url(), repo.root))
	f.leader = true
	f.reconcile(t, "src")
	if gs := f.get(t, "src"); gs.Status.LastVerifiedCommit != head {
		t.Fatalf("ledger holds %q, want %s", gs.Status.LastVerifiedCommit, head)
	}

	repo.Run("reset", "-q", "--hard", old)
	for _, restarted := range []bool{false, true} {
		r := f.r
		if restarted {
			var err error
			r, err = New(Options{Client: f.client, APIReader: f.client, RESTMapper: testMapper(), Store: index.NewStore(), CacheDir: t.TempDir(), Recorder: f.events})
			if err != nil {
				t.Fatal(err)
			}
			r.applier.apply = f.applies.apply
		}
		r.Trigger("src")
		if _, err := r.Reconcile(t.Context(), reconcileRequest("src")); err != nil {
			t.Fatal(err)
		}
		gs := f.get(t, "src")
		c := wantCondition(t, gs, v1alpha1.ConditionVerified, metav1.ConditionFalse, reasonVerificationFailed)
		if !strings.Contains(c.Message, "rewound") {
			t.Errorf("restarted=%v: Verified message %q does not name the rewind", restarted, c.Message)
		}
		wantCondition(t, gs, v1alpha1.ConditionReady, metav1.ConditionFalse, reasonVerificationFailed)
		// The last good state stays: applied commit, Applied condition.
		wantCondition(t, gs, v1alpha1.ConditionApplied, metav1.ConditionTrue, reasonSucceeded)
		if gs.Status.LastAppliedCommit != head || gs.Status.LastVerifiedCommit != head {
			t.Errorf("restarted=%v: status moved to %+v", restarted, gs.Status)
		}
		if n := len(f.applies.applied()); n != 1 {
			t.Errorf("restarted=%v: rewound commit applied: %v", restarted, f.applies.applied())
		}
	}
	if e := lastEvent(f); !strings.HasPrefix(e, "Warning VerificationFailed") {
		t.Errorf("last event %q, want a VerificationFailed warning", e)
	}
}

// TestPolicyDenyKeepsLastGoodState: a commit that a library policy denies
// is neither published nor applied; the engine is compiled once while the
// policy does not change.
func TestPolicyDenyKeepsLastGoodState(t *testing.T) {
	repo := newTestRepo(t)
	repo.WriteFile("apps/pod.yaml", podYAML(false))
	repo.WriteFile("policy/labels.rego", "package custom\n\nwarn contains \"no team label\" if { not input.metadata.labels.team }\n")
	good := repo.Commit("pod", repo.alice)
	gs := gitSource("src", repo.url(), repo.root)
	gs.Spec.Policy = &v1alpha1.PolicySpec{Paths: []string{"policy"}, Library: []string{"pss/baseline"}}
	f := newFixture(t, gs)
	f.leader = true
	f.reconcile(t, "src")
	got := f.get(t, "src")
	c := wantCondition(t, got, v1alpha1.ConditionPolicyPassed, metav1.ConditionTrue, reasonSucceeded)
	if !strings.Contains(c.Message, "1 warnings") {
		t.Errorf("PolicyPassed message %q does not count the repository policy's warning", c.Message)
	}
	pub, _ := f.pub.get("src")
	if pub.Policy == nil {
		t.Fatal("no engine published")
	}
	// The policy folder is not rendered: only the Pod is desired.
	if n := f.store.Source("src").Len(); n != 1 {
		t.Errorf("Index holds %d objects, want 1", n)
	}

	repo.WriteFile("apps/pod.yaml", podYAML(true))
	repo.Commit("privileged", repo.alice)
	f.r.Trigger("src")
	f.reconcile(t, "src")
	got = f.get(t, "src")
	c = wantCondition(t, got, v1alpha1.ConditionPolicyPassed, metav1.ConditionFalse, reasonPolicyDenied)
	if !strings.Contains(c.Message, "privileged") || !strings.Contains(c.Message, "Pod default/web (apps/pod.yaml)") {
		t.Errorf("PolicyPassed message %q does not name the object and the policy's message", c.Message)
	}
	wantCondition(t, got, v1alpha1.ConditionVerified, metav1.ConditionTrue, reasonSucceeded)
	if got.Status.LastAppliedCommit != good {
		t.Errorf("lastAppliedCommit %s, want the last good %s", got.Status.LastAppliedCommit, good)
	}
	if e, _ := f.store.Source("src").Lookup(index.Key{Kind: "Pod", Namespace: "default", Name: "web"}); e.Origin.Commit != good {
		t.Errorf("published Index is from %s, want the last good %s", e.Origin.Commit, good)
	}
	if n := len(f.applies.applied()); n != 1 {
		t.Errorf("denied commit applied: %v", f.applies.applied())
	}
	if st := f.r.state("src"); st.compiles != 1 {
		t.Errorf("policy compiled %d times for two commits with the same Rego, want 1", st.compiles)
	}
}

func podYAML(privileged bool) string {
	s := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: default\nspec:\n  containers:\n  - name: web\n    image: nginx\n"
	if privileged {
		s += "    securityContext:\n      privileged: true\n"
	}
	return s
}

// TestSyncFailures: each failure sets Ready=False with its reason, names
// what is wrong, and applies nothing.
func TestSyncFailures(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(t *testing.T, r *testRepo, gs *v1alpha1.GitSource)
		condition string
		reason    string
		message   string
	}{
		{
			name: "unsigned commit",
			setup: func(_ *testing.T, r *testRepo, _ *v1alpha1.GitSource) {
				r.WriteFile("a.yaml", configMapYAML("default", "a", "1"))
				r.Commit("unsigned", nil)
			},
			condition: v1alpha1.ConditionVerified, reason: reasonVerificationFailed, message: "not verified",
		},
		{
			name: "untrusted signer",
			setup: func(t *testing.T, r *testRepo, _ *v1alpha1.GitSource) {
				r.WriteFile("a.yaml", configMapYAML("default", "a", "1"))
				r.Commit("mallory", gittest.NewSSHSigner(t, "mallory"))
			},
			condition: v1alpha1.ConditionVerified, reason: reasonVerificationFailed, message: "not verified",
		},
		{
			name: "unknown trust root",
			setup: func(_ *testing.T, r *testRepo, gs *v1alpha1.GitSource) {
				r.WriteFile("a.yaml", configMapYAML("default", "a", "1"))
				r.Commit("a", r.alice)
				gs.Spec.TrustRoot = strings.Repeat("ab", 20)
			},
			condition: v1alpha1.ConditionVerified, reason: reasonVerificationError, message: "unknown commit",
		},
		{
			name: "invalid YAML",
			setup: func(_ *testing.T, r *testRepo, _ *v1alpha1.GitSource) {
				r.WriteFile("a.yaml", configMapYAML("default", "a", "1"))
				r.WriteFile("broken/bad.yaml", "apiVersion: v1\nkind: [unclosed\n")
				r.Commit("bad", r.alice)
			},
			reason: reasonRenderFailed, message: "broken/bad.yaml",
		},
		{
			name: "unknown library policy",
			setup: func(_ *testing.T, r *testRepo, gs *v1alpha1.GitSource) {
				r.WriteFile("a.yaml", configMapYAML("default", "a", "1"))
				r.Commit("a", r.alice)
				gs.Spec.Policy = &v1alpha1.PolicySpec{Library: []string{"no/such"}}
			},
			condition: v1alpha1.ConditionPolicyPassed, reason: reasonPolicyInvalid, message: `no library policy "no/such"`,
		},
		{
			name: "missing credentials secret",
			setup: func(_ *testing.T, r *testRepo, gs *v1alpha1.GitSource) {
				r.Commit("empty", r.alice)
				gs.Spec.SecretRef = &v1alpha1.LocalObjectReference{Name: "nope"}
			},
			reason: reasonCredentialsError, message: "gitgate-system/nope",
		},
		{
			name: "unknown branch",
			setup: func(_ *testing.T, r *testRepo, gs *v1alpha1.GitSource) {
				r.Commit("empty", r.alice)
				gs.Spec.Branch = "nope"
			},
			reason: reasonFetchFailed, message: "nope",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := newTestRepo(t)
			gs := gitSource("src", repo.url(), repo.root)
			tt.setup(t, repo, gs)
			f := newFixture(t, gs)
			f.leader = true
			f.reconcile(t, "src")
			got := f.get(t, "src")
			c := wantCondition(t, got, v1alpha1.ConditionReady, metav1.ConditionFalse, tt.reason)
			if tt.condition != "" {
				wantCondition(t, got, tt.condition, metav1.ConditionFalse, tt.reason)
			}
			if !strings.Contains(c.Message, tt.message) {
				t.Errorf("message %q does not contain %q", c.Message, tt.message)
			}
			if c.ObservedGeneration != got.Generation || got.Status.ObservedGeneration != got.Generation {
				t.Errorf("observed generation %d/%d, want %d", c.ObservedGeneration, got.Status.ObservedGeneration, got.Generation)
			}
			if a := f.applies.applied(); len(a) != 0 || f.store.Source("src") != nil {
				t.Errorf("applied %v, published %v", a, f.store.Source("src"))
			}
			if e := lastEvent(f); !strings.HasPrefix(e, "Warning "+tt.reason) {
				t.Errorf("event %q, want a %s warning", e, tt.reason)
			}
		})
	}
}

// TestApplyFailureKeepsPruneAndNamesObject: a failed apply names the object
// and leaves Applied=False; nothing is pruned.
func TestApplyFailure(t *testing.T) {
	repo := newTestRepo(t)
	repo.WriteFile("a.yaml", configMapYAML("default", "a", "1"))
	repo.WriteFile("b.yaml", configMapYAML("default", "b", "1"))
	repo.Commit("a, b", repo.alice)
	f := newFixture(t, gitSource("src", repo.url(), repo.root))
	f.leader = true
	f.applies.fail = map[string]error{"ConfigMap default/b": errors.New("admission webhook said no")}
	f.reconcile(t, "src")
	gs := f.get(t, "src")
	c := wantCondition(t, gs, v1alpha1.ConditionApplied, metav1.ConditionFalse, reasonApplyFailed)
	if !strings.Contains(c.Message, "1 of 2 objects failed: admission webhook said no") {
		t.Errorf("Applied message %q", c.Message)
	}
	if gs.Status.LastAppliedCommit != "" {
		t.Errorf("lastAppliedCommit %q after a failed apply", gs.Status.LastAppliedCommit)
	}
	// The next sync of the same head applies again (the failure was not
	// remembered as applied).
	f.applies.fail = nil
	f.r.Trigger("src")
	f.reconcile(t, "src")
	wantCondition(t, f.get(t, "src"), v1alpha1.ConditionReady, metav1.ConditionTrue, reasonSucceeded)
}

// TestApplyWaitsForCRDs: Namespaces, then CRDs, then, once the CRD is
// Established, the rest.
func TestApplyWaitsForCRDs(t *testing.T) {
	var established atomic.Bool
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			u, ok := obj.(*unstructured.Unstructured)
			if !ok || u.GetKind() != "CustomResourceDefinition" {
				return c.Get(ctx, key, obj, opts...)
			}
			u.SetName(key.Name)
			status := "False"
			if established.Load() {
				status = "True"
			}
			return unstructured.SetNestedSlice(u.Object, []any{map[string]any{"type": "Established", "status": status}}, "status", "conditions")
		},
	}).Build()
	rec := &applyRecorder{}
	a := newApplier(c, c, 4)
	a.apply = func(ctx context.Context, obj *unstructured.Unstructured) error {
		if obj.GetKind() == "Widget" && !established.Load() {
			t.Error("a Widget was applied before its CRD was established")
		}
		if obj.GetKind() == "CustomResourceDefinition" {
			// The API server establishes the CRD a little later.
			time.AfterFunc(300*time.Millisecond, func() { established.Store(true) })
		}
		return rec.apply(ctx, obj)
	}
	b := index.NewBuilder()
	add := func(obj map[string]any) {
		if _, err := b.Add(&unstructured.Unstructured{Object: obj}, index.Origin{Source: "s"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"w1", "w2"} {
		add(map[string]any{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": map[string]any{"name": name, "namespace": "shop"}})
	}
	add(map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c", "namespace": "shop"}})
	add(map[string]any{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": map[string]any{"name": "widgets.example.com"}})
	add(map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "shop"}})
	if err := a.applyIndex(t.Context(), b.Build()); err != nil {
		t.Fatal(err)
	}
	got := rec.applied()
	if len(got) != 5 || got[0] != "Namespace shop" || got[1] != "CustomResourceDefinition.apiextensions.k8s.io widgets.example.com" {
		t.Errorf("apply order %v: want the Namespace, then the CRD, then the rest", got)
	}
}

// TestApplyCRDNeverEstablished: the wait is bounded and names the CRD.
func TestApplyCRDNeverEstablished(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(testScheme(t)).Build()
	a := newApplier(c, c, 1)
	a.timeout = 200 * time.Millisecond
	a.apply = func(context.Context, *unstructured.Unstructured) error { return nil }
	b := index.NewBuilder()
	if _, err := b.Add(&unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": map[string]any{"name": "gadgets.example.com"},
	}}, index.Origin{Source: "s"}); err != nil {
		t.Fatal(err)
	}
	err := a.applyIndex(t.Context(), b.Build())
	if err == nil || !strings.Contains(err.Error(), "gadgets.example.com is not established") {
		t.Errorf("error %v, want the CRD named as not established", err)
	}
}

func TestCheckpointMemory(t *testing.T) {
	a := provenance.Checkpoint{Commit: strings.Repeat("a", 40), Mode: provenance.ModeFull}
	b := provenance.Checkpoint{Commit: strings.Repeat("b", 40), Mode: provenance.ModeFull}
	c := provenance.Checkpoint{Commit: strings.Repeat("c", 40), Mode: provenance.ModeFull}
	tests := []struct {
		name             string
		recorded, seen   provenance.Checkpoint
		status, expected provenance.Checkpoint
	}{
		{"nothing recorded: the status", provenance.Checkpoint{}, provenance.Checkpoint{}, a, a},
		{"nothing anywhere", provenance.Checkpoint{}, provenance.Checkpoint{}, provenance.Checkpoint{}, provenance.Checkpoint{}},
		{"follower ahead of an unchanged status", b, a, a, b},
		{"follower ahead of an empty status", b, provenance.Checkpoint{}, provenance.Checkpoint{}, b},
		{"leader wrote since: the status", b, a, c, c},
		{"status cleared by an administrator", b, b, provenance.Checkpoint{}, provenance.Checkpoint{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m checkpointMemory
			if tt.recorded.Commit != "" {
				m.record(tt.recorded, tt.seen)
			}
			if got := m.choose(tt.status); got != tt.expected {
				t.Errorf("choose(%v) = %v, want %v", tt.status, got, tt.expected)
			}
		})
	}
}

func TestWithCredentials(t *testing.T) {
	const sshURL = "ssh://git@git.example.com/org/repo.git"
	tests := []struct {
		name    string
		url     string
		data    map[string]string
		check   func(t *testing.T, o provenance.FetchOptions)
		wantErr string
	}{
		{name: "https basic auth", url: "https://git.example.com/r.git", data: map[string]string{"username": "u", "password": "p", "caFile": "PEM"},
			check: func(t *testing.T, o provenance.FetchOptions) {
				if o.HTTPS == nil || o.HTTPS.Username != "u" || o.HTTPS.Password != "p" || string(o.CABundle) != "PEM" {
					t.Errorf("options %+v", o)
				}
			}},
		{name: "https token", url: "https://git.example.com/r.git", data: map[string]string{"password": "tok"},
			check: func(t *testing.T, o provenance.FetchOptions) {
				if o.HTTPS == nil || o.HTTPS.Username != "git" || o.HTTPS.Password != "tok" {
					t.Errorf("options %+v", o.HTTPS)
				}
			}},
		{name: "https user without password", url: "https://git.example.com/r.git", data: map[string]string{"username": "u"}, wantErr: `no "password"`},
		{name: "https without credentials", url: "https://git.example.com/r.git", data: map[string]string{"identity": "key"},
			check: func(t *testing.T, o provenance.FetchOptions) {
				if o.HTTPS != nil || o.SSH != nil {
					t.Errorf("credentials for another transport were used: %+v", o)
				}
			}},
		{name: "ssh key", url: sshURL, data: map[string]string{"identity": "KEY", "known_hosts": "HOSTS", "passphrase": "pw"},
			check: func(t *testing.T, o provenance.FetchOptions) {
				if o.SSH == nil || string(o.SSH.PrivateKey) != "KEY" || string(o.SSH.KnownHosts) != "HOSTS" || o.SSH.Passphrase != "pw" || o.SSH.User != "git" {
					t.Errorf("options %+v", o.SSH)
				}
			}},
		{name: "ssh without key", url: sshURL, data: map[string]string{"known_hosts": "HOSTS"}, wantErr: `no "identity"`},
		{name: "ssh without known_hosts", url: sshURL, data: map[string]string{"identity": "KEY"}, wantErr: "unknown host key"},
		{name: "bad url", url: "http://git.example.com/r.git", wantErr: "unsupported repository URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := map[string][]byte{}
			for k, v := range tt.data {
				data[k] = []byte(v)
			}
			o, err := withCredentials(provenance.FetchOptions{URL: tt.url}, data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, o)
		})
	}
}

func TestParseKinds(t *testing.T) {
	got, err := parseKinds([]string{"ConfigMap", "Deployment.apps", "Widget.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Group != "" || got[0].Kind != "ConfigMap" || got[1].Group != "apps" || got[2].Group != "example.com" || got[2].Kind != "Widget" {
		t.Errorf("parsed %v", got)
	}
	for _, bad := range []string{"", "configMap", ".apps", "Deploy-ment.apps", "Ä"} {
		if _, err := parseKinds([]string{bad}); err == nil {
			t.Errorf("parseKinds(%q) accepted", bad)
		}
	}
}

func FuzzParseKinds(f *testing.F) {
	for _, s := range []string{"ConfigMap", "Deployment.apps", "", ".", "A.", "A.b.c", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		gks, err := parseKinds([]string{s})
		if err != nil {
			return
		}
		if len(gks) != 1 || !isKindName(gks[0].Kind) {
			t.Fatalf("parseKinds(%q) = %v", s, gks)
		}
	})
}

// fakeTree is a render.Tree over a map.
type fakeTree map[string]provenance.FileKind

func (ft fakeTree) ReadFile(string, int64) ([]byte, error) { return nil, provenance.ErrNotExist }

func (ft fakeTree) Walk(prefix string, fn func(provenance.File) error) error {
	var paths []string
	for p := range ft {
		if prefix == "" || strings.HasPrefix(p, prefix+"/") {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	for _, p := range paths {
		if err := fn(provenance.File{Path: p, Kind: ft[p]}); err != nil {
			return err
		}
	}
	return nil
}

func TestDefaultPaths(t *testing.T) {
	tree := fakeTree{
		".gitgate/trust.yaml": provenance.KindFile, ".github/workflows/ci.yml": provenance.KindFile,
		"README.md": provenance.KindFile, "namespace.yaml": provenance.KindFile, "apps/a/x.yaml": provenance.KindFile,
		"policy/p.rego": provenance.KindFile, "policy/data.yaml": provenance.KindFile, "clusters/prod/y.yaml": provenance.KindFile,
		"link.yaml": provenance.KindSymlink,
	}
	got, err := defaultPaths(tree, []string{"./policy/"})
	if err != nil {
		t.Fatal(err)
	}
	// The symlink stays in: render refuses it with an error naming it,
	// rather than gitgate skipping it silently.
	want := []string{"apps", "clusters", "link.yaml", "namespace.yaml"}
	if !slices.Equal(got, want) {
		t.Errorf("defaultPaths = %v, want %v", got, want)
	}
}

func TestForEach(t *testing.T) {
	var running, peak atomic.Int32
	visited := make([]atomic.Bool, 50)
	errs := forEach(t.Context(), 50, 3, func(_ context.Context, i int) error {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		running.Add(-1)
		visited[i].Store(true)
		if i%10 == 9 {
			return errors.New(strings.Repeat("x", i))
		}
		return nil
	})
	if p := peak.Load(); p > 3 {
		t.Errorf("%d calls ran at once, want at most 3", p)
	}
	for i := range visited {
		if !visited[i].Load() {
			t.Errorf("index %d not visited", i)
		}
	}
	if len(errs) != 5 || len(errs[0].Error()) != 9 || len(errs[4].Error()) != 49 {
		t.Errorf("errors %d, want 5 in index order", len(errs))
	}
}

func TestTruncate(t *testing.T) {
	s := strings.Repeat("é", 100) // two bytes each
	got := truncate(s, 51)
	if len(got) > 51 || !strings.HasSuffix(got, " …") || !strings.HasPrefix(s, strings.TrimSuffix(got, " …")) {
		t.Errorf("truncate = %q (%d bytes)", got, len(got))
	}
	if truncate("short", 10) != "short" {
		t.Error("a short string was changed")
	}
}

func TestIntervalBounds(t *testing.T) {
	for _, tt := range []struct{ in, want time.Duration }{
		{0, defaultInterval}, {time.Millisecond, minInterval}, {5 * time.Second, 5 * time.Second},
	} {
		gs := &v1alpha1.GitSource{Spec: v1alpha1.GitSourceSpec{Interval: metav1.Duration{Duration: tt.in}}}
		if got := intervalOf(gs); got != tt.want {
			t.Errorf("intervalOf(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func reconcileRequest(name string) ctrl.Request {
	return ctrl.Request{NamespacedName: client.ObjectKey{Name: name}}
}

func lastEvent(f *fixture) string {
	var last string
	for {
		select {
		case e := <-f.events.Events:
			last = e
		default:
			return last
		}
	}
}
