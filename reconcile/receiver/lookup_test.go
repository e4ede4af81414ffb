package receiver

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"gitgate.dev/gitgate/api/v1alpha1"
)

const testNamespace = "gitgate-system"

func newFakeClient(tb testing.TB, objs ...client.Object) client.Client {
	tb.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		tb.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		tb.Fatal(err)
	}
	return fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).Build()
}

func gitSource(name string, recv *v1alpha1.ReceiverSpec) *v1alpha1.GitSource {
	return &v1alpha1.GitSource{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.GitSourceSpec{
			URL:       "https://git.example.com/platform/" + name + ".git",
			TrustRoot: "4f7c1e0b9a8d6c5e4f3a2b1c0d9e8f7a6b5c4d3e",
			Receiver:  recv,
		},
	}
}

func hookSecret(ns, name string, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}
}

func receiverOf(kind, secret string) *v1alpha1.ReceiverSpec {
	return &v1alpha1.ReceiverSpec{Type: kind, SecretRef: v1alpha1.LocalObjectReference{Name: secret}}
}

func TestSecretLookup(t *testing.T) {
	c := newFakeClient(t,
		gitSource("web", receiverOf("github", "web-hook")),
		gitSource("lab", receiverOf("gitlab", "lab-hook")),
		gitSource("gen", receiverOf("generic", "gen-hook")),
		gitSource("plain", nil),
		gitSource("nosecret", receiverOf("github", "missing")),
		gitSource("elsewhere", receiverOf("github", "other-ns-hook")),
		gitSource("notoken", receiverOf("github", "notoken-hook")),
		gitSource("emptytoken", receiverOf("github", "emptytoken-hook")),
		gitSource("newline", receiverOf("gitlab", "newline-hook")),
		gitSource("crlf", receiverOf("generic", "crlf-hook")),
		gitSource("odd", receiverOf("bitbucket", "web-hook")),
		hookSecret(testNamespace, "web-hook", map[string][]byte{TokenKey: []byte("web-secret"), "other": []byte("x")}),
		hookSecret(testNamespace, "lab-hook", map[string][]byte{TokenKey: []byte("lab-token")}),
		hookSecret(testNamespace, "gen-hook", map[string][]byte{TokenKey: []byte("gen-secret")}),
		hookSecret("default", "other-ns-hook", map[string][]byte{TokenKey: []byte("not ours")}),
		hookSecret(testNamespace, "notoken-hook", map[string][]byte{"password": []byte("x")}),
		hookSecret(testNamespace, "emptytoken-hook", map[string][]byte{TokenKey: []byte("\n")}),
		hookSecret(testNamespace, "newline-hook", map[string][]byte{TokenKey: []byte("lab-token\n")}),
		hookSecret(testNamespace, "crlf-hook", map[string][]byte{TokenKey: []byte("gen-secret\r\n")}),
	)
	lookup := SecretLookup(c, testNamespace)
	cases := []struct {
		name     string
		want     Config
		notFound bool
		err      string
	}{
		{name: "web", want: Config{Kind: GitHub, Secret: []byte("web-secret")}},
		{name: "lab", want: Config{Kind: GitLab, Secret: []byte("lab-token")}},
		{name: "gen", want: Config{Kind: Generic, Secret: []byte("gen-secret")}},
		{name: "newline", want: Config{Kind: GitLab, Secret: []byte("lab-token")}},
		{name: "crlf", want: Config{Kind: Generic, Secret: []byte("gen-secret")}},
		{name: "nope", notFound: true, err: "gitsource nope does not exist"},
		{name: "plain", notFound: true, err: "gitsource plain has no receiver"},
		{name: "nosecret", err: "receiver secret gitgate-system/missing"},
		{name: "elsewhere", err: "receiver secret gitgate-system/other-ns-hook"},
		{name: "notoken", err: `has no "token"`},
		{name: "emptytoken", err: `has no "token"`},
		{name: "odd", err: `unknown receiver type "bitbucket"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := lookup(t.Context(), tc.name)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got.Kind != tc.want.Kind || string(got.Secret) != string(tc.want.Secret) {
					t.Fatalf("got %s %q, want %s %q", got.Kind, got.Secret, tc.want.Kind, tc.want.Secret)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.err)
			}
			if errors.Is(err, ErrNotFound) != tc.notFound {
				t.Fatalf("errors.Is(%v, ErrNotFound) = %v, want %v", err, !tc.notFound, tc.notFound)
			}
		})
	}
}

// countingReader counts Gets and can fail them.
type countingReader struct {
	client.Reader
	gets atomic.Int32
	fail atomic.Bool
}

func (r *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	r.gets.Add(1)
	if r.fail.Load() {
		return apierrors.NewServiceUnavailable("etcd is down")
	}
	return r.Reader.Get(ctx, key, obj, opts...)
}

func TestSecretLookupCache(t *testing.T) {
	ctx := t.Context()
	c := newFakeClient(t,
		gitSource("web", receiverOf("github", "web-hook")),
		hookSecret(testNamespace, "web-hook", map[string][]byte{TokenKey: []byte("first")}),
	)
	r := &countingReader{Reader: c}
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	l := &secretLookup{reader: r, namespace: testNamespace, ttl: lookupTTL, now: func() time.Time { return now }, cache: map[string]cached{}}

	secretIs := func(want string) {
		t.Helper()
		cfg, err := l.lookup(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		if string(cfg.Secret) != want {
			t.Fatalf("secret %q, want %q", cfg.Secret, want)
		}
	}
	secretIs("first")
	if n := r.gets.Load(); n != 2 {
		t.Fatalf("%d gets for the first lookup, want 2 (GitSource and Secret)", n)
	}
	// Rotate the secret: the old one holds until the TTL ends.
	s := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: testNamespace, Name: "web-hook"}, s); err != nil {
		t.Fatal(err)
	}
	s.Data[TokenKey] = []byte("second")
	if err := c.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		secretIs("first")
	}
	if n := r.gets.Load(); n != 2 {
		t.Fatalf("%d gets after 100 cached lookups, want 2", n)
	}
	now = now.Add(lookupTTL + time.Millisecond)
	secretIs("second")

	// Failures are not kept: the source works as soon as the API does.
	now = now.Add(lookupTTL + time.Millisecond)
	r.fail.Store(true)
	if _, err := l.lookup(ctx, "web"); err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("error %v while the API fails, want a lookup error that is not ErrNotFound", err)
	}
	r.fail.Store(false)
	secretIs("second")

	// Unknown names are not kept either: the map is bounded by the sources.
	for _, name := range []string{"a", "b", "c"} {
		if _, err := l.lookup(ctx, name); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if len(l.cache) != 1 {
		t.Fatalf("cache holds %d entries, want 1", len(l.cache))
	}
	if err := c.Create(ctx, gitSource("a", receiverOf("gitlab", "web-hook"))); err != nil {
		t.Fatal(err)
	}
	if cfg, err := l.lookup(ctx, "a"); err != nil || cfg.Kind != GitLab {
		t.Fatalf("new source: %v %v", cfg.Kind, err)
	}
}

// The GitSource kind must be what the scheme knows, or the fake client
// (and a real one) would not find it.
var _ = schema.GroupKind{Group: v1alpha1.GroupVersion.Group, Kind: "GitSource"}
