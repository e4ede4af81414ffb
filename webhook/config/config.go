package config

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Defaults of a Scope.
const (
	DefaultName           = "gitgate"
	DefaultTimeoutSeconds = int32(3)
	DefaultServicePort    = int32(443)
	DefaultFailurePolicy  = admissionregistrationv1.Fail
)

// Paths the admission server serves.
const (
	ValidatePath = "/validate"
	MutatePath   = "/mutate"
)

// Names of the webhooks inside the configurations.
const (
	ValidateNamespacedWebhook = "namespaced.validate.gitgate.dev"
	ValidateClusterWebhook    = "cluster.validate.gitgate.dev"
	MutateNamespacedWebhook   = "namespaced.mutate.gitgate.dev"
	MutateClusterWebhook      = "cluster.mutate.gitgate.dev"
)

// NamespaceNameLabel is the label the API server keeps equal to a
// Namespace's name; the namespaceSelector matches on it.
const NamespaceNameLabel = "kubernetes.io/metadata.name"

// SystemNamespaces are always left out of admission, whatever the Scope
// says, so that the control plane keeps working while the webhook is down.
var SystemNamespaces = []string{"kube-system", "kube-node-lease"}

// WriteSubresources are the subresources whose writes change fields a Git
// manifest sets; their UPDATEs are sent to the validating webhook.
var WriteSubresources = []string{"scale", "ephemeralcontainers", "resize"}

// Resource is one managed API resource as the API server serves it.
type Resource struct {
	// Group is the API group, "" for the core group.
	Group string
	// Kind is the object kind, e.g. "Deployment".
	Kind string
	// Resource is the plural resource name, e.g. "deployments".
	Resource string
	// Version is the one version the rules name. With matchPolicy
	// Equivalent the API server converts a request made through any other
	// served version (or an equivalent group) to this version before it
	// sends it, so the webhook compares objects in one version: name the
	// version Git declares the kind in (ResourcesFor takes it).
	Version string
	// Namespaced is true for namespaced resources.
	Namespaced bool
	// Subresources are the served subresources among WriteSubresources,
	// e.g. "scale"; others are ignored.
	Subresources []string
}

// String formats the resource as resource.group (or resource for the core
// group).
func (r Resource) String() string {
	if r.Group == "" {
		return r.Resource
	}
	return r.Resource + "." + r.Group
}

// Service is the in-cluster Service the API server calls.
type Service struct {
	// Name of the Service.
	Name string
	// Namespace of the Service; Scope.Namespace when empty.
	Namespace string
	// Port of the Service; 443 when zero.
	Port int32
}

// Scope is everything the configurations are generated from.
type Scope struct {
	// Name of both configurations; DefaultName when empty.
	Name string
	// Namespace is gitgate's own namespace, left out of admission.
	Namespace string
	// ExemptNamespaces are further namespaces left out of admission, by
	// name, on top of SystemNamespaces and Namespace.
	ExemptNamespaces []string
	// Resources are the managed resources.
	Resources []Resource
	// Service or URL says where the webhook listens; exactly one is set.
	// URL is the server's base ("https://127.0.0.1:9443"): the paths
	// ValidatePath and MutatePath are appended.
	Service *Service
	URL     string
	// CABundle is the PEM bundle the API server verifies the webhook's
	// serving certificate with; empty when it is injected later.
	CABundle []byte
	// FailurePolicy is DefaultFailurePolicy (Fail) when empty.
	FailurePolicy admissionregistrationv1.FailurePolicyType
	// TimeoutSeconds is DefaultTimeoutSeconds (3) when zero; 1 to 30.
	TimeoutSeconds int32
}

// ErrInvalidScope is wrapped by every error about a malformed Scope.
var ErrInvalidScope = errors.New("invalid webhook scope")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidScope, fmt.Sprintf(format, args...))
}

// Validating returns the ValidatingWebhookConfiguration of the scope.
func (s Scope) Validating() (*admissionregistrationv1.ValidatingWebhookConfiguration, error) {
	c, err := s.common(ValidatePath)
	if err != nil {
		return nil, err
	}
	ops := []admissionregistrationv1.OperationType{
		admissionregistrationv1.Create, admissionregistrationv1.Update, admissionregistrationv1.Delete,
	}
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionregistrationv1.SchemeGroupVersion.String(), Kind: "ValidatingWebhookConfiguration"},
		ObjectMeta: c.meta,
	}
	parts := c.parts(ValidateNamespacedWebhook, ValidateClusterWebhook)
	if !slices.ContainsFunc(parts, func(p part) bool { return p.scope == admissionregistrationv1.ClusterScope }) {
		parts = append(parts, part{ValidateClusterWebhook, admissionregistrationv1.ClusterScope, nil})
	}
	for _, part := range parts {
		rules := rulesFor(part.resources, part.scope, ops, true)
		if part.scope == admissionregistrationv1.ClusterScope {
			rules = append(rules, SourceStatusRule())
		}
		vwc.Webhooks = append(vwc.Webhooks, c.webhook(part.name, rules))
	}
	return vwc, nil
}

// The GitSource resource, whose status holds each source's rollback ledger.
const (
	SourceGroup    = "gitgate.dev"
	SourceResource = "gitsources"
)

// SourceStatusRule is the rule that sends every write of a GitSource's
// status to the validating webhook, which lets only gitgate's own service
// account (and configured break-glass users) write it. Validating adds it
// to the cluster-scoped webhook whatever the Scope says: the ledger is
// what refuses a rollback, and it must not depend on a caller asking. It
// names every version ("*") rather than one: the webhook reads no object,
// only who writes, and a rule for one version would stop matching once the
// CRD stops serving that version. Only UPDATE: status is written by update
// and patch (server-side apply included), never created or deleted.
func SourceStatusRule() admissionregistrationv1.RuleWithOperations {
	return admissionregistrationv1.RuleWithOperations{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Update},
		Rule: admissionregistrationv1.Rule{
			APIGroups:   []string{SourceGroup},
			APIVersions: []string{"*"},
			Resources:   []string{SourceResource + "/status"},
			Scope:       new(admissionregistrationv1.ClusterScope),
		},
	}
}

// Mutating returns the MutatingWebhookConfiguration of the scope: the same
// resources, CREATE and UPDATE only, no subresources, reinvocation Never.
func (s Scope) Mutating() (*admissionregistrationv1.MutatingWebhookConfiguration, error) {
	c, err := s.common(MutatePath)
	if err != nil {
		return nil, err
	}
	ops := []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update}
	mwc := &admissionregistrationv1.MutatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionregistrationv1.SchemeGroupVersion.String(), Kind: "MutatingWebhookConfiguration"},
		ObjectMeta: c.meta,
	}
	for _, part := range c.parts(MutateNamespacedWebhook, MutateClusterWebhook) {
		rules := rulesFor(part.resources, part.scope, ops, false)
		mwc.Webhooks = append(mwc.Webhooks, mutating(c.webhook(part.name, rules)))
	}
	return mwc, nil
}

// webhook is the webhook name with rules and the settings every webhook of
// both configurations shares, as a validating webhook; mutating turns it
// into a mutating one. Each call makes fresh values: the configurations
// must not share them.
func (c *resolved) webhook(name string, rules []admissionregistrationv1.RuleWithOperations) admissionregistrationv1.ValidatingWebhook {
	return admissionregistrationv1.ValidatingWebhook{
		Name:                    name,
		ClientConfig:            *c.client.DeepCopy(),
		Rules:                   rules,
		FailurePolicy:           &c.failurePolicy,
		MatchPolicy:             new(admissionregistrationv1.Equivalent),
		NamespaceSelector:       c.namespaceSelector(),
		ObjectSelector:          &metav1.LabelSelector{},
		SideEffects:             new(admissionregistrationv1.SideEffectClassNone),
		TimeoutSeconds:          new(c.timeout),
		AdmissionReviewVersions: []string{"v1"},
	}
}

// mutating is w as a mutating webhook, which is never reinvoked. It copies
// every field the two webhook types share (TestMutatingCopiesEveryField
// checks that none is missed).
func mutating(w admissionregistrationv1.ValidatingWebhook) admissionregistrationv1.MutatingWebhook {
	return admissionregistrationv1.MutatingWebhook{
		Name:                    w.Name,
		ClientConfig:            w.ClientConfig,
		Rules:                   w.Rules,
		FailurePolicy:           w.FailurePolicy,
		MatchPolicy:             w.MatchPolicy,
		NamespaceSelector:       w.NamespaceSelector,
		ObjectSelector:          w.ObjectSelector,
		SideEffects:             w.SideEffects,
		TimeoutSeconds:          w.TimeoutSeconds,
		AdmissionReviewVersions: w.AdmissionReviewVersions,
		MatchConditions:         w.MatchConditions,
		ReinvocationPolicy:      new(admissionregistrationv1.NeverReinvocationPolicy),
	}
}

// resolved is a validated Scope with its defaults filled in.
type resolved struct {
	meta          metav1.ObjectMeta
	client        admissionregistrationv1.WebhookClientConfig
	failurePolicy admissionregistrationv1.FailurePolicyType
	timeout       int32
	exempt        []string
	namespaced    []Resource
	cluster       []Resource
}

type part struct {
	name      string
	scope     admissionregistrationv1.ScopeType
	resources []Resource
}

// parts lists the webhooks to generate: one per scope that has resources.
func (c *resolved) parts(namespacedName, clusterName string) []part {
	var ps []part
	if len(c.namespaced) > 0 {
		ps = append(ps, part{namespacedName, admissionregistrationv1.NamespacedScope, c.namespaced})
	}
	if len(c.cluster) > 0 {
		ps = append(ps, part{clusterName, admissionregistrationv1.ClusterScope, c.cluster})
	}
	return ps
}

// namespaceSelector returns a fresh selector (the configurations must not
// share it) leaving out the exempt namespaces by name.
func (c *resolved) namespaceSelector() *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key:      NamespaceNameLabel,
		Operator: metav1.LabelSelectorOpNotIn,
		Values:   slices.Clone(c.exempt),
	}}}
}

func (s Scope) common(path string) (*resolved, error) {
	name := cmp.Or(s.Name, DefaultName)
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return nil, invalid("name %q: %s", name, strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Label(s.Namespace); len(errs) > 0 {
		return nil, invalid("gitgate namespace %q: %s", s.Namespace, strings.Join(errs, "; "))
	}
	c := &resolved{
		meta: metav1.ObjectMeta{
			Name:   name,
			Labels: map[string]string{"app.kubernetes.io/name": "gitgate", "app.kubernetes.io/component": "admission"},
		},
		failurePolicy: cmp.Or(s.FailurePolicy, DefaultFailurePolicy),
		timeout:       cmp.Or(s.TimeoutSeconds, DefaultTimeoutSeconds),
	}
	if c.failurePolicy != admissionregistrationv1.Fail && c.failurePolicy != admissionregistrationv1.Ignore {
		return nil, invalid("failurePolicy %q is neither Fail nor Ignore", c.failurePolicy)
	}
	if c.timeout < 1 || c.timeout > 30 {
		return nil, invalid("timeoutSeconds %d is not between 1 and 30", c.timeout)
	}
	var err error
	if c.client, err = s.clientConfig(path); err != nil {
		return nil, err
	}
	if c.exempt, err = s.exemptNamespaces(); err != nil {
		return nil, err
	}
	if c.namespaced, c.cluster, err = splitResources(s.Resources); err != nil {
		return nil, err
	}
	return c, nil
}

func (s Scope) clientConfig(path string) (admissionregistrationv1.WebhookClientConfig, error) {
	cc := admissionregistrationv1.WebhookClientConfig{CABundle: slices.Clone(s.CABundle)}
	switch {
	case s.Service != nil && s.URL != "":
		return cc, invalid("both a service and a URL are set")
	case s.Service != nil:
		svc := admissionregistrationv1.ServiceReference{
			Name:      s.Service.Name,
			Namespace: cmp.Or(s.Service.Namespace, s.Namespace),
			Path:      new(path),
			Port:      new(cmp.Or(s.Service.Port, DefaultServicePort)),
		}
		if errs := validation.IsDNS1035Label(svc.Name); len(errs) > 0 {
			return cc, invalid("service name %q: %s", svc.Name, strings.Join(errs, "; "))
		}
		if errs := validation.IsDNS1123Label(svc.Namespace); len(errs) > 0 {
			return cc, invalid("service namespace %q: %s", svc.Namespace, strings.Join(errs, "; "))
		}
		if *svc.Port < 1 || *svc.Port > 65535 {
			return cc, invalid("service port %d out of range", *svc.Port)
		}
		cc.Service = &svc
	case s.URL != "":
		u, err := webhookURL(s.URL, path)
		if err != nil {
			return cc, err
		}
		cc.URL = &u
	default:
		return cc, invalid("neither a service nor a URL is set")
	}
	return cc, nil
}

// webhookURL checks base as the API server does (https, a host, no user,
// query or fragment) and appends path.
func webhookURL(base, path string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", invalid("URL %q: %v", base, err)
	}
	switch {
	case u.Scheme != "https":
		return "", invalid("URL %q: scheme must be https", base)
	case u.Host == "" || u.Hostname() == "":
		return "", invalid("URL %q: no host", base)
	case u.User != nil:
		return "", invalid("URL %q: user information is not allowed", base)
	case u.RawQuery != "" || u.ForceQuery:
		return "", invalid("URL %q: a query is not allowed", base)
	case u.Fragment != "":
		return "", invalid("URL %q: a fragment is not allowed", base)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawPath = ""
	return u.String(), nil
}

func (s Scope) exemptNamespaces() ([]string, error) {
	exempt := slices.Concat(SystemNamespaces, []string{s.Namespace}, s.ExemptNamespaces)
	for _, ns := range s.ExemptNamespaces {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return nil, invalid("exempt namespace %q: %s", ns, strings.Join(errs, "; "))
		}
	}
	slices.Sort(exempt)
	return slices.Compact(exempt), nil
}

// neverSent are resources that get no rules: the control plane writes Events
// and Leases constantly and Git never declares them, and the API server
// does not send webhook or admission-policy configurations to webhooks.
var neverSent = map[[2]string]bool{
	{"", "events"}:                    true,
	{"events.k8s.io", "events"}:       true,
	{"coordination.k8s.io", "leases"}: true,
	{"admissionregistration.k8s.io", "validatingwebhookconfigurations"}:   true,
	{"admissionregistration.k8s.io", "mutatingwebhookconfigurations"}:     true,
	{"admissionregistration.k8s.io", "validatingadmissionpolicies"}:       true,
	{"admissionregistration.k8s.io", "validatingadmissionpolicybindings"}: true,
	{"admissionregistration.k8s.io", "mutatingadmissionpolicies"}:         true,
	{"admissionregistration.k8s.io", "mutatingadmissionpolicybindings"}:   true,
}

// NeverSent reports whether r gets no rules whatever the Scope says.
func NeverSent(group, resource string) bool { return neverSent[[2]string{group, resource}] }

// splitResources validates the resources, drops those NeverSent, merges
// duplicates and sorts them into namespaced and cluster-scoped ones.
func splitResources(rs []Resource) (namespaced, cluster []Resource, err error) {
	merged := map[[2]string]*Resource{}
	for _, r := range rs {
		if err := checkResource(r); err != nil {
			return nil, nil, err
		}
		if NeverSent(r.Group, r.Resource) {
			continue
		}
		k := [2]string{r.Group, r.Resource}
		m, ok := merged[k]
		switch {
		case !ok:
			c := r
			c.Subresources = nil
			m = &c
			merged[k] = m
		case m.Namespaced != r.Namespaced:
			return nil, nil, invalid("resource %s is listed both as namespaced and as cluster-scoped", r)
		case m.Version != r.Version:
			return nil, nil, invalid("resource %s is listed in versions %s and %s; the webhook sees every request in one", r, m.Version, r.Version)
		}
		for _, sub := range r.Subresources {
			if slices.Contains(WriteSubresources, sub) {
				m.Subresources = append(m.Subresources, sub)
			}
		}
	}
	for _, m := range merged {
		slices.Sort(m.Subresources)
		m.Subresources = slices.Compact(m.Subresources)
		if m.Namespaced {
			namespaced = append(namespaced, *m)
		} else {
			cluster = append(cluster, *m)
		}
	}
	byName := func(a, b Resource) int {
		return cmp.Or(strings.Compare(a.Group, b.Group), strings.Compare(a.Resource, b.Resource))
	}
	slices.SortFunc(namespaced, byName)
	slices.SortFunc(cluster, byName)
	return namespaced, cluster, nil
}

func checkResource(r Resource) error {
	if r.Group != "" {
		if errs := validation.IsDNS1123Subdomain(r.Group); len(errs) > 0 {
			return invalid("resource %s: group: %s", r, strings.Join(errs, "; "))
		}
	}
	if r.Resource == "" || strings.ContainsAny(r.Resource, "/*") || strings.ToLower(r.Resource) != r.Resource {
		return invalid("resource %q of group %q: want a lower-case plural name without / or *", r.Resource, r.Group)
	}
	if errs := validation.IsDNS1035Label(r.Version); len(errs) > 0 {
		return invalid("resource %s: version %q: %s", r, r.Version, strings.Join(errs, "; "))
	}
	return nil
}

// rulesFor returns one rule per resource (so that the version of one
// resource never combines with another's), with its write subresources when
// withSubresources is set. Subresource writes are UPDATEs; listing them
// under the same operations is harmless, the API server never sends a
// CREATE or DELETE of "scale".
func rulesFor(rs []Resource, scope admissionregistrationv1.ScopeType, ops []admissionregistrationv1.OperationType, withSubresources bool) []admissionregistrationv1.RuleWithOperations {
	rules := make([]admissionregistrationv1.RuleWithOperations, 0, len(rs))
	for _, r := range rs {
		resources := []string{r.Resource}
		if withSubresources {
			for _, sub := range r.Subresources {
				resources = append(resources, r.Resource+"/"+sub)
			}
		}
		rules = append(rules, admissionregistrationv1.RuleWithOperations{
			Operations: slices.Clone(ops),
			Rule: admissionregistrationv1.Rule{
				APIGroups:   []string{r.Group},
				APIVersions: []string{r.Version},
				Resources:   resources,
				Scope:       new(scope),
			},
		})
	}
	return rules
}
