// Package config generates the ValidatingWebhookConfiguration and the
// MutatingWebhookConfiguration that route every write to a managed object
// through gitgate's admission webhook, and nothing else.
//
// A Scope names the managed resources as the API server serves them (see
// ResourcesFor, which reads them from discovery), where the webhook listens
// (a Service or a URL), its CA bundle, and gitgate's own namespace. From it
// Scope.Validating and Scope.Mutating build typed admissionregistration/v1
// objects and Marshal writes them as YAML for the Helm chart.
//
// What the configurations send, and why:
//
//   - CREATE, UPDATE and DELETE on every managed resource (PATCH and
//     server-side apply arrive as UPDATE or CREATE, deletecollection as one
//     DELETE per object), and UPDATE on the write subresources that change
//     fields Git sets: scale (kubectl scale), ephemeralcontainers
//     (kubectl debug) and resize (in-place Pod resize). status and the other
//     subresources are left to their controllers. CONNECT is not sent.
//   - UPDATE on gitsources.gitgate.dev/status (every version), always,
//     in the cluster-scoped validating webhook even when the Scope names
//     no cluster-scoped resource: a GitSource's status holds its rollback
//     ledger, and the admission server lets only gitgate's own service
//     account write it (see SourceStatusRule). The GitSources themselves
//     get no rule unless the Scope lists them: administrators create them.
//     The rule is harmless where the CRD is not installed, and the API
//     server sends it no more than one request per sync of a source.
//   - one version per resource in the rules, with matchPolicy Equivalent:
//     the same change made through another served API version or group
//     (autoscaling/v1 instead of autoscaling/v2, say, or a version a CRD
//     gains later) is sent too, converted by the API server to the version
//     of the rule, so the webhook compares an object with its Git manifest
//     in the version Git declares it in.
//   - failurePolicy Fail and timeoutSeconds 3 by default: fail closed for
//     managed objects, with a short timeout.
//   - sideEffects None and admissionReviewVersions [v1].
//   - Events (core and events.k8s.io) and Leases (coordination.k8s.io) get no
//     rules even when a Scope asks for them: they are written constantly by
//     the control plane and never come from Git. Webhook and admission-policy
//     configurations get none either, because the API server never sends
//     them to webhooks.
//   - A namespaceSelector that leaves out kube-system, kube-node-lease and
//     gitgate's own namespace by the kubernetes.io/metadata.name label, so
//     that the control plane and gitgate itself can always heal while the
//     webhook is down. The API server sets that label to the namespace's name
//     on every create and update, so a request cannot forge it. There is
//     deliberately no selector on any other label: for a Namespace the API
//     server matches the selector against the labels of the object in the
//     request, so a selector such as "exempt NotIn [true]" would let the very
//     request that adds the label skip the webhook. Exemption labels are the
//     admission server's business, which sees those requests.
//
// Each configuration holds two webhooks: one with the namespaced resources
// and one with the cluster-scoped ones. The API server applies a
// namespaceSelector to a cluster-scoped object only when that object is a
// Namespace (matched on the Namespace's own labels, so the kube-system
// Namespace object is left out as well); every other cluster-scoped object
// (CRDs, ClusterRoles, ...) is always sent. Keeping them apart makes that
// visible in the configuration and in the API server's per-webhook metrics.
//
// The mutating configuration stamps provenance, so it sends only CREATE and
// UPDATE of the resources themselves, with reinvocationPolicy Never:
// annotations written through a subresource are not stored.
package config
