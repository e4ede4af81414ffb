// Package drift watches the objects gitgate manages and puts them back the
// moment someone changes them outside Git (DESIGN.md §2, "Reconciler"), or,
// in detect mode, only counts and reports the change.
//
// A Watcher holds one source's Index per source (Track). For every
// group/kind those indexes declare it runs one dynamic informer, selected on
// the label gitgate.dev/source (any value), so that one watch per resource
// serves every source; a watch starts when a kind appears in a tracked Index
// and stops when no tracked source needs it any more. The informer cache keeps
// what the comparison needs and nothing else: managedFields, status and
// kubectl's last-applied annotation are stripped, because an idle controller
// holds every managed object in memory.
//
// An object has drifted when its live state does not conform to its manifest
// in the Index (conform.Compare, the check the admission webhook denies with)
// or when it was deleted. Events (add, update, delete, and the initial list
// of a new watch, which also finds objects deleted while nobody watched)
// queue the object's key; a worker compares the cached object first and, when
// it does not conform, confirms with a read from the API server, so that a
// cache that lags behind the reconciler's own apply is never mistaken for
// drift. A key is queued once however many events arrive, and a failed revert
// is retried with a per-key exponential backoff, so a broken object never
// makes the worker spin.
//
// Revert mode puts the object back at once: through the Applier (server-side
// apply of the Git manifest, field manager gitgate, with force), which
// restores every field Git sets; and, when the edit added list items Git does
// not declare (an extra container), through one JSON merge patch of the Git
// manifest, because server-side apply cannot remove fields another manager
// owns. Either write leaves a conforming object, so the admission webhook
// allows it without trusting gitgate more than anyone else.
//
// Each drift is reported as a Warning Event on the object (reason
// DriftReverted, DriftDetected, or DriftRevertFailed for the first failed
// attempt) and, optionally, as one JSON line of an audit log: what differs
// (field, Git value, live value), which commit and path Git holds, and who
// made the edit, the newest managedFields entry whose manager is not gitgate
// and not a status writer (manager, operation, time). For Secrets only the
// field paths are ever written, never values, not even in error messages.
//
// Metrics:
//
//	gitgate_drift_detected_total{source,kind}  drifts found (kind "Deployment.apps")
//	gitgate_drift_reverted_total{source,kind}  drifts put back
//	gitgate_drift_revert_seconds               edit to successful revert
//	gitgate_drift_watches                      informers running
//
// The edit time is the editor's managedFields time, which has a resolution of
// one second; when the watch event arrived within that second, the arrival is
// the tighter bound and is used instead.
//
// Order of calls the reconciler keeps: Track a new Index after applying it
// and before pruning what left Git. Tracked before the apply, the objects
// still show the old state and would be "reverted" to the new one early;
// pruned before the new Index is tracked, a deleted object would still be
// desired and be recreated.
package drift
