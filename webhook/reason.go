package webhook

// Reason says why a request got its verdict. It labels the
// gitgate_admission_requests_total metric, names audit lines and is the
// reason of the Events the server records, so it is a short fixed word,
// never free text.
type Reason string

// Reasons for allowing a validating request.
const (
	// ReasonExemptUser: the user or one of its groups is exempt.
	ReasonExemptUser Reason = "ExemptUser"
	// ReasonExemptNamespace: kube-system, kube-node-lease, gitgate's own
	// namespace or a configured one.
	ReasonExemptNamespace Reason = "ExemptNamespace"
	// ReasonExemptKind: Events and Leases, written by the control plane.
	ReasonExemptKind Reason = "ExemptKind"
	// ReasonExemptLabel: the object (or its namespace, as Git declares it)
	// carries the exemption label.
	ReasonExemptLabel Reason = "ExemptLabel"
	// ReasonNotWrite: CONNECT (exec, attach, port-forward) changes nothing.
	ReasonNotWrite Reason = "NotWrite"
	// ReasonOutOfScope: the object is in no managed namespace and Git does
	// not declare it.
	ReasonOutOfScope Reason = "OutOfScope"
	// ReasonUnmanagedKind: a managed namespace, but a kind no source
	// manages (Pods, ReplicaSets, ...).
	ReasonUnmanagedKind Reason = "UnmanagedKind"
	// ReasonControllerChild: an object a controller made for its owner.
	ReasonControllerChild Reason = "ControllerChild"
	// ReasonConforms: a managed object that matches Git.
	ReasonConforms Reason = "Conforms"
	// ReasonStatus: the status subresource, which Git leaves out.
	ReasonStatus Reason = "Status"
	// ReasonSubresource: a subresource that does not carry the object
	// (binding, eviction, token, ...).
	ReasonSubresource Reason = "Subresource"
	// ReasonPrune: the DELETE of an object that left Git.
	ReasonPrune Reason = "Prune"
	// ReasonFinalizing: an update of an object that left Git and is being
	// deleted (its finalizers are being removed).
	ReasonFinalizing Reason = "Finalizing"
)

// Reasons for denying a validating request.
const (
	// ReasonNotConforming: a managed object that does not match Git,
	// through the object or its scale subresource.
	ReasonNotConforming Reason = "NotConforming"
	// ReasonManagedDelete: deleting an object that Git declares.
	ReasonManagedDelete Reason = "ManagedDelete"
	// ReasonNotDeclared: creating, changing or deleting an object of a
	// managed kind in a managed namespace that Git does not declare.
	ReasonNotDeclared Reason = "NotDeclared"
	// ReasonEphemeralContainers: adding ephemeral containers to a managed
	// Pod whose manifest declares none.
	ReasonEphemeralContainers Reason = "EphemeralContainers"
	// ReasonExemptLabelChange: adding the exemption label where Git does
	// not.
	ReasonExemptLabelChange Reason = "ExemptLabelChange"
	// ReasonUnknownKind: a subresource request in a managed namespace
	// whose parent's kind the server cannot tell (a custom resource with
	// an irregular plural and no Options.Mapper).
	ReasonUnknownKind Reason = "UnknownKind"
	// ReasonSourceStatus: writing the status of a GitSource, which holds
	// the rollback ledger, by a user that is not a status writer.
	ReasonSourceStatus Reason = "SourceStatus"
	// ReasonPolicyDenied: a Rego deny rule fired.
	ReasonPolicyDenied Reason = "PolicyDenied"
	// ReasonPolicyError: policy evaluation failed or timed out.
	ReasonPolicyError Reason = "PolicyError"
)

// Reasons of the mutating webhook.
const (
	// ReasonStamped: provenance annotations were added or corrected.
	ReasonStamped Reason = "Stamped"
	// ReasonUnchanged: nothing to add or remove.
	ReasonUnchanged Reason = "Unchanged"
	// ReasonStripped: provenance annotations were removed from an object
	// that Git does not declare, or that does not match Git.
	ReasonStripped Reason = "Stripped"
)

// Reasons for error responses.
const (
	// ReasonBadRequest: a malformed, truncated or oversized AdmissionReview.
	ReasonBadRequest Reason = "BadRequest"
	// ReasonInternal: the server failed (an error or a recovered panic).
	ReasonInternal Reason = "InternalError"
)
