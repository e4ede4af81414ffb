package certs

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"
)

// memStore is a Store in memory with versions, like a Secret.
type memStore struct {
	mu      sync.Mutex
	data    StoredCA
	version int
	saves   int
	// beforeSave runs before a save is checked, to let another writer in.
	beforeSave func()
}

func (s *memStore) Load(context.Context) (StoredCA, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.version == 0 {
		return StoredCA{}, "", nil
	}
	return s.data, strconv.Itoa(s.version), nil
}

func (s *memStore) Save(_ context.Context, ca StoredCA, version string) (string, error) {
	if f := s.beforeSave; f != nil {
		s.beforeSave = nil
		f()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := ""
	if s.version > 0 {
		cur = strconv.Itoa(s.version)
	}
	if version != cur {
		return "", ErrConflict
	}
	s.data, s.saves = ca, s.saves+1
	s.version++
	return strconv.Itoa(s.version), nil
}

func TestReplicasShareTheCA(t *testing.T) {
	fc := clocktesting.NewFakeClock(start)
	store := &memStore{}
	a := newManager(t, fc, store)
	b := newManager(t, fc, store)
	if !bytes.Equal(a.CABundle(), b.CABundle()) {
		t.Fatal("replicas with one store have different bundles")
	}
	if a.ServingCertificate().Equal(b.ServingCertificate()) {
		t.Fatal("replicas share a serving certificate; each should sign its own")
	}
	for _, m := range []*Manager{a, b} {
		if err := verifies(m.ServingCertificate(), a.CABundle(), "127.0.0.1", fc.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if store.saves != 1 {
		t.Fatalf("%d saves, want 1 (the first replica's)", store.saves)
	}

	// Replica a rotates the CA; b adopts the overlap bundle on its next
	// round instead of making a CA of its own.
	fc.SetTime(renewAt(bundleCerts(t, a.CABundle())[0]))
	if changed, err := a.Rotate(t.Context()); err != nil || !changed {
		t.Fatalf("a: changed %v, %v", changed, err)
	}
	if changed, err := b.Rotate(t.Context()); err != nil || !changed {
		t.Fatalf("b: changed %v, %v", changed, err)
	}
	if !bytes.Equal(a.CABundle(), b.CABundle()) || len(bundleCerts(t, b.CABundle())) != 2 {
		t.Fatal("replicas disagree on the bundle after rotation")
	}
	if store.saves != 2 {
		t.Fatalf("%d saves, want 2", store.saves)
	}
	// Whatever CA each one signs with, the shared bundle trusts it.
	a.Confirm(a.CABundle())
	fc.Step(DefaultPropagation)
	for _, m := range []*Manager{a, b} {
		if _, err := m.Rotate(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := verifies(m.ServingCertificate(), a.CABundle(), "127.0.0.1", fc.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStoreRaceAdoptsWinner(t *testing.T) {
	fc := clocktesting.NewFakeClock(start)
	store := &memStore{}
	var winner *Manager
	// Another replica creates the record between our load and our save.
	store.beforeSave = func() { winner = newManager(t, fc, store) }
	loser := newManager(t, fc, store)
	if !bytes.Equal(winner.CABundle(), loser.CABundle()) {
		t.Fatal("the replica that lost the race kept its own CA")
	}
	if store.saves != 1 {
		t.Fatalf("%d saves, want 1", store.saves)
	}
}

// TestStoreEmptiedKeepsCA: a record that lost its data (a Secret re-created
// empty by a chart upgrade) gets the running CA back, not a new one that
// the cluster does not trust yet.
func TestStoreEmptiedKeepsCA(t *testing.T) {
	fc := clocktesting.NewFakeClock(start)
	store := &memStore{}
	m := newManager(t, fc, store)
	bundle := m.CABundle()
	store.mu.Lock()
	store.data = StoredCA{}
	store.mu.Unlock()
	if changed, err := m.Rotate(t.Context()); err != nil || changed {
		t.Fatalf("changed %v, %v", changed, err)
	}
	if !bytes.Equal(store.data.Certs, bundle) {
		t.Fatal("the CA was not written back")
	}
}

func TestStoreErrors(t *testing.T) {
	fc := clocktesting.NewFakeClock(start)
	bad := &memStore{data: StoredCA{Certs: []byte("garbage"), Keys: []byte("garbage")}, version: 1}
	if _, err := New(t.Context(), Options{DNSNames: []string{"x"}, Clock: fc, Store: bad}); !errors.Is(err, ErrMalformedStore) {
		t.Fatalf("malformed store: %v", err)
	}
	busy := &conflictStore{}
	if _, err := New(t.Context(), Options{DNSNames: []string{"x"}, Clock: fc, Store: busy}); !errors.Is(err, ErrConflict) {
		t.Fatalf("store always in conflict: %v", err)
	}
}

type conflictStore struct{}

func (conflictStore) Load(context.Context) (StoredCA, string, error) { return StoredCA{}, "", nil }
func (conflictStore) Save(context.Context, StoredCA, string) (string, error) {
	return "", ErrConflict
}

// versioned makes the fake clientset set resourceVersions on writes, as
// the API server does (its object tracker leaves them alone).
func versioned(client *fake.Clientset) *fake.Clientset {
	rv := 100
	bump := func(a clienttesting.Action) (bool, runtime.Object, error) {
		w, ok := a.(interface{ GetObject() runtime.Object })
		if !ok {
			return false, nil, nil
		}
		if sec, ok := w.GetObject().(*corev1.Secret); ok {
			rv++
			sec.ResourceVersion = strconv.Itoa(rv)
		}
		return false, nil, nil
	}
	client.PrependReactor("create", "secrets", bump)
	client.PrependReactor("update", "secrets", bump)
	return client
}

func TestSecretStore(t *testing.T) {
	ctx := t.Context()
	client := versioned(fake.NewClientset())
	s := &SecretStore{Client: client.CoreV1(), Namespace: "gitgate-system", Name: "gitgate-webhook-ca"}
	data, version, err := s.Load(ctx)
	if err != nil || version != "" || len(data.Certs) != 0 {
		t.Fatalf("missing secret: %v %q %v", data, version, err)
	}
	v1, err := s.Save(ctx, StoredCA{Certs: []byte("c1"), Keys: []byte("k1")}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save(ctx, StoredCA{Certs: []byte("c2"), Keys: []byte("k2")}, ""); !errors.Is(err, ErrConflict) {
		t.Fatalf("second create: %v", err)
	}
	data, version, err = s.Load(ctx)
	if err != nil || version != v1 || string(data.Certs) != "c1" || string(data.Keys) != "k1" {
		t.Fatalf("load: %q %q %q %v", data.Certs, data.Keys, version, err)
	}
	sec, err := client.CoreV1().Secrets("gitgate-system").Get(ctx, "gitgate-webhook-ca", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sec.Type != corev1.SecretTypeOpaque || sec.Labels["app.kubernetes.io/name"] != "gitgate" {
		t.Fatalf("secret %+v", sec.ObjectMeta)
	}
	if _, err := s.Save(ctx, StoredCA{Certs: []byte("c3")}, "stale"); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale version: %v", err)
	}
	if _, err := s.Save(ctx, StoredCA{Certs: []byte("c4"), Keys: []byte("k4")}, v1); err != nil {
		t.Fatal(err)
	}
	if data, _, _ := s.Load(ctx); string(data.Certs) != "c4" {
		t.Fatalf("after update: %q", data.Certs)
	}
	if err := client.CoreV1().Secrets("gitgate-system").Delete(ctx, "gitgate-webhook-ca", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save(ctx, StoredCA{}, v1); !errors.Is(err, ErrConflict) {
		t.Fatalf("deleted secret: %v", err)
	}

	// An update that loses to another writer is a conflict too.
	client.PrependReactor("update", "secrets", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "secrets"}, "gitgate-webhook-ca", errors.New("changed"))
	})
	v, err := s.Save(ctx, StoredCA{Certs: []byte("c5")}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save(ctx, StoredCA{Certs: []byte("c6")}, v); !errors.Is(err, ErrConflict) {
		t.Fatalf("update conflict: %v", err)
	}
	client.PrependReactor("get", "secrets", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "gitgate-webhook-ca", errors.New("rbac"))
	})
	if _, _, err := s.Load(ctx); err == nil || errors.Is(err, ErrConflict) {
		t.Fatalf("forbidden load: %v", err)
	}
}

// TestSecretStoreWithManager runs two replicas against one Secret, the
// second finding a Secret that a chart created empty.
func TestSecretStoreWithManager(t *testing.T) {
	client := versioned(fake.NewClientset(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ca", Namespace: "gitgate-system", ResourceVersion: "7"}}))
	fc := clocktesting.NewFakeClock(start)
	store := &SecretStore{Client: client.CoreV1(), Namespace: "gitgate-system", Name: "ca"}
	a := newManager(t, fc, store)
	b := newManager(t, fc, store)
	if !bytes.Equal(a.CABundle(), b.CABundle()) {
		t.Fatal("replicas disagree on the bundle")
	}
	sec, err := client.CoreV1().Secrets("gitgate-system").Get(t.Context(), "ca", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sec.Data[SecretCertsKey], a.CABundle()) || len(sec.Data[SecretKeysKey]) == 0 {
		t.Fatal("the secret does not hold the CA")
	}
	fc.Step(time.Hour)
	if _, err := b.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
}
