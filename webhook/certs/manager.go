package certs

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/clock"
)

// Defaults of Options.
const (
	DefaultCALifetime      = 365 * 24 * time.Hour
	DefaultServingLifetime = 90 * 24 * time.Hour
	// DefaultPropagation is how long a new CA waits, after the bundle that
	// holds it was injected, before it signs: the API server picks up a
	// changed webhook configuration through a watch within seconds.
	DefaultPropagation = time.Minute
	// DefaultInterval is how often Run checks rotation and re-injects the
	// bundle.
	DefaultInterval = time.Minute
)

// caName is the common name of gitgate's CAs (a timestamp is appended).
const caName = "gitgate-webhook-ca"

// Options configure a Manager.
type Options struct {
	// Service and Namespace name the webhook Service; the serving
	// certificate is made for <Service>.<Namespace>.svc and
	// <Service>.<Namespace>.svc.cluster.local. Both or neither are set.
	Service   string
	Namespace string
	// DNSNames and IPAddresses are further names of the serving
	// certificate (127.0.0.1 when the API server calls a URL in tests).
	DNSNames    []string
	IPAddresses []net.IP
	// CALifetime, ServingLifetime and Propagation default to
	// DefaultCALifetime, DefaultServingLifetime and DefaultPropagation.
	CALifetime      time.Duration
	ServingLifetime time.Duration
	Propagation     time.Duration
	// Clock is the real clock when nil.
	Clock clock.WithTicker
	// Store shares the CAs between replicas; nil keeps them in memory.
	Store Store
}

// Manager holds the CAs and the serving certificate and rotates them. Its
// methods are safe for concurrent use; GetCertificate takes no lock.
type Manager struct {
	clock       clock.WithTicker
	store       Store
	dnsNames    []string
	ips         []net.IP
	caLife      time.Duration
	servingLife time.Duration
	propagation time.Duration

	mu sync.Mutex
	// cas are the valid CAs, oldest first; all of them are in the bundle.
	cas []*authority
	// version is the Store's version of cas; needSave is set when the
	// Store does not hold them yet.
	version  string
	needSave bool
	// confirmed records, by CA certificate, when a bundle holding it was
	// first confirmed in the cluster (see Confirm).
	confirmed map[string]time.Time
	// servingCA is the CA that signed the current serving certificate.
	servingCA *x509.Certificate

	serving atomic.Pointer[tls.Certificate]
	bundle  atomic.Pointer[[]byte]
}

// ErrInvalidOptions is wrapped by errors about Options.
var ErrInvalidOptions = errors.New("invalid certificate options")

// New checks the options, loads the CAs from the Store or makes one, and
// issues the first serving certificate.
func New(ctx context.Context, opts Options) (*Manager, error) {
	m := &Manager{
		clock:       opts.Clock,
		store:       opts.Store,
		ips:         slices.Clone(opts.IPAddresses),
		caLife:      cmp.Or(opts.CALifetime, DefaultCALifetime),
		servingLife: cmp.Or(opts.ServingLifetime, DefaultServingLifetime),
		propagation: cmp.Or(opts.Propagation, DefaultPropagation),
		confirmed:   map[string]time.Time{},
	}
	if m.clock == nil {
		m.clock = clock.RealClock{}
	}
	var err error
	if m.dnsNames, err = dnsNames(opts); err != nil {
		return nil, err
	}
	switch {
	case len(m.dnsNames) == 0 && len(m.ips) == 0:
		return nil, fmt.Errorf("%w: no service, DNS name or IP address for the serving certificate", ErrInvalidOptions)
	case m.caLife < time.Hour:
		return nil, fmt.Errorf("%w: CA lifetime %s is shorter than an hour", ErrInvalidOptions, m.caLife)
	case m.servingLife < time.Minute || m.servingLife > m.caLife:
		return nil, fmt.Errorf("%w: serving lifetime %s must be between a minute and the CA lifetime %s", ErrInvalidOptions, m.servingLife, m.caLife)
	case m.propagation < 0 || m.propagation > m.caLife/6:
		return nil, fmt.Errorf("%w: propagation %s must be between 0 and a sixth of the CA lifetime", ErrInvalidOptions, m.propagation)
	}
	if _, err := m.Rotate(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

func dnsNames(opts Options) ([]string, error) {
	var names []string
	switch {
	case opts.Service != "" && opts.Namespace != "":
		base := opts.Service + "." + opts.Namespace + ".svc"
		names = append(names, base, base+".cluster.local")
	case opts.Service != "" || opts.Namespace != "":
		return nil, fmt.Errorf("%w: service and namespace go together", ErrInvalidOptions)
	}
	names = append(names, opts.DNSNames...)
	for _, n := range names {
		if errs := validation.IsDNS1123Subdomain(n); len(errs) > 0 {
			return nil, fmt.Errorf("%w: DNS name %q: %s", ErrInvalidOptions, n, strings.Join(errs, "; "))
		}
	}
	return slices.Compact(names), nil
}

// GetCertificate returns the current serving certificate; set it as
// tls.Config.GetCertificate.
func (m *Manager) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c := m.serving.Load()
	if c == nil {
		return nil, errors.New("no serving certificate yet")
	}
	return c, nil
}

// TLSConfig returns a server configuration that serves the current
// certificate. Do not add Certificates to it: Go prefers them over
// GetCertificate for a client that sends no server name, and the API server
// sends none when the webhook URL names an IP address.
func (m *Manager) TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: m.GetCertificate}
}

// ServingCertificate returns the current serving certificate's leaf.
func (m *Manager) ServingCertificate() *x509.Certificate {
	if c := m.serving.Load(); c != nil {
		return c.Leaf
	}
	return nil
}

// CABundle returns the PEM bundle of every valid CA, for the webhook
// configurations' caBundle.
func (m *Manager) CABundle() []byte {
	if b := m.bundle.Load(); b != nil {
		return slices.Clone(*b)
	}
	return nil
}

// Rotate brings the CAs and the serving certificate up to date at the
// clock's current time: it drops expired CAs, adds a new CA when the newest
// is two thirds through its life, switches signing to a newer CA once it is
// confirmed and propagated, and renews the serving certificate when due.
// It reports whether the bundle changed.
func (m *Manager) Rotate(ctx context.Context) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	before := m.bundle.Load()
	if err := m.updateAuthorities(ctx, now); err != nil {
		return false, err
	}
	if err := m.updateServing(now); err != nil {
		return false, err
	}
	bundle := encodeCerts(m.cas)
	m.bundle.Store(&bundle)
	return before == nil || !bytes.Equal(*before, bundle), nil
}

// conflictAttempts bounds how often Rotate re-reads a Store that other
// replicas keep changing.
const conflictAttempts = 3

func (m *Manager) updateAuthorities(ctx context.Context, now time.Time) error {
	for range conflictAttempts {
		if err := m.load(ctx); err != nil {
			return err
		}
		next, changed, err := m.plan(now)
		if err != nil || !changed {
			return err
		}
		err = m.save(ctx, next)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		m.cas = next
		return nil
	}
	return fmt.Errorf("ca store: %w %d times in a row", ErrConflict, conflictAttempts)
}

// load adopts the Store's CAs when they changed since the last load.
func (m *Manager) load(ctx context.Context) error {
	if m.store == nil {
		return nil
	}
	stored, version, err := m.store.Load(ctx)
	if err != nil {
		return fmt.Errorf("load CAs: %w", err)
	}
	if len(stored.Certs) == 0 && len(stored.Keys) == 0 {
		// Nothing stored yet: keep ours (if any) and write them.
		m.version, m.needSave = version, true
		return nil
	}
	if version == m.version && !m.needSave {
		return nil
	}
	cas, err := parseAuthorities(stored.Certs, stored.Keys)
	if err != nil {
		return fmt.Errorf("load CAs: %w", err)
	}
	sortAuthorities(cas)
	m.cas, m.version, m.needSave = cas, version, false
	return nil
}

func sortAuthorities(cas []*authority) {
	slices.SortStableFunc(cas, func(a, b *authority) int { return a.cert.NotBefore.Compare(b.cert.NotBefore) })
}

// plan returns the CAs as they should be at now, and whether that differs
// from what the Store (or memory) holds.
func (m *Manager) plan(now time.Time) ([]*authority, bool, error) {
	next := slices.DeleteFunc(slices.Clone(m.cas), func(a *authority) bool { return !now.Before(a.cert.NotAfter) })
	changed := len(next) != len(m.cas) || m.needSave
	if len(next) == 0 || !now.Before(renewAt(next[len(next)-1].cert)) {
		ca, err := newAuthority(now, m.caLife, caName)
		if err != nil {
			return nil, false, err
		}
		next = append(next, ca)
		changed = true
	}
	return next, changed, nil
}

func (m *Manager) save(ctx context.Context, cas []*authority) error {
	if m.store == nil {
		return nil
	}
	keys, err := encodeKeys(cas)
	if err != nil {
		return err
	}
	version, err := m.store.Save(ctx, StoredCA{Certs: encodeCerts(cas), Keys: keys}, m.version)
	if err != nil {
		return fmt.Errorf("save CAs: %w", err)
	}
	m.version, m.needSave = version, false
	return nil
}

// signer picks the CA that signs: the newest one that is confirmed in the
// cluster for at least the propagation delay, else the oldest valid one,
// which every bundle since its creation has held.
func (m *Manager) signer(now time.Time) *authority {
	s := m.cas[0]
	for _, a := range m.cas[1:] {
		if t, ok := m.confirmed[string(a.cert.Raw)]; ok && !now.Before(t.Add(m.propagation)) {
			s = a
		}
	}
	return s
}

func (m *Manager) updateServing(now time.Time) error {
	ca := m.signer(now)
	cur := m.serving.Load()
	if cur != nil && m.servingCA != nil && bytes.Equal(m.servingCA.Raw, ca.cert.Raw) &&
		now.Before(renewAt(cur.Leaf)) {
		return nil
	}
	c, err := ca.issue(now, m.servingLife, m.dnsNames, m.ips)
	if err != nil {
		return err
	}
	m.serving.Store(c)
	m.servingCA = ca.cert
	return nil
}

// Confirm records that bundle (PEM, as CABundle returned it) is now in the
// webhook configurations. A CA that Confirm has seen starts signing after
// the propagation delay; until then the older CA signs. Sync calls it after
// a successful injection; call it yourself when you put the bundle in place
// another way.
func (m *Manager) Confirm(bundle []byte) {
	var raws [][]byte
	for {
		var b *pem.Block
		b, bundle = pem.Decode(bundle)
		if b == nil {
			break
		}
		raws = append(raws, b.Bytes)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	present := map[string]bool{}
	for _, a := range m.cas {
		k := string(a.cert.Raw)
		present[k] = true
		if _, ok := m.confirmed[k]; !ok && slices.ContainsFunc(raws, func(r []byte) bool { return bytes.Equal(r, a.cert.Raw) }) {
			m.confirmed[k] = now
		}
	}
	for k := range m.confirmed {
		if !present[k] {
			delete(m.confirmed, k)
		}
	}
}

// Sync does one round of Run: Rotate, then inject the bundle with inj
// (when not nil) and Confirm it.
func (m *Manager) Sync(ctx context.Context, inj Injector) error {
	if _, err := m.Rotate(ctx); err != nil {
		return err
	}
	if inj == nil {
		return nil
	}
	bundle := m.CABundle()
	if err := inj.Inject(ctx, bundle); err != nil {
		return fmt.Errorf("inject CA bundle: %w", err)
	}
	m.Confirm(bundle)
	return nil
}

// Run calls Sync every interval (DefaultInterval when zero) until ctx is
// done, and returns nil then. A failed Sync is logged through the logger in
// ctx and retried sooner: after a second, doubling up to the interval.
func (m *Manager) Run(ctx context.Context, inj Injector, interval time.Duration) error {
	interval = cmp.Or(interval, DefaultInterval)
	log := logr.FromContextOrDiscard(ctx).WithName("certs")
	retry := time.Second
	for {
		delay := interval
		// A Sync cut short by shutdown is no failure: the select below
		// returns.
		if err := m.Sync(ctx, inj); err == nil {
			retry = time.Second
		} else if ctx.Err() == nil {
			log.Error(err, "certificate rotation or CA bundle injection failed", "retryIn", retry.String())
			delay = min(retry, interval)
			retry = min(2*retry, interval)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-m.clock.After(delay):
		}
	}
}
