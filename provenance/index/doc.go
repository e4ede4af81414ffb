// Package index holds gitgate's desired state: the Index of DESIGN.md §2,
// which maps every object a verified commit declares to its desired manifest
// and its origin (source, commit, repository path, signers).
//
// An object's identity is its Key: (group, kind, namespace, name). The API
// version is deliberately not part of the key, so the same object reached
// through another served version (apps/v1 and a future apps/v2) hits the
// same entry; a request through any version is judged against one manifest.
//
// An Index is immutable once built. A Builder collects the objects of one
// source and refuses a key declared twice; Merge combines the indexes of
// several sources and refuses a key that two sources declare. A Store holds
// the current Index of every source behind an atomic pointer: the reconciler
// Publishes a new Index for its source (the merge happens there, under a
// mutex that only publishers take), and the admission webhook reads
// Current() on its hot path without locks. Lookup does not allocate.
//
// The Store also remembers what left Git: when a source publishes an Index
// that no longer declares a key its previous one did, the key becomes
// withdrawn (Index.Withdrawn), which is what the webhook needs to allow the
// prune's DELETE of an object that an earlier verified commit declared and
// the current one removed. Index.Removed computes the same difference
// between any two indexes, for the reconciler's prune.
//
// Namespaces: an object whose manifest has no metadata.namespace keeps ""
// in its key. Whether a kind is namespaced is known only to the API server
// (a RESTMapper, which may not know a CRD the same commit installs), so the
// caller decides: with WithNamespaces it supplies a default namespace and a
// Scope function, and the Builder then puts namespaced objects without a
// namespace into the default one and clears the namespace of cluster-scoped
// objects, in the key and in the desired manifest alike.
package index
