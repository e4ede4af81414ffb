package certs

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

var start = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

func newManager(t *testing.T, fc *clocktesting.FakeClock, store Store) *Manager {
	t.Helper()
	m, err := New(t.Context(), Options{
		Service: "gitgate-webhook", Namespace: "gitgate-system",
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		Clock: fc, Store: store,
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func bundleCerts(t *testing.T, bundle []byte) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, bundle = pem.Decode(bundle)
		if b == nil {
			return out
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
}

// verifies checks that the serving certificate chains to bundle for name
// at time at.
func verifies(leaf *x509.Certificate, bundle []byte, name string, at time.Time) error {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(bundle) {
		return errors.New("empty bundle")
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: name, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	return err
}

func TestNewCertificates(t *testing.T) {
	fc := clocktesting.NewFakeClock(start)
	m := newManager(t, fc, nil)
	leaf := m.ServingCertificate()
	cas := bundleCerts(t, m.CABundle())
	if len(cas) != 1 {
		t.Fatalf("%d CAs in the bundle, want 1", len(cas))
	}
	ca := cas[0]
	for _, name := range []string{"gitgate-webhook.gitgate-system.svc", "gitgate-webhook.gitgate-system.svc.cluster.local", "localhost", "127.0.0.1"} {
		if err := verifies(leaf, m.CABundle(), name, fc.Now()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := verifies(leaf, m.CABundle(), "other.gitgate-system.svc", fc.Now()); err == nil {
		t.Error("certificate valid for a name it should not have")
	}
	for _, c := range []*x509.Certificate{leaf, ca} {
		pub, ok := c.PublicKey.(*ecdsa.PublicKey)
		if !ok || pub.Curve != elliptic.P256() {
			t.Errorf("%s: key %T, want ECDSA P-256", c.Subject, c.PublicKey)
		}
	}
	if !ca.IsCA || !ca.MaxPathLenZero || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("CA constraints: IsCA %v MaxPathLenZero %v usage %v", ca.IsCA, ca.MaxPathLenZero, ca.KeyUsage)
	}
	if leaf.IsCA || !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("serving certificate: IsCA %v ext usage %v", leaf.IsCA, leaf.ExtKeyUsage)
	}
	if got := ca.NotAfter.Sub(start); got != DefaultCALifetime {
		t.Errorf("CA lives %s past now, want %s", got, DefaultCALifetime)
	}
	if got := leaf.NotAfter.Sub(start); got != DefaultServingLifetime {
		t.Errorf("serving certificate lives %s past now, want %s", got, DefaultServingLifetime)
	}
	if got := start.Sub(leaf.NotBefore); got != backdate {
		t.Errorf("backdated by %s, want %s", got, backdate)
	}
}

func TestServingRotation(t *testing.T) {
	fc := clocktesting.NewFakeClock(start)
	m := newManager(t, fc, nil)
	first := m.ServingCertificate()
	bundle := m.CABundle()
	due := renewAt(first)

	fc.SetTime(due.Add(-time.Second))
	changed, err := m.Rotate(t.Context())
	if err != nil || changed {
		t.Fatalf("Rotate before renewal: changed %v, %v", changed, err)
	}
	if !m.ServingCertificate().Equal(first) {
		t.Fatal("serving certificate renewed before two thirds of its life")
	}
	// Two thirds of 90 days plus the backdate: 60 days after issue.
	if want := start.Add(-backdate).Add((DefaultServingLifetime + backdate) / 3 * 2); !due.Equal(want) {
		t.Fatalf("renewal due %s, want %s", due, want)
	}

	fc.SetTime(due)
	changed, err = m.Rotate(t.Context())
	if err != nil || changed {
		t.Fatalf("Rotate at renewal: bundle changed %v, %v", changed, err)
	}
	second := m.ServingCertificate()
	if second.Equal(first) {
		t.Fatal("serving certificate not renewed at two thirds of its life")
	}
	if !bytes.Equal(bundle, m.CABundle()) {
		t.Fatal("bundle changed on a serving renewal")
	}
	if err := verifies(second, bundle, "127.0.0.1", fc.Now()); err != nil {
		t.Fatal(err)
	}
}

func TestCARotationWithOverlap(t *testing.T) {
	fc := clocktesting.NewFakeClock(start)
	m := newManager(t, fc, nil)
	oldBundle := m.CABundle()
	oldCA := bundleCerts(t, oldBundle)[0]

	// Serving renewals every 60 days keep the old CA until the CA is due.
	caDue := renewAt(oldCA)
	for now := start; now.Before(caDue); now = now.Add(30 * day) {
		fc.SetTime(now)
		if changed, err := m.Rotate(t.Context()); err != nil || changed {
			t.Fatalf("%s: changed %v, %v", now, changed, err)
		}
	}
	fc.SetTime(caDue)
	changed, err := m.Rotate(t.Context())
	if err != nil || !changed {
		t.Fatalf("Rotate at CA renewal: changed %v, %v", changed, err)
	}
	overlap := m.CABundle()
	cas := bundleCerts(t, overlap)
	if len(cas) != 2 || !cas[0].Equal(oldCA) {
		t.Fatalf("bundle during rotation holds %d CAs, want the old and the new", len(cas))
	}
	newCA := cas[1]
	// Not confirmed in the cluster yet: the old CA keeps signing, so the
	// API server (still on the old bundle) keeps trusting us.
	if err := m.ServingCertificate().CheckSignatureFrom(oldCA); err != nil {
		t.Fatal("serving certificate left the old CA before the new bundle was confirmed")
	}
	fc.Step(time.Hour)
	if _, err := m.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := m.ServingCertificate().CheckSignatureFrom(oldCA); err != nil {
		t.Fatal("unconfirmed CA started signing")
	}

	m.Confirm(overlap)
	fc.Step(DefaultPropagation - time.Second)
	if _, err := m.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := m.ServingCertificate().CheckSignatureFrom(oldCA); err != nil {
		t.Fatal("new CA signed before the propagation delay")
	}
	fc.Step(time.Second)
	if changed, err := m.Rotate(t.Context()); err != nil || changed {
		t.Fatalf("switch of signer: changed %v, %v", changed, err)
	}
	leaf := m.ServingCertificate()
	if err := leaf.CheckSignatureFrom(newCA); err != nil {
		t.Fatal("confirmed, propagated CA does not sign")
	}
	if err := verifies(leaf, overlap, "gitgate-webhook.gitgate-system.svc", fc.Now()); err != nil {
		t.Fatal(err)
	}
	if err := verifies(leaf, oldBundle, "gitgate-webhook.gitgate-system.svc", fc.Now()); err == nil {
		t.Fatal("new serving certificate verified with the old bundle alone")
	}

	// The old CA leaves the bundle when it expires, not before.
	fc.SetTime(oldCA.NotAfter.Add(-time.Second))
	if changed, err := m.Rotate(t.Context()); err != nil || changed {
		t.Fatalf("before expiry: changed %v, %v", changed, err)
	}
	fc.SetTime(oldCA.NotAfter)
	if changed, err := m.Rotate(t.Context()); err != nil || !changed {
		t.Fatalf("at expiry: changed %v, %v", changed, err)
	}
	if cas := bundleCerts(t, m.CABundle()); len(cas) != 1 || !cas[0].Equal(newCA) {
		t.Fatalf("bundle after the old CA expired: %d CAs", len(cas))
	}
}

// TestUnconfirmedCAWaitsForExpiry: without any confirmation (injection
// keeps failing) the old CA signs for as long as it lives, and a serving
// certificate never outlives its CA.
func TestUnconfirmedCAWaitsForExpiry(t *testing.T) {
	fc := clocktesting.NewFakeClock(start)
	m := newManager(t, fc, nil)
	oldCA := bundleCerts(t, m.CABundle())[0]
	for now := start; now.Before(oldCA.NotAfter); now = now.Add(10 * day) {
		fc.SetTime(now)
		if _, err := m.Rotate(t.Context()); err != nil {
			t.Fatal(err)
		}
		leaf := m.ServingCertificate()
		if leaf.CheckSignatureFrom(oldCA) != nil {
			t.Fatalf("%s: serving certificate not from the old CA", now)
		}
		if leaf.NotAfter.After(oldCA.NotAfter) {
			t.Fatalf("%s: serving certificate outlives its CA", now)
		}
	}
	fc.SetTime(oldCA.NotAfter)
	if _, err := m.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if m.ServingCertificate().CheckSignatureFrom(oldCA) == nil {
		t.Fatal("expired CA still signs")
	}
}

// TestGetCertificateServesRotation: a running TLS server serves the
// renewed certificate from the next handshake on, without a restart.
func TestGetCertificateServesRotation(t *testing.T) {
	fc := clocktesting.NewFakeClock(time.Now())
	m := newManager(t, fc, nil)
	// Not httptest's StartTLS: it sets tls.Config.Certificates, which wins
	// over GetCertificate when the client sends no SNI (an IP address).
	ln, err := tls.Listen("tcp", "127.0.0.1:0", m.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	served := func(bundle []byte) (*x509.Certificate, error) {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(bundle)
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12, Time: fc.Now})
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0], nil
	}
	first, err := served(m.CABundle())
	if err != nil {
		t.Fatal(err)
	}
	fc.Step(61 * day)
	if _, err := m.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	second, err := served(m.CABundle())
	if err != nil {
		t.Fatal(err)
	}
	if first.Equal(second) {
		t.Fatal("server kept serving the old certificate after renewal")
	}
	if !second.Equal(m.ServingCertificate()) {
		t.Fatal("server does not serve the manager's current certificate")
	}
	if second.NotBefore.Before(fc.Now().Add(-time.Hour)) {
		t.Fatal("served certificate is not the renewed one")
	}
}

func TestSyncInjectsAndConfirms(t *testing.T) {
	fc := clocktesting.NewFakeClock(start)
	m := newManager(t, fc, nil)
	var got [][]byte
	inj := InjectorFunc(func(_ context.Context, b []byte) error {
		got = append(got, b)
		return nil
	})
	if err := m.Sync(t.Context(), inj); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !bytes.Equal(got[0], m.CABundle()) {
		t.Fatalf("injected %d bundles", len(got))
	}
	// At CA renewal, Sync injects the overlap bundle; the new CA signs
	// once the propagation delay has passed after that.
	oldCA := bundleCerts(t, m.CABundle())[0]
	fc.SetTime(renewAt(oldCA))
	if err := m.Sync(t.Context(), inj); err != nil {
		t.Fatal(err)
	}
	if n := len(bundleCerts(t, got[len(got)-1])); n != 2 {
		t.Fatalf("injected bundle holds %d CAs at rotation", n)
	}
	fc.Step(DefaultPropagation)
	if err := m.Sync(t.Context(), inj); err != nil {
		t.Fatal(err)
	}
	if m.ServingCertificate().CheckSignatureFrom(oldCA) == nil {
		t.Fatal("new CA not signing after injection and propagation")
	}

	failing := InjectorFunc(func(context.Context, []byte) error { return errors.New("forbidden") })
	if err := m.Sync(t.Context(), failing); err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("Sync with a failing injector: %v", err)
	}
}

// TestFailedInjectionDoesNotConfirm: a new CA whose bundle never reached
// the cluster must not sign.
func TestFailedInjectionDoesNotConfirm(t *testing.T) {
	fc := clocktesting.NewFakeClock(start)
	m := newManager(t, fc, nil)
	oldCA := bundleCerts(t, m.CABundle())[0]
	fc.SetTime(renewAt(oldCA))
	failing := InjectorFunc(func(context.Context, []byte) error { return errors.New("unavailable") })
	for range 5 {
		_ = m.Sync(t.Context(), failing)
		fc.Step(DefaultPropagation)
	}
	if m.ServingCertificate().CheckSignatureFrom(oldCA) != nil {
		t.Fatal("CA signs although its bundle was never injected")
	}
}

func TestRunLoop(t *testing.T) {
	fc := clocktesting.NewFakeClock(start)
	m := newManager(t, fc, nil)
	var mu sync.Mutex
	calls := 0
	injected := make(chan []byte, 16)
	inj := InjectorFunc(func(_ context.Context, b []byte) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls <= 2 {
			return errors.New("configuration not found")
		}
		injected <- b
		return nil
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, inj, time.Minute) }()

	// Two failures: retried after 1 s, then after 2 s.
	waitAndStep(t, fc, time.Second)
	waitAndStep(t, fc, 2*time.Second)
	select {
	case b := <-injected:
		if !bytes.Equal(b, m.CABundle()) {
			t.Fatal("injected a bundle that is not the manager's")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no injection after two retries")
	}
	// Then every interval.
	waitAndStep(t, fc, time.Minute)
	select {
	case <-injected:
	case <-time.After(10 * time.Second):
		t.Fatal("no injection after an interval")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v after cancel", err)
	}
}

// waitAndStep waits until Run waits on the fake clock, then advances it.
func waitAndStep(t *testing.T, fc *clocktesting.FakeClock, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !fc.HasWaiters() {
		if time.Now().After(deadline) {
			t.Fatal("Run never waited on the clock")
		}
		time.Sleep(time.Millisecond)
	}
	fc.Step(d)
}

func TestInvalidOptions(t *testing.T) {
	cases := []struct {
		name string
		opts Options
		want string
	}{
		{"no names", Options{}, "no service, DNS name or IP"},
		{"service without namespace", Options{Service: "gitgate"}, "go together"},
		{"bad DNS name", Options{DNSNames: []string{"Not A Name"}}, "DNS name"},
		{"short CA", Options{DNSNames: []string{"x"}, CALifetime: time.Minute}, "CA lifetime"},
		{"serving beyond CA", Options{DNSNames: []string{"x"}, CALifetime: 2 * time.Hour, ServingLifetime: 3 * time.Hour}, "serving lifetime"},
		{"negative propagation", Options{DNSNames: []string{"x"}, Propagation: -time.Second}, "propagation"},
		{"long propagation", Options{DNSNames: []string{"x"}, CALifetime: 6 * time.Hour, ServingLifetime: time.Hour, Propagation: 2 * time.Hour}, "propagation"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(t.Context(), tc.opts)
			if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrInvalidOptions mentioning %q", err, tc.want)
			}
		})
	}
}

func TestGetCertificateBeforeStart(t *testing.T) {
	var m Manager
	if _, err := m.GetCertificate(nil); err == nil {
		t.Fatal("zero Manager served a certificate")
	}
	if m.CABundle() != nil || m.ServingCertificate() != nil {
		t.Fatal("zero Manager has a bundle")
	}
}
