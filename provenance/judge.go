package provenance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"gitgate.dev/gitgate/provenance/signature"
	"gitgate.dev/gitgate/provenance/trust"
)

// evaluate judges commit h of a first-parent chain by the trust policy of its
// first parent (DESIGN.md §2). Failures are verdicts; only a repository that
// cannot be read (missing objects) or an ended context is an error.
//
// The Ed25519 equation of a non-merge commit's signature may be left to
// batch: the verdict returned then assumes the signature holds, and stands
// only if the Pending's Err is nil after the batch is checked; otherwise the
// commit fails with that error as its reason. Every other check comes after
// the signature's in the order below and cannot fail the commit
// differently, so this is the verdict evaluating in order would give.
// Merges check their signature at once: what follows it (the commits they
// bring in) may read objects that a failed signature would never have
// asked for.
func (v *Verifier) evaluate(ctx context.Context, repo *Repository, it judgeItem, batch *signature.Batch) (CommitResult, signature.Pending, error) {
	var pending signature.Pending
	res, err := v.evaluateInOrder(ctx, repo, it, func(c *signature.Commit, pol *trust.Policy) (signature.Verified, error) {
		if len(c.Parents) != 1 || batch == nil {
			return v.verifySignature(c, pol)
		}
		if len(c.Signature) == 0 {
			return signature.Verified{}, signature.ErrUnsigned
		}
		ver, p, err := pol.Keys().VerifyDeferred(c.Payload, c.Signature, v.now(), batch)
		pending = p
		return ver, err
	})
	if err != nil {
		return res, signature.Pending{}, err
	}
	// pending is set only when the signature was left to the batch and
	// everything before it passed.
	return res, pending, nil
}

// evaluateInOrder is evaluate with the signature check made by verify.
func (v *Verifier) evaluateInOrder(ctx context.Context, repo *Repository, it judgeItem, verify func(*signature.Commit, *trust.Policy) (signature.Verified, error)) (CommitResult, error) {
	h := it.h
	res := CommitResult{SHA: h.String(), Signers: []Signer{}}
	fail := func(reason string) (CommitResult, error) {
		res.Reason = reason
		return res, nil
	}
	c := it.c
	if c == nil {
		var err error
		if c, err = v.commit(repo, h); err != nil {
			return v.readFailure(repo, &res, err)
		}
	}
	if len(c.Parents) == 0 {
		return fail("root commit: there is no parent whose trust policy could authorize it")
	}
	p1h, _ := objectHash(c.Parents[0]) // checked when the commit was parsed
	p1 := it.p1
	if p1 == nil {
		var err error
		if p1, err = v.commit(repo, p1h); err != nil {
			return v.readFailure(repo, &res, fmt.Errorf("first parent: %w", err))
		}
	}
	pol := v.policyAt(repo, mustHash(p1.Tree))
	if pol.err != nil {
		if errors.Is(pol.err, errObjectMissing) {
			return res, inputErrorf(ErrRepository, "%s: %v", repo.Location(), pol.err)
		}
		return fail(fmt.Sprintf("trust policy of parent %s: %v", short(p1h), pol.err))
	}
	changed, err := diffTrees(v.treeReader(repo), mustHash(c.Tree), mustHash(p1.Tree))
	if err != nil {
		return v.readFailure(repo, &res, err)
	}
	signer, err := verify(c, pol.policy)
	if err != nil {
		return fail(err.Error())
	}
	res.Signers = append(res.Signers, Signer{Name: signer.Signer, Format: signer.Format})
	if len(c.Parents) == 1 {
		if reason := checkPaths(pol.policy, signer.Signer, changed, true); reason != "" {
			return fail(reason)
		}
		res.Verified = true
		return res, nil
	}
	return v.evaluateMerge(ctx, repo, res, c, pol, signer.Signer, changed)
}

// evaluateMerge applies rule 3 of a verified commit: the merge and every
// commit it brings in are signed by signers authorized for what each changes,
// and the distinct signers among them approve every path the merge changes
// as often as its rule asks.
func (v *Verifier) evaluateMerge(ctx context.Context, repo *Repository, res CommitResult, c *signature.Commit, pol *policyEntry, signer string, changed []string) (CommitResult, error) {
	if reason := checkPaths(pol.policy, signer, changed, false); reason != "" {
		res.Reason = "merge: " + reason
		return res, nil
	}
	parents := make([]plumbing.Hash, len(c.Parents))
	for i, p := range c.Parents {
		parents[i] = mustHash(p)
	}
	side, err := v.mergedIn(ctx, repo, parents)
	if err != nil {
		if errors.Is(err, errObjectMissing) || errors.Is(err, ErrShallow) {
			return res, inputErrorf(ErrRepository, "%s: %v", repo.Location(), err)
		}
		if ctx.Err() != nil {
			return res, err
		}
		res.Reason = "merge: " + err.Error()
		return res, nil
	}
	approvers := map[string]bool{signer: true}
	seen := map[Signer]bool{res.Signers[0]: true}
	for _, s := range side {
		sr, err := v.sideCommit(repo, s, pol)
		if err != nil {
			return res, err
		}
		if sr.reason != "" {
			res.Reason = fmt.Sprintf("merged commit %s: %s", short(s), sr.reason)
			return res, nil
		}
		approvers[sr.signer.Name] = true
		if !seen[sr.signer] {
			seen[sr.signer] = true
			res.Signers = append(res.Signers, sr.signer)
		}
	}
	if reason := checkApprovals(pol.policy, approvers, changed); reason != "" {
		res.Reason = reason
		return res, nil
	}
	res.Verified = true
	return res, nil
}

// readFailure turns an error reading the commit's objects into a verdict
// (malformed objects: a crafted commit fails) or an input error (missing
// objects: the repository is incomplete).
func (v *Verifier) readFailure(repo *Repository, res *CommitResult, err error) (CommitResult, error) {
	if errors.Is(err, errObjectMissing) {
		return *res, inputErrorf(ErrRepository, "%s: %v", repo.Location(), err)
	}
	res.Reason = err.Error()
	return *res, nil
}

// verifySignature checks c's signature against the policy's keys.
func (v *Verifier) verifySignature(c *signature.Commit, pol *trust.Policy) (signature.Verified, error) {
	if len(c.Signature) == 0 {
		return signature.Verified{}, signature.ErrUnsigned
	}
	return pol.Keys().Verify(c.Payload, c.Signature, v.now())
}

// checkPaths checks that signer may change every path under the policy. A
// direct (non-merge) commit cannot satisfy a rule asking for two or more
// approvals. It returns the first problem, and how many paths have one.
func checkPaths(pol *trust.Policy, signer string, paths []string, direct bool) string {
	var first string
	n := 0
	for _, p := range paths {
		var reason string
		rule := pol.RuleFor(p)
		switch {
		case rule == nil:
			reason = fmt.Sprintf("path %s matches no rule of the trust policy, so it cannot change", p)
		case !rule.Allows(signer):
			reason = fmt.Sprintf("signer %s may not change %s (rules[%d], paths %s, allows %s)",
				signer, p, rule.Index, strings.Join(rule.Paths, ", "), strings.Join(rule.Signers, ", "))
		case direct && rule.Approvals >= 2:
			reason = fmt.Sprintf("%s needs %d approvals (rules[%d], paths %s); a direct commit carries only its signer's, so the change must come through a signed merge",
				p, rule.Approvals, rule.Index, strings.Join(rule.Paths, ", "))
		}
		if reason != "" {
			if n == 0 {
				first = reason
			}
			n++
		}
	}
	return withMore(first, n)
}

// checkApprovals counts, for every path a merge changes, the approvers its
// rule authorizes.
func checkApprovals(pol *trust.Policy, approvers map[string]bool, paths []string) string {
	var first string
	n := 0
	for _, p := range paths {
		rule := pol.RuleFor(p)
		if rule == nil || rule.Approvals <= 1 {
			continue
		}
		var got []string
		for name := range approvers {
			if rule.Allows(name) {
				got = append(got, name)
			}
		}
		if len(got) < rule.Approvals {
			if n == 0 {
				slices.Sort(got)
				first = fmt.Sprintf("%s needs %d approvals (rules[%d], paths %s) but the merge brings %d (%s); approvals come from distinct authorized signers of the merge and the commits it brings in",
					p, rule.Approvals, rule.Index, strings.Join(rule.Paths, ", "), len(got), strings.Join(got, ", "))
			}
			n++
		}
	}
	return withMore(first, n)
}

func withMore(first string, n int) string {
	if n > 1 {
		return fmt.Sprintf("%s (and %d more paths)", first, n-1)
	}
	return first
}

type sideKey struct {
	commit, policy plumbing.Hash
}

type sideResult struct {
	signer Signer
	reason string
}

// sideCommit judges a commit a merge brings in, by the merge's policy: a
// valid signature by a signer authorized for every path it changes relative
// to its own first parent. Approvals are not applied to it alone.
func (v *Verifier) sideCommit(repo *Repository, h plumbing.Hash, pol *policyEntry) (sideResult, error) {
	key := sideKey{commit: h, policy: pol.blob}
	if r, ok := v.sides.get(key); ok {
		return r, nil
	}
	var res CommitResult
	c, err := v.commit(repo, h)
	if err != nil {
		res, err := v.readFailure(repo, &res, err)
		return sideResult{reason: res.Reason}, err
	}
	parentTree := plumbing.ZeroHash
	if len(c.Parents) > 0 {
		p, err := v.commit(repo, mustHash(c.Parents[0]))
		if err != nil {
			res, err := v.readFailure(repo, &res, fmt.Errorf("first parent: %w", err))
			return sideResult{reason: res.Reason}, err
		}
		parentTree = mustHash(p.Tree)
	}
	changed, err := diffTrees(v.treeReader(repo), mustHash(c.Tree), parentTree)
	if err != nil {
		res, err := v.readFailure(repo, &res, err)
		return sideResult{reason: res.Reason}, err
	}
	var out sideResult
	if ver, err := v.verifySignature(c, pol.policy); err != nil {
		out.reason = err.Error()
	} else {
		out.signer = Signer{Name: ver.Signer, Format: ver.Format}
		out.reason = checkPaths(pol.policy, ver.Signer, changed, false)
	}
	v.sides.put(key, out)
	return out, nil
}

// mustHash converts an object name that objectHash already accepted when
// the commit was parsed (Verifier.commit checks tree and parents).
func mustHash(s string) plumbing.Hash {
	h, _ := parseSHA(s)
	return h
}
