package e2e

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	clocktesting "k8s.io/utils/clock/testing"

	"gitgate.dev/gitgate/test/e2e/testenv"
	"gitgate.dev/gitgate/webhook/certs"
)

// TestWebhookCertificateRotation drives webhook/certs through serving
// renewals and a CA rotation while the real API server calls the webhook:
// every step must keep the API server's TLS handshake with the webhook
// working, with the caBundle injected into the registered configurations.
//
// The API server checks validity against the real time, so the manager's
// fake clock starts in the past and is stepped up to the present: lifetimes
// are shortened (CA 3 h, serving certificate 1 h) so that the whole life of
// a CA fits between the start and now.
func TestWebhookCertificateRotation(t *testing.T) {
	now := time.Now()
	fc := clocktesting.NewFakeClock(now.Add(-2 * time.Hour))
	s := newWebhookSuite(t, e2eRepo(t), certs.Options{
		Clock: fc, CALifetime: 3 * time.Hour, ServingLifetime: time.Hour,
	})
	// The first serving certificate (made at now-2h) has expired for the
	// API server; the one renewed at now-50m is valid until now+10m.
	fc.SetTime(now.Add(-50 * time.Minute))
	s.register(t)
	s.mustReach(t, "first registration")
	firstCA := s.bundleCerts(t)[0]

	// A serving renewal (due two thirds into its hour) under the same CA:
	// the bundle stays, the served certificate changes, no restart.
	for _, at := range []time.Duration{-10 * time.Minute} {
		before := s.certs.ServingCertificate()
		fc.SetTime(now.Add(at))
		s.inject(t)
		after := s.certs.ServingCertificate()
		if after.Equal(before) {
			t.Fatalf("at now%s: serving certificate not renewed", at)
		}
		if got := s.served(t); !got.Equal(after) {
			t.Fatalf("at now%s: the server does not serve the renewed certificate", at)
		}
		s.mustReach(t, "after a serving renewal")
	}

	// The CA is due (two thirds of 3 h after the start): the new CA joins
	// the bundle in both configurations; the old one still signs.
	fc.SetTime(now)
	s.inject(t)
	cas := s.bundleCerts(t)
	if len(cas) != 2 || !cas[0].Equal(firstCA) {
		t.Fatalf("bundle during CA rotation holds %d CAs, want the old and the new", len(cas))
	}
	newCA := cas[1]
	if err := s.served(t).CheckSignatureFrom(firstCA); err != nil {
		t.Fatal("the new CA signed before its bundle was confirmed and propagated")
	}
	s.mustReach(t, "with the overlap bundle")

	// After the propagation delay the new CA signs; the API server trusts
	// it through the bundle it already has.
	fc.Step(certs.DefaultPropagation)
	s.inject(t)
	if err := s.served(t).CheckSignatureFrom(newCA); err != nil {
		t.Fatal("the new CA does not sign after confirmation and propagation")
	}
	s.mustReach(t, "serving from the new CA")

	// A configuration re-applied without its caBundle (a chart upgrade)
	// breaks the calls until the next round of the manager repairs it.
	api := s.client.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	v, err := api.Get(t.Context(), configName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range v.Webhooks {
		v.Webhooks[i].ClientConfig.CABundle = nil
	}
	if _, err := api.Update(t.Context(), v, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = poll(t.Context(), 30*time.Second, func() (bool, error) {
		err := s.probeNamespace(t)()
		return err != nil && strings.Contains(err.Error(), "failed calling webhook"), nil
	})
	if err != nil {
		t.Fatalf("the API server kept calling the webhook without a caBundle: %v", err)
	}
	s.inject(t)
	s.mustReach(t, "after the manager repaired the caBundle")
}

// mustReach waits until the API server calls both webhooks over TLS, and
// then checks that a call succeeds outright.
func (s *webhookSuite) mustReach(t *testing.T, when string) {
	t.Helper()
	s.waitCalled(t, "a Namespace create "+when, s.probeNamespace(t), func(c admissionCall) bool {
		return c.Resource.Resource == "namespaces" && c.Name == "gg-probe"
	})
	if err := s.probeNamespace(t)(); err != nil {
		t.Fatalf("%s: %v", when, err)
	}
}

// bundleCerts returns the CAs of the caBundle the API server holds, after
// checking that every webhook of both configurations holds the manager's.
func (s *webhookSuite) bundleCerts(t *testing.T) []*x509.Certificate {
	t.Helper()
	v, m := s.registeredConfigurations(t)
	want := s.certs.CABundle()
	for _, w := range v.Webhooks {
		if !bytes.Equal(w.ClientConfig.CABundle, want) {
			t.Fatalf("%s: caBundle is not the manager's", w.Name)
		}
	}
	for _, w := range m.Webhooks {
		if !bytes.Equal(w.ClientConfig.CABundle, want) {
			t.Fatalf("%s: caBundle is not the manager's", w.Name)
		}
	}
	var out []*x509.Certificate
	for rest := want; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
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

// served returns the certificate the server presents to a client that
// sends no SNI, as the API server calling https://127.0.0.1 does.
func (s *webhookSuite) served(t *testing.T) *x509.Certificate {
	t.Helper()
	s.mu.Lock()
	addr := s.addr
	s.mu.Unlock()
	d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}} //nolint:gosec // only reads the certificate
	conn, err := d.DialContext(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.(*tls.Conn).ConnectionState().PeerCertificates[0]
}

// TestWebhookCertificateSecret runs two replicas' certificate managers on
// one Secret of the real API server: the second adopts the CA the first
// created, each serves its own certificate, and one bundle trusts both.
func TestWebhookCertificateSecret(t *testing.T) {
	env := testenv.Require(t)
	client, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "gg-certs-"}}
	if ns, err = client.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	store := &certs.SecretStore{Client: client.CoreV1(), Namespace: ns.Name, Name: "gitgate-webhook-ca"}
	opts := certs.Options{Service: "gitgate-webhook", Namespace: ns.Name, Store: store}
	a, err := certs.New(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := certs.New(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.CABundle(), b.CABundle()) {
		t.Fatal("replicas sharing a Secret have different bundles")
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(a.CABundle())
	for _, m := range []*certs.Manager{a, b} {
		_, err := m.ServingCertificate().Verify(x509.VerifyOptions{Roots: pool, DNSName: "gitgate-webhook." + ns.Name + ".svc"})
		if err != nil {
			t.Fatal(err)
		}
	}
	if a.ServingCertificate().Equal(b.ServingCertificate()) {
		t.Fatal("replicas share one serving certificate")
	}
	sec, err := client.CoreV1().Secrets(ns.Name).Get(t.Context(), "gitgate-webhook-ca", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sec.Data[certs.SecretCertsKey], a.CABundle()) || len(sec.Data[certs.SecretKeysKey]) == 0 {
		t.Fatal("the Secret does not hold the CA")
	}
}
