// Package provenance proves that the head of a Git branch is a verified
// commit in the sense of gitgate's design (DESIGN.md §2): every commit on the
// first-parent chain from an out-of-band trust root to the head carries a
// valid signature by a signer that the trust policy of its first parent
// authorizes for every path it changes, merges bring the approvals that
// policy asks for, and the head descends from the last head verified before
// (the rollback ledger).
//
// The package reads Git objects itself through go-git's object storage and
// hands the raw bytes to package signature, so the signed payload is exactly
// what Git signed and never go-git's re-encoding of it. The result of a
// verification is a Snapshot: the verdict per commit, the signers, and
// read-only access to the files of the verified head.
//
// A Verifier caches per-commit verdicts, parsed trust policies and commit
// metadata by object hash, so a long-lived process (the reconciler) keeps one
// Verifier per source and re-verification checks only new commits.
package provenance
