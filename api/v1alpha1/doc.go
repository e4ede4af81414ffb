// Package v1alpha1 holds the GitSource API (group gitgate.dev, version
// v1alpha1): a Git repository whose verified state gitgate applies to the
// cluster and guards with its admission webhook.
//
// The CRD manifest is generated from these types with controller-gen
// (`make generate`) into charts/gitgate/crds and checked in; `make verify`
// fails when it is out of date.
//
// +kubebuilder:object:generate=true
// +groupName=gitgate.dev
package v1alpha1
