// Package reconcile is gitgate's pull side: a controller-runtime reconciler
// that keeps the cluster at the verified state of every GitSource
// (DESIGN.md §2, "Reconciler").
//
// One sync of a GitSource is a short, ordered list of steps, each of which
// either succeeds or returns an error that carries the condition reason:
//
//	fetch → verify → render → policy → publish → apply → prune
//
// after which one function (setStatus) sets the conditions Ready, Verified,
// PolicyPassed, Applied and Drifted, in the style of Flux's
// source-controller.
//
//   - fetch brings the cached clone up to date (provenance.Fetch) with the
//     credentials of spec.secretRef, read from gitgate's namespace.
//   - verify proves the branch head with one provenance.Verifier per source
//     (its caches make re-verification incremental). The rollback ledger is
//     the GitSource's status (lastVerifiedCommit, verifiedTrustRoot,
//     verifiedMode), written the moment a head is verified, so a new process
//     reading the same status still refuses a rewound branch. To accept a
//     deliberate rewind, an administrator clears status.lastVerifiedCommit.
//   - render turns spec.paths into objects (provenance/render), labels each
//     with gitgate.dev/source=<name> and builds the source's Index. Without
//     spec.paths every top-level entry of the repository is rendered except
//     hidden ones (".gitgate" holds the trust policy, not objects) and
//     top-level folders named in spec.policy.paths.
//   - policy compiles spec.policy (Rego from the commit, folders of the
//     embedded library, data) in the admission profile and checks every
//     rendered object; a deny keeps the commit out, and the last good Index
//     stays published and applied. A compiled engine is reused while the
//     modules and data stay the same.
//   - publish swaps the Index into the shared index.Store (what admission
//     reads) and hands the scope and engine to the Publisher.
//   - apply is server-side apply with field manager "gitgate" and forced
//     ownership: Namespaces and CRDs first (waiting until each CRD is
//     Established), then everything else with bounded parallelism.
//   - prune deletes objects that carry the source label, that gitgate
//     applied, and that the new Index no longer declares: what left Git since
//     the last published or applied Index, and, on the first apply after the
//     process started, whatever a label-selected sweep over every listable
//     kind finds (so objects removed from Git while gitgate was down go too).
//
// # High availability
//
// The controller runs on every replica (it does not need leader election):
// each replica fetches, verifies, renders, checks and publishes, so each can
// answer admission from its own Index. Only the elected leader applies,
// prunes, writes status, records Events and tracks drift. A replica that
// becomes leader syncs every source at once.
//
// An object that leaves Git stays in the Store's withdrawn set, so that
// admission on any replica lets the prune's DELETE through. The leader
// forgets it once pruned; the other replicas look it up after each sync
// and forget it once it is gone or no longer labelled for the source (with
// prune disabled it stays withdrawn, on every replica).
//
// # Restarts and readiness
//
// A new process has no Index until a sync publishes one. When the first
// sync fails (the branch was rewound or has an unsigned commit on top, the
// remote is unreachable, a render or policy error) and status
// lastAppliedCommit is set, the reconciler publishes the Index of that
// commit instead: it was verified and applied before, and only gitgate's
// service account can write the status. Its files come from the fetched
// clone, or from the clone an earlier fetch left in the cache when the
// fetch failed; it is rendered, labelled and scoped as a sync would, with
// the policy engine compiled from it for the Publisher, but nothing is
// applied or pruned, the ledger does not move, and the conditions report
// the failure. A commit the clone does not hold (an empty cache and a
// branch rewound past it) cannot be restored.
//
// Ready, behind /readyz, is true when every GitSource that is neither
// suspended nor being deleted has an Index published by this process, or
// has had a sync of this process finish (successfully or not) while there
// is nothing applied to protect (no lastAppliedCommit). So a source that
// cannot be synced at all, a mistyped URL say, does not keep every replica
// unready; an applied source whose Index can be neither synced nor restored
// does, because admission would have no desired state for its objects
// (fail closed). Suspending such a source lets the replicas become ready
// without it.
//
// # Scheduling
//
// A source is fetched when its spec changes, when Trigger asks for it (push
// receiver), and every spec.interval (at least one second). Reconciles in
// between (drift counts changing) only refresh the status. A sync whose head
// and spec are unchanged neither re-renders nor re-applies: drift is the
// drift watcher's business, and re-applying would undo what detect mode
// only reports.
//
// # Deletion and suspension
//
// Deleting a GitSource withdraws its Index from the Store and the Publisher
// and stops its drift watch; the objects it applied stay in the cluster
// (orphaned), as Flux does with prune disabled: deleting the description of
// a deployment must not take the deployment down. The finalizer
// gitgate.dev/prune exists so that the leader sees the deletion even if it
// happens while it is away. A suspended source is neither fetched nor
// applied; its last Index stays published and its drift watched.
package reconcile
