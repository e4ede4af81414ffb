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
