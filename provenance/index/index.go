package index

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Key is the identity of an object: its API group ("" for the core group),
// kind, namespace ("" for cluster-scoped objects, and for namespaced objects
// whose manifest names none; see the package doc) and name.
type Key struct {
	Group     string
	Kind      string
	Namespace string
	Name      string
}

// ErrInvalidObject is returned for an object whose identity cannot be
// read: no apiVersion, kind or name, or a malformed apiVersion.
var ErrInvalidObject = errors.New("invalid object")

// KeyOf returns the key of obj. The group comes from apiVersion; the version
// is dropped.
func KeyOf(obj *unstructured.Unstructured) (Key, error) {
	if obj == nil {
		return Key{}, fmt.Errorf("%w: nil object", ErrInvalidObject)
	}
	gv, err := schema.ParseGroupVersion(obj.GetAPIVersion())
	if err != nil || gv.Version == "" {
		return Key{}, fmt.Errorf("%w: apiVersion %q is not group/version or version", ErrInvalidObject, obj.GetAPIVersion())
	}
	k := Key{Group: gv.Group, Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
	if k.Kind == "" {
		return Key{}, fmt.Errorf("%w: no kind", ErrInvalidObject)
	}
	if k.Name == "" {
		return Key{}, fmt.Errorf("%w: %s has no metadata.name", ErrInvalidObject, k.Kind)
	}
	return k, nil
}

// GroupKind returns the key's group and kind.
func (k Key) GroupKind() schema.GroupKind { return schema.GroupKind{Group: k.Group, Kind: k.Kind} }

// String formats the key as "Kind.group namespace/name", leaving out the
// group of core objects and the namespace of cluster-scoped ones:
// "Deployment.apps web/frontend", "Namespace web".
func (k Key) String() string {
	var b strings.Builder
	b.WriteString(k.Kind)
	if k.Group != "" {
		b.WriteByte('.')
		b.WriteString(k.Group)
	}
	b.WriteByte(' ')
	if k.Namespace != "" {
		b.WriteString(k.Namespace)
		b.WriteByte('/')
	}
	b.WriteString(k.Name)
	return b.String()
}

// Compare orders keys by group, kind, namespace, then name.
func (k Key) Compare(o Key) int {
	if c := strings.Compare(k.Group, o.Group); c != 0 {
		return c
	}
	if c := strings.Compare(k.Kind, o.Kind); c != 0 {
		return c
	}
	if c := strings.Compare(k.Namespace, o.Namespace); c != 0 {
		return c
	}
	return strings.Compare(k.Name, o.Name)
}

// Origin says where a desired manifest comes from.
type Origin struct {
	// Source names the GitSource (or the CLI's repository and branch).
	Source string
	// Commit is the full SHA of the verified commit.
	Commit string
	// Path is the repository path of the file that declares the object;
	// for kustomize output, the kustomization file.
	Path string
	// Signers are the trust-policy names of the commit's signers (for a
	// merge, its approvers). The slice is shared between entries; treat it
	// as read-only.
	Signers []string
}

// Entry is one object of the desired state. Object is shared by every
// reader of the Index: treat it as read-only (DeepCopy before changing it).
type Entry struct {
	Key    Key
	Object *unstructured.Unstructured
	Origin Origin
}

// Index is an immutable desired state. The zero value and a nil *Index are
// empty indexes. It is safe for concurrent use.
type Index struct {
	// entries point to their Entry so that map slots stay small (a key and
	// a pointer), which keeps lookups in a 100k-entry map cache-friendly.
	entries map[Key]*Entry
	keys    []Key // sorted
	kinds   []schema.GroupKind
	counts  map[schema.GroupKind]int
	sources []string
	// withdrawn holds keys that an earlier published index of a source
	// declared and its current one does not; only a Store fills it.
	withdrawn map[Key]*Entry
}

// newIndex builds the derived views over entries, which it takes over.
func newIndex(entries, withdrawn map[Key]*Entry) *Index {
	ix := &Index{entries: entries, withdrawn: withdrawn, counts: map[schema.GroupKind]int{}}
	ix.keys = slices.SortedFunc(maps.Keys(entries), Key.Compare)
	sources := map[string]bool{}
	for _, e := range entries {
		ix.counts[e.Key.GroupKind()]++
		sources[e.Origin.Source] = true
	}
	ix.kinds = slices.SortedFunc(maps.Keys(ix.counts), compareGroupKind)
	ix.sources = slices.Sorted(maps.Keys(sources))
	return ix
}

func compareGroupKind(a, b schema.GroupKind) int {
	return cmp.Or(strings.Compare(a.Group, b.Group), strings.Compare(a.Kind, b.Kind))
}

// Lookup returns the entry for key. It does not allocate.
func (ix *Index) Lookup(key Key) (Entry, bool) {
	if ix == nil {
		return Entry{}, false
	}
	if e, ok := ix.entries[key]; ok {
		return *e, true
	}
	return Entry{}, false
}

// Withdrawn returns the last entry of an object that an earlier published
// index of its source declared and the current one does not (the object
// left Git and may be pruned). Only indexes returned by a Store have
// withdrawn entries. It does not allocate.
func (ix *Index) Withdrawn(key Key) (Entry, bool) {
	if ix == nil {
		return Entry{}, false
	}
	if e, ok := ix.withdrawn[key]; ok {
		return *e, true
	}
	return Entry{}, false
}

// Len returns the number of entries.
func (ix *Index) Len() int {
	if ix == nil {
		return 0
	}
	return len(ix.entries)
}

// All yields the entries in key order.
func (ix *Index) All() iter.Seq[Entry] {
	return func(yield func(Entry) bool) {
		if ix == nil {
			return
		}
		for _, k := range ix.keys {
			if !yield(*ix.entries[k]) {
				return
			}
		}
	}
}

// Kinds returns the distinct group/kinds of the entries, sorted: what the
// reconciler watches.
func (ix *Index) Kinds() []schema.GroupKind {
	if ix == nil {
		return nil
	}
	return slices.Clone(ix.kinds)
}

// Count returns the number of entries of group/kind gk.
func (ix *Index) Count(gk schema.GroupKind) int {
	if ix == nil {
		return 0
	}
	return ix.counts[gk]
}

// Counts returns the number of entries per group/kind.
func (ix *Index) Counts() map[schema.GroupKind]int {
	if ix == nil {
		return map[schema.GroupKind]int{}
	}
	return maps.Clone(ix.counts)
}

// Sources returns the distinct sources of the entries, sorted.
func (ix *Index) Sources() []string {
	if ix == nil {
		return nil
	}
	return slices.Clone(ix.sources)
}

// Removed returns the entries of prev whose keys ix does not hold, in key
// order: the objects that left Git between prev and ix. A nil prev has
// nothing to remove.
func (ix *Index) Removed(prev *Index) []Entry {
	if prev == nil {
		return nil
	}
	var out []Entry
	for _, k := range prev.keys {
		if _, ok := ix.Lookup(k); !ok {
			out = append(out, *prev.entries[k])
		}
	}
	return out
}

// ErrConflict is wrapped by a *ConflictError.
var ErrConflict = errors.New("object declared more than once")

// ConflictError reports a key declared twice: by two files of one source,
// or by two sources.
type ConflictError struct {
	Key           Key
	First, Second Origin
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s is declared twice: by %s and by %s", e.Key, describe(e.First), describe(e.Second))
}

// Unwrap lets errors.Is match ErrConflict.
func (e *ConflictError) Unwrap() error { return ErrConflict }

func describe(o Origin) string {
	s := o.Path
	if s == "" {
		s = "(no path)"
	}
	if o.Source != "" {
		s = "source " + o.Source + " path " + s
	}
	if o.Commit != "" {
		s += " at " + shortSHA(o.Commit)
	}
	return s
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// Merge combines indexes of different sources into one. A key that two of
// them hold is a *ConflictError naming both origins; the first conflict in
// key order is reported. Withdrawn entries are not carried over.
func Merge(ixs ...*Index) (*Index, error) {
	n := 0
	for _, ix := range ixs {
		n += ix.Len()
	}
	entries := make(map[Key]*Entry, n)
	var conflicts []*ConflictError
	for _, ix := range ixs {
		if ix == nil {
			continue
		}
		for _, k := range ix.keys {
			e := ix.entries[k]
			if old, dup := entries[k]; dup {
				conflicts = append(conflicts, &ConflictError{Key: k, First: old.Origin, Second: e.Origin})
				continue
			}
			entries[k] = e
		}
	}
	if len(conflicts) > 0 {
		return nil, slices.MinFunc(conflicts, func(a, b *ConflictError) int { return a.Key.Compare(b.Key) })
	}
	return newIndex(entries, nil), nil
}
