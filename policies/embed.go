// Package policies ships gitgate's Rego policy library inside the binary.
//
// The library holds one policy per folder (policy.rego and its tests in
// policy_test.rego), each a package under gitgate. (gitgate.pss.baseline.*,
// gitgate.pss.restricted.*, gitgate.images.*, ...), and shared helpers in
// lib/. Every policy works on both input shapes: a manifest (CI, as
// conftest reads it) and an AdmissionReview request (the webhook). The
// README's "Policy library" section lists the policies and their
// parameters.
package policies

import (
	"embed"
	"io/fs"
)

// library holds every .rego file of the library. Directories are embedded
// whole so that a new policy folder is shipped without touching this list;
// the tests check that every .rego file on disk is in FS.
//
//go:embed lib pss images workloads metadata services
var library embed.FS

// FS returns the library as a read-only file system rooted at the library's
// top: lib/kubernetes.rego, pss/baseline/privileged/policy.rego and so on.
// Files named *_test.rego hold Rego unit tests and test fixtures; loaders
// that evaluate policies skip them, `gitgate test` runs them.
func FS() fs.FS {
	return library
}
