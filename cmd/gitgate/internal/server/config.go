package server

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// ErrInvalidConfig is wrapped by every error about a Config value.
var ErrInvalidConfig = errors.New("invalid configuration")

// CertSource says where the webhook's serving certificate comes from.
type CertSource string

// The certificate sources.
const (
	// CertBuiltin: gitgate makes a CA and a serving certificate, keeps the
	// CA in a Secret shared by the replicas, rotates both and injects the CA
	// bundle into the webhook configurations (webhook/certs).
	CertBuiltin CertSource = "builtin"
	// CertFiles: tls.crt and tls.key in Config.CertDir, written by
	// cert-manager (or anyone else), reloaded when they change.
	CertFiles CertSource = "files"
)

// Log formats.
const (
	LogJSON    = "json"
	LogConsole = "console"
)

// AuditStdout and AuditStderr are the values of Config.AuditLog that name
// the standard streams rather than a file.
const (
	AuditStdout = "-"
	AuditStderr = "stderr"
)

// Defaults of the Config fields, as the flags of `gitgate serve` show them.
const (
	DefaultNamespace         = "gitgate-system"
	DefaultServiceAccount    = "gitgate"
	DefaultWebhookAddr       = ":9443"
	DefaultMetricsAddr       = ":8080"
	DefaultReceiverAddr      = ":9292"
	DefaultCertDir           = "/tmp/gitgate/certs"
	DefaultCertSecret        = "gitgate-webhook-tls" //nolint:gosec // the Secret's name, not a credential
	DefaultWebhookConfigName = "gitgate"
	DefaultServiceName       = "gitgate"
	DefaultLeaderElectionID  = "gitgate-leader"
	DefaultCacheDir          = "/var/cache/gitgate"
	DefaultApplyConcurrency  = 8
	DefaultAdmissionTimeout  = 3 * time.Second
	DefaultShutdownTimeout   = 25 * time.Second
	DefaultLogLevel          = "info"
)

// maxAdmissionTimeout is the longest timeout the API server allows a
// webhook configuration (timeoutSeconds 1 to 30); waiting longer on one
// request could never help.
const maxAdmissionTimeout = 30 * time.Second

// Config is everything `gitgate serve` is configured with; each field is
// one of its flags. The zero value is not usable: start from DefaultConfig.
type Config struct {
	// Namespace is gitgate's own namespace: its Secrets (source
	// credentials, the webhook CA), its leader-election Lease, and a
	// namespace admission always exempts.
	Namespace string
	// ServiceAccount is the name of gitgate's service account in
	// Namespace. Its requests are exempt from admission: the reconciler
	// applies only what conforms, and it must be able to write GitSource
	// status.
	ServiceAccount string

	// WebhookAddr is where the admission webhook listens (HTTPS), on
	// every replica.
	WebhookAddr string
	// MetricsAddr serves /metrics, /healthz and /readyz over HTTP.
	MetricsAddr string
	// ReceiverAddr serves the push receiver (POST /hook/<source>) over
	// HTTP; empty disables it.
	ReceiverAddr string

	// CertSource selects the serving certificate's origin.
	CertSource CertSource
	// CertDir holds tls.crt and tls.key with CertFiles.
	CertDir string
	// CertSecret names the Secret in Namespace that holds the built-in CA.
	CertSecret string
	// CertHosts are further DNS names or IP addresses of the built-in
	// serving certificate, besides <ServiceName>.<Namespace>.svc: for a
	// webhook the API server reaches by URL.
	CertHosts []string
	// WebhookConfigName names the ValidatingWebhookConfiguration and
	// MutatingWebhookConfiguration the built-in CA bundle is injected
	// into; empty injects nothing.
	WebhookConfigName string
	// ServiceName is the webhook Service, whose DNS names the built-in
	// serving certificate carries.
	ServiceName string

	// LeaderElect turns on leader election for the applier (apply, prune,
	// status, drift revert); LeaderElectionID names its Lease.
	LeaderElect      bool
	LeaderElectionID string

	// CacheDir holds the Git clones.
	CacheDir string

	// ExemptUsers, ExemptGroups and ExemptNamespaces are never judged by
	// admission.
	ExemptUsers      []string
	ExemptGroups     []string
	ExemptNamespaces []string

	// ApplyConcurrency bounds the parallel server-side applies.
	ApplyConcurrency int
	// AdmissionTimeout bounds the work on one admission request.
	AdmissionTimeout time.Duration
	// ShutdownTimeout bounds the whole shutdown: draining admission
	// requests, then stopping the controllers.
	ShutdownTimeout time.Duration

	// AuditLog is where admission denials are written as JSON lines:
	// AuditStdout ("-"), AuditStderr, or a file appended to.
	AuditLog string

	// LogLevel (debug, info, warn, error, or a logr verbosity 0-9) and
	// LogFormat (json, console) configure NewLogger; Kubeconfig is read by
	// LoadRESTConfig. Run takes the logger and REST config as arguments and
	// ignores these three.
	LogLevel   string
	LogFormat  string
	Kubeconfig string

	// OnListen, when set, is called once every server has bound its
	// address, with the addresses bound (port 0 picks a free port): for
	// callers that run Run in-process and register the webhook by URL.
	OnListen func(Addresses) `json:"-"`
}

// Addresses are the addresses the servers of Run bound; Receiver is nil
// when the receiver is disabled.
type Addresses struct {
	Webhook  net.Addr
	Metrics  net.Addr
	Receiver net.Addr
}

// DefaultConfig returns the defaults. The namespace is the POD_NAMESPACE
// variable that getenv returns (set through the downward API), else
// DefaultNamespace.
func DefaultConfig(getenv func(string) string) Config {
	ns := DefaultNamespace
	if getenv != nil {
		if v := getenv("POD_NAMESPACE"); v != "" {
			ns = v
		}
	}
	return Config{
		Namespace:         ns,
		ServiceAccount:    DefaultServiceAccount,
		WebhookAddr:       DefaultWebhookAddr,
		MetricsAddr:       DefaultMetricsAddr,
		ReceiverAddr:      DefaultReceiverAddr,
		CertSource:        CertBuiltin,
		CertDir:           DefaultCertDir,
		CertSecret:        DefaultCertSecret,
		WebhookConfigName: DefaultWebhookConfigName,
		ServiceName:       DefaultServiceName,
		LeaderElect:       true,
		LeaderElectionID:  DefaultLeaderElectionID,
		CacheDir:          DefaultCacheDir,
		ApplyConcurrency:  DefaultApplyConcurrency,
		AdmissionTimeout:  DefaultAdmissionTimeout,
		ShutdownTimeout:   DefaultShutdownTimeout,
		AuditLog:          AuditStdout,
		LogLevel:          DefaultLogLevel,
		LogFormat:         LogJSON,
	}
}

// FieldError is one invalid Config field, named by its flag.
type FieldError struct {
	Flag   string // the flag's name, without dashes
	Value  string
	Reason string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("--%s %q: %s", e.Flag, e.Value, e.Reason)
}

// Validate checks every field and reports all problems at once (each a
// *FieldError, all wrapping ErrInvalidConfig), so that nothing starts with
// a configuration that cannot work.
func (c *Config) Validate() error {
	problems := c.Problems()
	if len(problems) == 0 {
		return nil
	}
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = p
	}
	return fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
}

// Problems returns what Validate reports, one FieldError per problem.
func (c *Config) Problems() []*FieldError {
	var errs []*FieldError
	bad := func(flag, value, why string) {
		errs = append(errs, &FieldError{Flag: flag, Value: value, Reason: why})
	}
	dnsLabel := func(flag, v string) {
		if msgs := validation.IsDNS1123Label(v); len(msgs) > 0 {
			bad(flag, v, "not a valid name: "+strings.Join(msgs, "; "))
		}
	}
	dnsSubdomain := func(flag, v string) {
		if msgs := validation.IsDNS1123Subdomain(v); len(msgs) > 0 {
			bad(flag, v, "not a valid name: "+strings.Join(msgs, "; "))
		}
	}
	addr := func(flag, v string) {
		if err := checkAddr(v); err != nil {
			bad(flag, v, err.Error())
		}
	}
	positive := func(flag string, d time.Duration) {
		if d <= 0 {
			bad(flag, d.String(), "must be greater than zero")
		}
	}

	dnsLabel("namespace", c.Namespace)
	dnsSubdomain("service-account", c.ServiceAccount)
	addr("webhook-addr", c.WebhookAddr)
	addr("metrics-addr", c.MetricsAddr)
	if c.ReceiverAddr != "" {
		addr("receiver-addr", c.ReceiverAddr)
	}
	switch c.CertSource {
	case CertBuiltin:
		dnsSubdomain("cert-secret", c.CertSecret)
		dnsLabel("service-name", c.ServiceName)
		for _, h := range c.CertHosts {
			if net.ParseIP(h) == nil && len(validation.IsDNS1123Subdomain(strings.TrimPrefix(h, "*."))) > 0 {
				bad("cert-hosts", h, "neither an IP address nor a DNS name")
			}
		}
	case CertFiles:
		if c.CertDir == "" {
			bad("cert-dir", c.CertDir, "must name the folder holding tls.crt and tls.key")
		}
	default:
		bad("cert-source", string(c.CertSource), "must be builtin or files")
	}
	if c.WebhookConfigName != "" {
		dnsSubdomain("webhook-config-name", c.WebhookConfigName)
	}
	if c.LeaderElect {
		dnsSubdomain("leader-election-id", c.LeaderElectionID)
	}
	if c.CacheDir == "" {
		bad("cache-dir", c.CacheDir, "must name a folder")
	}
	for _, ns := range c.ExemptNamespaces {
		dnsLabel("exempt-namespaces", ns)
	}
	for _, u := range c.ExemptUsers {
		if strings.TrimSpace(u) == "" {
			bad("exempt-users", u, "empty user name")
		}
	}
	for _, g := range c.ExemptGroups {
		if strings.TrimSpace(g) == "" {
			bad("exempt-groups", g, "empty group name")
		}
	}
	if c.ApplyConcurrency < 1 {
		bad("apply-concurrency", strconv.Itoa(c.ApplyConcurrency), "must be at least 1")
	}
	positive("admission-timeout", c.AdmissionTimeout)
	if c.AdmissionTimeout > maxAdmissionTimeout {
		bad("admission-timeout", c.AdmissionTimeout.String(), "must be at most 30s, the longest the API server waits for a webhook")
	}
	positive("shutdown-timeout", c.ShutdownTimeout)
	if c.ShutdownTimeout > 0 && c.AdmissionTimeout > 0 && c.ShutdownTimeout <= c.AdmissionTimeout {
		bad("shutdown-timeout", c.ShutdownTimeout.String(),
			fmt.Sprintf("must be longer than --admission-timeout (%s), so that admission requests in flight can finish", c.AdmissionTimeout))
	}
	if c.AuditLog == "" {
		bad("audit-log", c.AuditLog, `must be "-" (standard output), "stderr" or a file`)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		bad("log-level", c.LogLevel, err.Error())
	}
	switch c.LogFormat {
	case LogJSON, LogConsole:
	default:
		bad("log-format", c.LogFormat, "must be json or console")
	}
	return errs
}

// checkAddr accepts host:port with an optional host (an IP address or a
// name) and a numeric port from 0 to 65535.
func checkAddr(v string) error {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("not a host:port address: %w", err)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	if host != "" && net.ParseIP(host) == nil && len(validation.IsDNS1123Subdomain(host)) > 0 {
		return fmt.Errorf("host %q is neither an IP address nor a DNS name", host)
	}
	return nil
}

// serviceAccountUser is the username of gitgate's service account.
func (c *Config) serviceAccountUser() string {
	return "system:serviceaccount:" + c.Namespace + ":" + c.ServiceAccount
}

// exemptUsers are the configured exempt users plus gitgate's own service
// account.
func (c *Config) exemptUsers() []string {
	self := c.serviceAccountUser()
	users := make([]string, 0, len(c.ExemptUsers)+1)
	users = append(users, self)
	for _, u := range c.ExemptUsers {
		if u != self {
			users = append(users, u)
		}
	}
	return users
}

// drainTimeout is how long admission requests in flight get at shutdown:
// none can run longer than AdmissionTimeout, plus a second to write the
// answer. The rest of ShutdownTimeout goes to stopping the controllers
// (managerTimeout).
func (c *Config) drainTimeout() time.Duration {
	return min(c.AdmissionTimeout+time.Second, c.ShutdownTimeout)
}

// managerTimeout is what is left of ShutdownTimeout after the drain, at
// least a second, for the controllers to finish and release the lease.
func (c *Config) managerTimeout() time.Duration {
	return max(c.ShutdownTimeout-c.drainTimeout(), time.Second)
}
