package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"sync/atomic"

	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"

	"gitgate.dev/gitgate/webhook/certs"
)

// Names of the certificate files with CertFiles, as cert-manager writes
// them into a Secret volume.
const (
	certFile = "tls.crt"
	keyFile  = "tls.key"
)

// servingCerts is where the webhook's serving certificate comes from.
type servingCerts struct {
	tls *tls.Config
	// loaded reports whether a certificate is there to serve.
	loaded func() bool
	// injected reports whether the CA bundle has reached the webhook
	// configurations; nil when gitgate does not inject it.
	injected func() bool
	// run keeps the certificate current (rotation and injection, or
	// reloading the files) until ctx ends.
	run func(ctx context.Context) error
}

// newServingCerts sets up cfg.CertSource. For CertBuiltin it loads or
// creates the shared CA in its Secret and issues the first serving
// certificate, so it needs the API server and gitgate's namespace.
func newServingCerts(ctx context.Context, cfg *Config, cs kubernetes.Interface) (*servingCerts, error) {
	switch cfg.CertSource {
	case CertFiles:
		return fileCerts(cfg)
	case CertBuiltin:
		return builtinCerts(ctx, cfg, cs)
	}
	return nil, fmt.Errorf("%w: --cert-source %q", ErrInvalidConfig, cfg.CertSource)
}

// fileCerts serves tls.crt and tls.key from cfg.CertDir and reloads them
// when they change (cert-manager renews them in place); the CA bundle is
// cert-manager's cainjector's business.
func fileCerts(cfg *Config) (*servingCerts, error) {
	w, err := certwatcher.New(filepath.Join(cfg.CertDir, certFile), filepath.Join(cfg.CertDir, keyFile))
	if err != nil {
		return nil, fmt.Errorf("load the webhook certificate from %s: %w", cfg.CertDir, err)
	}
	return &servingCerts{
		tls: &tls.Config{GetCertificate: w.GetCertificate, MinVersion: tls.VersionTLS12},
		loaded: func() bool {
			c, err := w.GetCertificate(nil)
			return err == nil && c != nil
		},
		run: w.Start,
	}, nil
}

// builtinCerts makes the serving certificate with webhook/certs: the CA
// lives in the Secret cfg.CertSecret (shared by every replica), and its
// bundle is injected into the configurations named cfg.WebhookConfigName.
func builtinCerts(ctx context.Context, cfg *Config, cs kubernetes.Interface) (*servingCerts, error) {
	opts := certs.Options{
		Service:   cfg.ServiceName,
		Namespace: cfg.Namespace,
		Store:     &certs.SecretStore{Client: cs.CoreV1(), Namespace: cfg.Namespace, Name: cfg.CertSecret},
	}
	for _, h := range cfg.CertHosts {
		if ip := net.ParseIP(h); ip != nil {
			opts.IPAddresses = append(opts.IPAddresses, ip)
		} else {
			opts.DNSNames = append(opts.DNSNames, h)
		}
	}
	m, err := certs.New(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("webhook certificate (CA in secret %s/%s): %w", cfg.Namespace, cfg.CertSecret, err)
	}
	sc := &servingCerts{
		tls:    m.TLSConfig(),
		loaded: func() bool { return m.ServingCertificate() != nil },
	}
	if cfg.WebhookConfigName == "" {
		sc.run = func(ctx context.Context) error { return m.Run(ctx, nil, 0) }
		return sc, nil
	}
	var injected atomic.Bool
	inj := &certs.WebhookInjector{
		Client:     cs.AdmissionregistrationV1(),
		Validating: cfg.WebhookConfigName,
		Mutating:   cfg.WebhookConfigName,
	}
	sc.injected = injected.Load
	sc.run = func(ctx context.Context) error {
		return m.Run(ctx, certs.InjectorFunc(func(ctx context.Context, bundle []byte) error {
			if err := inj.Inject(ctx, bundle); err != nil {
				return err
			}
			injected.Store(true)
			return nil
		}), 0)
	}
	return sc, nil
}
