package provenance

import (
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"

	"gitgate.dev/gitgate/provenance/trust"
)

// policyEntry is a parsed trust policy, or why it could not be used. The
// verifier keeps these by blob hash: most commits leave the policy alone, so
// a history of thousands of commits parses a handful of policies.
type policyEntry struct {
	blob   plumbing.Hash
	policy *trust.Policy
	err    error
}

// policyAt returns the trust policy in tree root (the first parent's tree of
// the commit being judged). A missing policy, a policy that is not a regular
// file, and one that does not parse are all errors: the commits it would
// judge fail.
func (v *Verifier) policyAt(repo *Repository, root plumbing.Hash) *policyEntry {
	e, ok, err := lookupPath(v.treeReader(repo), root, trust.Path)
	switch {
	case err != nil:
		return &policyEntry{err: fmt.Errorf("read %s: %w", trust.Path, err)}
	case !ok:
		return &policyEntry{err: fmt.Errorf("no trust policy %s", trust.Path)}
	case e.kind != kindFile:
		return &policyEntry{err: fmt.Errorf("trust policy %s is a %s, not a regular file", trust.Path, e.kind)}
	}
	if cached, ok := v.policies.get(e.hash); ok {
		return cached
	}
	data, err := repo.readObject(plumbing.BlobObject, e.hash, maxPolicySize)
	if err != nil {
		// Not cached: a read error may be the repository's, not the blob's.
		return &policyEntry{blob: e.hash, err: fmt.Errorf("read %s: %w", trust.Path, err)}
	}
	entry := &policyEntry{blob: e.hash}
	entry.policy, entry.err = trust.Parse(trust.Path, data)
	v.policies.put(e.hash, entry)
	return entry
}
