package index

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Scope reports whether objects of group/kind gk are namespaced. known is
// false when the caller cannot tell (a CRD that the same commit installs is
// not served yet); the object's namespace is then kept as written.
type Scope func(gk schema.GroupKind) (namespaced, known bool)

// Option configures a Builder.
type Option func(*Builder)

// WithNamespaces makes the Builder resolve namespaces as the API server
// will: a namespaced object without metadata.namespace goes into
// defaultNamespace, and a cluster-scoped object loses the namespace its
// manifest names (the API server ignores it there). Both the key and the
// desired manifest change. Without this option namespaces are kept as
// written, and an object without one has "" in its key.
func WithNamespaces(defaultNamespace string, scope Scope) Option {
	return func(b *Builder) {
		b.defaultNamespace = defaultNamespace
		b.scope = scope
	}
}

// Builder collects the objects of one source into an Index. It is not safe
// for concurrent use.
type Builder struct {
	defaultNamespace string
	scope            Scope
	entries          map[Key]*Entry
}

// NewBuilder returns an empty Builder.
func NewBuilder(opts ...Option) *Builder {
	b := &Builder{entries: map[Key]*Entry{}}
	for _, o := range opts {
		o(b)
	}
	return b
}

// Add records obj with its origin and returns its key. The Builder takes
// obj over: it may set or clear its namespace (WithNamespaces) and the
// Index will share it with every reader, so the caller must not change it
// afterwards. A key that is already present is a *ConflictError naming
// both origins; an object without apiVersion, kind or name wraps
// ErrInvalidObject.
func (b *Builder) Add(obj *unstructured.Unstructured, origin Origin) (Key, error) {
	k, err := KeyOf(obj)
	if err != nil {
		return Key{}, err
	}
	if b.scope != nil {
		if namespaced, known := b.scope(k.GroupKind()); known {
			switch {
			case namespaced && k.Namespace == "" && b.defaultNamespace != "":
				k.Namespace = b.defaultNamespace
				obj.SetNamespace(k.Namespace)
			case !namespaced && k.Namespace != "":
				k.Namespace = ""
				unstructured.RemoveNestedField(obj.Object, "metadata", "namespace")
			}
		}
	}
	if old, dup := b.entries[k]; dup {
		return k, &ConflictError{Key: k, First: old.Origin, Second: origin}
	}
	b.entries[k] = &Entry{Key: k, Object: obj, Origin: origin}
	return k, nil
}

// Len returns the number of objects added so far.
func (b *Builder) Len() int { return len(b.entries) }

// Build returns the Index of the objects added so far and empties the
// Builder, so the Index it returned stays immutable.
func (b *Builder) Build() *Index {
	entries := b.entries
	b.entries = map[Key]*Entry{}
	return newIndex(entries, nil)
}
