// Package webhook is gitgate's admission server: an HTTPS server with a
// validating webhook (/validate) that denies every change to a managed
// object that does not match the desired state of a verified commit, and a
// mutating webhook (/mutate) that stamps admitted managed objects with their
// provenance (DESIGN.md §2, "Admission decision" and "Mutating webhook").
//
// # Using it
//
// NewServer takes the desired state (the reconciler's *index.Store), the
// scope (per source: its repository URL, namespaces and kinds), an optional
// Rego engine compiled in the admission profile, exemptions, and the sinks
// for logs, metrics, audit lines and Events. Handler returns the HTTP
// handler (/validate, /mutate, /healthz, /readyz); Start and Serve run it
// over TLS. Validate and Mutate are the two webhooks as controller-runtime
// admission handlers, for callers that bring their own HTTP layer.
//
// # The validating decision
//
// The object a request is about is its key in the Index: group and kind
// from request.kind (with matchPolicy Equivalent the API server has
// converted the request to the registered version, and the Index has no
// version), namespace and name. For a subresource the kind is the
// parent's, from request.resource (deployments/scale is about a
// Deployment, not a Scale). Steps, first match wins:
//
//  1. CONNECT is allowed. A write of a GitSource's status
//     (gitsources.gitgate.dev/status, any version) is denied unless the
//     user is one of Options.StatusWriters or Options.Exempt.Users or is
//     in one of Options.Exempt.Groups (see "GitSource status" below); a
//     status writer's request goes on through the steps. Allowed, exempt:
//     an exempt user or group (Options.Exempt and SystemUsers); Events and
//     Leases; objects in kube-system, kube-node-lease, gitgate's namespace
//     and the configured exempt namespaces. The configuration never sends
//     these; they are allowed if they arrive anyway, so the cluster can
//     always heal.
//  2. Exemption label: a request that gives an object or Namespace the label
//     gitgate.dev/exempt=true is denied unless Git's manifest of that
//     object carries it. An object whose Git manifest carries it, an object
//     Git does not declare that had it before the request, and every object
//     in a Namespace whose Git manifest carries it are allowed.
//  3. Git declares the object: CREATE and UPDATE are allowed only if the
//     object conforms to the manifest (conform.Compare); DELETE is denied;
//     the status subresource is allowed (Git leaves status out); scale is
//     allowed only if the Scale's spec.replicas equals Git's (or Git sets
//     no replicas); ephemeralcontainers is denied unless the manifest
//     declares ephemeral containers, and then checked like an update;
//     another subresource that carries the object itself (pods/resize) is
//     checked like an update, and one that does not (binding, eviction) is
//     allowed, as it holds no field Git sets.
//  4. Git does not declare the object:
//     - it declared it before and the current commit removed it
//     (index.Index.Withdrawn): DELETE is allowed (the prune), and so is an
//     UPDATE while the object is being deleted (finalizers);
//     - its namespace is not managed (no source lists it and Git declares
//     no such Namespace): allowed, out of scope; cluster-scoped objects
//     that Git does not declare are always out of scope;
//     - a subresource whose parent's kind cannot be told (see
//     Options.Mapper): denied, as it might be a managed object's;
//     - its kind is not managed (no source lists it and Git declares no
//     object of it): allowed, as Pods, ReplicaSets, Endpoints and the like
//     in a managed namespace are the work of controllers;
//     - it carries a controller ownerReference (on the new object for
//     CREATE, on the old one for UPDATE and DELETE, so a request cannot
//     add one to escape): allowed, as a controller made it for an owner
//     Git declares (the ReplicaSets of a managed Deployment and their
//     Pods must never be blocked, DESIGN.md §3);
//     - status, and subresources that do not carry the object: allowed;
//     - otherwise CREATE, UPDATE and DELETE are denied: "not declared in
//     Git".
//  5. Every request still allowed after steps 3 and 4 (in scope) is judged
//     by Rego, with the object's provenance in the input: a deny rule
//     denies with the policies' messages, a warn rule adds admission
//     warnings (kubectl prints them), and an evaluation that fails or times
//     out denies.
//
// The Rego input is the AdmissionReview shape the policy library reads,
// with the provenance beside the request:
//
//	input.request     the AdmissionRequest: uid, kind, resource,
//	                  subResource, requestKind, requestResource,
//	                  requestSubResource, name, namespace, operation,
//	                  userInfo, object, oldObject (null where absent),
//	                  dryRun, options
//	input.provenance  {"source", "commit", "path", "signers",
//	                  "repository"} of the object when Git declares it (for
//	                  a prune: declared it), null otherwise
//
// Dry-run requests get the same verdict (and no Event). Every denial says
// what differs (field, Git's value, the requested value), the commit (short
// SHA), path and signers Git holds, and where to open a pull request.
//
// A controller ownerReference is the one mark of a child the server can
// check without calling the API server, and any user allowed to create
// objects in a managed namespace can write one. Such objects still go
// through Rego, their owner's controller and the garbage collector
// reconcile them (a child whose owner does not exist is deleted), and an
// existing object cannot gain the mark to escape the check.
//
// # GitSource status
//
// The reconciler keeps each source's rollback ledger in its GitSource's
// status (status.lastVerifiedCommit, with the trust root and mode it was
// verified under): a new head that does not descend from it is refused. A
// user who could write that status could set it back to an older commit
// and so let a rewound branch through, or set a bogus one and stop the
// source. So only Options.StatusWriters (gitgate's own service account)
// may write it, plus the break-glass users and groups an administrator
// listed in Options.Exempt on purpose. SystemUsers, exempt from everything
// else, are not status writers, and system:masters is one only when
// Exempt.Groups lists it. An impersonated request is judged by the user
// it impersonates, as the API server sends it: impersonating gitgate's
// service account needs the impersonate permission, which is as strong as
// its token. webhook/config always sends UPDATE on gitsources/status.
//
// The status is the only way to write the ledger: the GitSource CRD
// enables the status subresource, so the API server drops status from
// every create and update of the object itself. The GitSource objects
// themselves (their spec, their deletion) are not gated: administrators
// create them, and RBAC on gitsources is the boundary there (whoever may
// change spec.trustRoot, or delete and re-create a source, already
// decides what is trusted).
//
// # Failure mode
//
// The server fails closed: a malformed, truncated or oversized review is
// answered 400 or 413, an internal error or a recovered panic 500 (counted
// in gitgate_admission_panics_total), each inside an AdmissionReview with
// allowed false, so the API server rejects the request even under
// failurePolicy Ignore. Work on one request is bounded by Options.Timeout
// and by the API server's timeout.
//
// # Mutating
//
// /mutate adds or corrects gitgate.dev/commit, gitgate.dev/source,
// gitgate.dev/path and gitgate.dev/signers on a CREATE or UPDATE of an
// object that Git declares and that conforms; from any other object it
// removes them, so a stamp is never found where Git does not vouch for the
// object. The conformance check ignores these annotations.
//
// # Observability
//
// A per-request logr logger with the request's UID, kind, namespace, name
// and user is in the context of every handler (ctrl.LoggerFrom(ctx)).
// Metrics are listed in metrics.go. Every denial and error writes one JSON
// line to Options.AuditLog (user, groups, object, operation, reason,
// message, differing fields, source, commit), and a denial of a request on
// an existing managed object records a Warning Event on it.
package webhook
