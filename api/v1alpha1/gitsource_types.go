package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// GitSource is a Git repository whose verified state gitgate applies to the
// cluster. It is cluster-scoped: a source may manage several namespaces and
// cluster-scoped objects, and only cluster administrators may create one.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=gs;gitsrc,categories=gitgate
// +kubebuilder:validation:XValidation:rule="size(self.metadata.name) <= 63",message="the name of a GitSource is at most 63 characters: it is the value of the gitgate.dev/source label on every object the source applies"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Commit",type=string,JSONPath=`.status.lastAppliedCommit`
// +kubebuilder:printcolumn:name="Signers",type=string,JSONPath=`.status.signers`
// +kubebuilder:printcolumn:name="Objects",type=integer,JSONPath=`.status.objects`
// +kubebuilder:printcolumn:name="Drifted",type=integer,JSONPath=`.status.drifted`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type GitSource struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   GitSourceSpec   `json:"spec"`
	Status GitSourceStatus `json:"status,omitempty"`
}

// GitSourceList is a list of GitSources.
//
// +kubebuilder:object:root=true
type GitSourceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GitSource `json:"items"`
}

// SourceLabel is the label the reconciler puts on every object it applies,
// with the GitSource's name as its value. Prune deletes only objects that
// carry it, and the drift watches select on it.
const SourceLabel = "gitgate.dev/source"

// GitSourceSpec says which repository to pull, from which trust root to
// verify it, what to render and how to guard it.
type GitSourceSpec struct {
	// URL of the repository: https://, ssh:// (or scp-like user@host:path)
	// or file:// with an absolute path. Plain http://, git:// and remote
	// helpers are refused, and so are credentials in the URL (use
	// secretRef).
	//
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^(https://|ssh://|file:///|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:)[^\s]*$`
	URL string `json:"url"`

	// Branch whose head is verified and applied.
	//
	// +kubebuilder:default=main
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:Pattern=`^[^\s~^:?*\[\\]+$`
	// +optional
	Branch string `json:"branch,omitempty"`

	// Paths are the repository folders (or files) rendered into objects,
	// relative to the repository's top; a folder with a kustomization.yaml
	// is built with kustomize. Default: the whole repository.
	//
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=1024
	// +kubebuilder:validation:items:Pattern=`^[^/].*$`
	// +optional
	Paths []string `json:"paths,omitempty"`

	// Interval between fetches. A push webhook triggers a fetch at once.
	//
	// +kubebuilder:default="1m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +optional
	Interval metav1.Duration `json:"interval,omitempty"`

	// Timeout bounds one fetch.
	//
	// +kubebuilder:default="60s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// SecretRef names a Secret in gitgate's own namespace with the
	// credentials for the repository: "username" and "password" (https
	// basic auth; for a token, the token as password), or "identity" (an
	// SSH private key) with "known_hosts" (required for ssh) and an optional
	// "passphrase"; "caFile" adds CA certificates for https.
	//
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`

	// TrustRoot is the full SHA of the commit whose trust policy
	// (.gitgate/trust.yaml) is taken on faith. It must be on the branch's
	// first-parent chain.
	//
	// +kubebuilder:validation:Pattern=`^([0-9a-f]{40}|[0-9a-f]{64})$`
	TrustRoot string `json:"trustRoot"`

	// Mode is "full" (every commit from the trust root to the head is
	// verified) or "head" (only the head, as Flux does).
	//
	// +kubebuilder:default=full
	// +optional
	Mode VerificationMode `json:"mode,omitempty"`

	// Scope is what the source manages besides the objects Git declares.
	//
	// +optional
	Scope Scope `json:"scope,omitempty"`

	// Policy selects the Rego that every commit must pass before it is
	// applied, and that admission runs on every request in scope.
	//
	// +optional
	Policy *PolicySpec `json:"policy,omitempty"`

	// Drift is what happens when a managed object stops matching Git:
	// "revert" puts it back at once, "detect" only reports and counts it.
	//
	// +kubebuilder:default=revert
	// +optional
	Drift DriftMode `json:"drift,omitempty"`

	// Prune deletes objects this source applied that left Git.
	//
	// +kubebuilder:default=true
	// +optional
	Prune *bool `json:"prune,omitempty"`

	// Suspend stops fetching and applying; the last applied state stays
	// guarded by the webhook and drift is still reverted.
	//
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// Receiver enables the push webhook endpoint for this source.
	//
	// +optional
	Receiver *ReceiverSpec `json:"receiver,omitempty"`
}

// LocalObjectReference names an object in gitgate's own namespace.
type LocalObjectReference struct {
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// VerificationMode selects which commits are verified.
//
// +kubebuilder:validation:Enum=full;head
type VerificationMode string

// The verification modes.
const (
	ModeFull VerificationMode = "full"
	ModeHead VerificationMode = "head"
)

// DriftMode says what happens to drift.
//
// +kubebuilder:validation:Enum=revert;detect
type DriftMode string

// The drift modes.
const (
	DriftRevert DriftMode = "revert"
	DriftDetect DriftMode = "detect"
)

// Scope is what a source manages besides the objects Git declares: in
// these namespaces, objects of these kinds that Git does not declare
// cannot be created.
type Scope struct {
	// Namespaces managed by the source besides those whose Namespace
	// object it declares.
	//
	// +kubebuilder:validation:MaxItems=1024
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +optional
	Namespaces []string `json:"namespaces,omitempty"`

	// Kinds managed by the source in its namespaces besides those Git
	// declares, as "Kind" for the core group or "Kind.group"
	// (e.g. "ConfigMap", "Deployment.apps").
	//
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:Pattern=`^[A-Z][A-Za-z0-9]*(\.[a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$`
	// +optional
	Kinds []string `json:"kinds,omitempty"`
}

// PolicySpec selects Rego policies.
type PolicySpec struct {
	// Paths are repository folders holding Rego (conftest conventions:
	// deny, violation and warn rules); *_test.rego files are skipped.
	//
	// +kubebuilder:validation:MaxItems=64
	// +optional
	Paths []string `json:"paths,omitempty"`

	// Library lists policies of gitgate's library to enable, by folder
	// (e.g. "pss/baseline", "images/pinned"); "all" enables every one.
	//
	// +kubebuilder:validation:MaxItems=128
	// +optional
	Library []string `json:"library,omitempty"`

	// Data is handed to the policies as data (the library reads its
	// parameters from data.gitgate.parameters).
	//
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	// +optional
	Data *apiextensionsv1.JSON `json:"data,omitempty"`
}

// ReceiverSpec configures the push webhook of a source: POST
// /hook/<GitSource name> on gitgate's receiver endpoint triggers an
// immediate fetch. The payload is only a trigger.
type ReceiverSpec struct {
	// Type is the sender: "github" (X-Hub-Signature-256 HMAC), "gitlab"
	// (X-Gitlab-Token) or "generic" (X-Signature: sha256=<hex HMAC>).
	//
	// +kubebuilder:validation:Enum=github;gitlab;generic
	Type string `json:"type"`

	// SecretRef names a Secret in gitgate's namespace whose "token" key
	// holds the shared secret.
	SecretRef LocalObjectReference `json:"secretRef"`
}

// GitSourceStatus is what gitgate observed and did.
type GitSourceStatus struct {
	// ObservedGeneration is the generation of the spec last reconciled.
	//
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Verified, PolicyPassed, Applied and Drifted.
	//
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// LastVerifiedCommit is the rollback ledger: the last head that was
	// verified. A head that does not descend from it is refused.
	//
	// +optional
	LastVerifiedCommit string `json:"lastVerifiedCommit,omitempty"`

	// VerifiedTrustRoot and VerifiedMode record under which trust root and
	// mode LastVerifiedCommit was verified.
	//
	// +optional
	VerifiedTrustRoot string `json:"verifiedTrustRoot,omitempty"`
	// +optional
	VerifiedMode VerificationMode `json:"verifiedMode,omitempty"`

	// LastAppliedCommit is the commit whose objects are applied.
	//
	// +optional
	LastAppliedCommit string `json:"lastAppliedCommit,omitempty"`

	// Signers of the applied head (its approvers, for a merge).
	//
	// +optional
	Signers []string `json:"signers,omitempty"`

	// Objects is how many objects the applied commit declares.
	//
	// +optional
	Objects int `json:"objects"` // no omitempty: kubectl's OBJECTS column shows 0, not <none>

	// Drifted is how many managed objects currently differ from Git.
	//
	// +optional
	Drifted int `json:"drifted"` // no omitempty, like Objects

	// LastSyncTime is when the last sync finished, with whatever result.
	//
	// +optional
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`
}

// Condition types.
const (
	ConditionReady        = "Ready"
	ConditionVerified     = "Verified"
	ConditionPolicyPassed = "PolicyPassed"
	ConditionApplied      = "Applied"
	ConditionDrifted      = "Drifted"
)

var _ runtime.Object = &GitSource{}
