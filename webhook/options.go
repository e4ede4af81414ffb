package webhook

import (
	"context"
	"io"
	"time"

	"github.com/go-logr/logr"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"gitgate.dev/gitgate/policy"
	"gitgate.dev/gitgate/provenance/index"
)

// Desired is where the server reads the desired state on every request.
// *index.Store implements it; Current must be cheap and never block.
type Desired interface {
	Current() *index.Index
}

var _ Desired = (*index.Store)(nil)

// PolicyEngine judges an admission input with Rego. *policy.Engine compiled
// with policy.WithProfile(policy.ProfileAdmission) implements it. An error
// is a failure to reach a verdict (timeout, builtin error) and denies.
type PolicyEngine interface {
	EvaluateValue(ctx context.Context, input ast.Value) (policy.Result, error)
}

var _ PolicyEngine = (*policy.Engine)(nil)

// EventRecorder records a Kubernetes Event on an object. client-go's
// record.EventRecorder implements it.
type EventRecorder interface {
	Event(object runtime.Object, eventtype, reason, message string)
}

// KindMapper maps an API resource to its kind. A meta.RESTMapper (for
// instance controller-runtime's dynamic one) implements it. The server needs
// it for subresource requests, whose kind is the subresource's (Scale) and
// not the parent's (Deployment).
type KindMapper interface {
	KindFor(resource schema.GroupVersionResource) (schema.GroupVersionKind, error)
}

// Scope is what gitgate manages, per source.
type Scope struct {
	Sources []SourceScope
}

// SourceScope is one source's share of the cluster.
type SourceScope struct {
	// Name is the source's name, as index.Origin.Source holds it.
	Name string
	// Repository is the URL of the source's Git repository, named in
	// denials ("open a pull request against <Repository> path <path>").
	Repository string
	// Namespaces are managed by the source besides those whose Namespace
	// object the source declares in Git.
	Namespaces []string
	// Kinds are the kinds the source manages in its namespaces besides
	// the kinds Git declares anywhere. Creating, changing or deleting an
	// object of a managed kind in a managed namespace that Git does not
	// declare is denied (with the exceptions the package doc lists).
	Kinds []schema.GroupKind
}

// Exemptions are requests the server always allows.
type Exemptions struct {
	// Users are exempt usernames, such as gitgate's own service account
	// ("system:serviceaccount:gitgate-system:gitgate").
	Users []string
	// Groups are exempt groups, for instance "system:masters" for
	// break-glass access.
	Groups []string
	// Namespaces are exempt besides kube-system, kube-node-lease and
	// Options.Namespace.
	Namespaces []string
}

// Options configure a Server. Desired is required; every other field has a
// working default.
type Options struct {
	// Desired is the desired state, normally the reconciler's *index.Store.
	Desired Desired
	// Scope is the initial scope; SetScope replaces it.
	Scope Scope
	// Policy evaluates Rego on every request in scope; nil skips policy
	// evaluation. SetPolicy replaces it.
	Policy PolicyEngine
	// Exempt lists exempt users, groups and namespaces. SystemUsers are
	// always exempt as well.
	Exempt Exemptions
	// Namespace is gitgate's own namespace, which is exempt.
	Namespace string
	// StatusWriters are the usernames that may write the status of a
	// GitSource (gitsources.gitgate.dev/status): gitgate's own service
	// account, whose reconciler keeps the rollback ledger there
	// (status.lastVerifiedCommit). Anyone else could rewind the ledger to an
	// older commit and so open the door to a rollback, or stop it with a
	// bogus one. Besides these users, only the configured Exempt.Users and
	// members of Exempt.Groups (break-glass access, deliberately granted)
	// may write it; SystemUsers may not, and neither may system:masters
	// unless Exempt.Groups lists it. Empty means only those exempt users
	// and groups: gitgate serve puts its own username here (as the API
	// server reports it, e.g. through a SelfSubjectReview), whether or not
	// it is also exempt.
	StatusWriters []string
	// Mapper maps resources to kinds for subresource requests. Without it
	// the server guesses the resource names of the kinds Git declares
	// (deployments for Deployment), which covers the built-in kinds and
	// CRDs with regular plurals; a subresource request in a managed
	// namespace whose kind it cannot tell is denied.
	Mapper KindMapper
	// Events records a Warning Event on an existing managed object when a
	// request on it is denied (never for dry-run requests). Optional.
	Events EventRecorder
	// AuditLog receives one JSON line per denial. Optional.
	AuditLog io.Writer
	// Logger is the base logger; each request gets a child with the
	// request's UID, object and user.
	Logger logr.Logger
	// Registerer registers the server's metrics (see metrics.go). Nil
	// leaves them unregistered; they are counted all the same.
	Registerer prometheus.Registerer
	// Addr is the address Start listens on (default ":9443").
	Addr string
	// MaxRequestBytes caps an AdmissionReview body (default
	// DefaultMaxRequestBytes).
	MaxRequestBytes int64
	// Timeout bounds the work on one request (default 3s). The API
	// server's own timeout, which it sends as the timeout query parameter,
	// bounds it as well.
	Timeout time.Duration
	// ShutdownTimeout bounds how long Start waits for in-flight requests
	// once its context ends (default 10s).
	ShutdownTimeout time.Duration
	// EnableHTTP2 serves HTTP/2 as well as HTTP/1.1. It is off by default,
	// as in controller-runtime, because of the HTTP/2 stream-reset attacks
	// (CVE-2023-44487, CVE-2023-39325); the API server speaks HTTP/1.1
	// to webhooks just as well, and faster: through kube-apiserver on two
	// cores its calls took 1.9-2.1 ms on average over HTTP/2 and 1.65-1.8
	// ms over HTTP/1.1, and more of them took over 5 ms (Go's HTTP/2
	// server hands each request to a goroutine of its own and the answer
	// back, where HTTP/1.1 answers on the connection's goroutine).
	EnableHTTP2 bool
	// Ready reports readiness for /readyz (for instance: every source's
	// Index has been built). Nil is always ready.
	Ready func() bool
}

// DefaultMaxRequestBytes caps an AdmissionReview body. The API server
// accepts write bodies up to 3 MiB (its MaxRequestBodyBytes) and etcd
// objects up to 1.5 MiB in their stored encoding, which grows when it is
// re-encoded as JSON; an AdmissionReview carries the object and, on
// updates, the old object, each up to 3 MiB as JSON, plus the request's own
// fields (user info, options) well under 1 MiB. A smaller cap would turn a
// large but legal object into a denial; a larger one only gives a client
// that is not the API server more memory to fill. The figure matches
// controller-runtime's.
const DefaultMaxRequestBytes = 7 << 20

// SystemUsers are always exempt. They are the kube-controller-manager
// controllers that write into every namespace as part of the cluster's own
// life cycle, which Git never declares and which would otherwise break in a
// managed namespace: the root CA ConfigMap (kube-root-ca.crt) and default
// ServiceAccount of each new namespace, and the deletion of everything in a
// namespace that is being deleted.
var SystemUsers = []string{
	"system:serviceaccount:kube-system:root-ca-cert-publisher",
	"system:serviceaccount:kube-system:service-account-controller",
	"system:serviceaccount:kube-system:namespace-controller",
}

// systemNamespaces never reach the server through gitgate's configuration
// (webhook/config leaves them out) and are allowed if they arrive anyway,
// so that the control plane can heal while gitgate is down or wrong.
var systemNamespaces = []string{"kube-system", "kube-node-lease"}

const (
	defaultAddr            = ":9443"
	defaultTimeout         = 3 * time.Second
	defaultShutdownTimeout = 10 * time.Second
)
