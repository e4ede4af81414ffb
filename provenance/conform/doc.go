// Package conform decides whether an object in the cluster matches its
// manifest in Git: the one check that the admission webhook uses to deny a
// change and the reconciler uses to revert drift (DESIGN.md §2,
// "Conformance").
//
// An object conforms when every field the Git manifest sets has the same
// value in the object. Fields Git leaves out are free: server defaults,
// status, fields other controllers own, annotations Git does not name. The
// comparison is semantic where the API server rewrites what it stores:
//
//   - numbers compare by value (1 == 1.0), whatever the decoder produced;
//     strings and numbers never equal each other ("80" is not 80, because an
//     int-or-string keeps its JSON type);
//   - resource quantities compare by amount ("1000m" == "1", "1Gi" ==
//     "1073741824"), times by instant, Secret data
//     by the bytes it encodes, and a Secret's stringData against data;
//   - a zero value that the server drops (hostNetwork: false, an empty list
//     or map) equals an absent field, but a pointer's zero does not
//     (automountServiceAccountToken: false, storageClassName: "", emptyDir:
//     {} are meaningful), and null in Git leaves the field free;
//   - lists of named items are matched by their keys (containers by name,
//     container ports by containerPort and protocol, Service ports by port
//     and protocol, volumeMounts by mountPath, ...), and Git owns their
//     membership: an item the object adds is a difference. Other lists
//     compare item by item, in order; sets (finalizers) ignore order.
//
// For built-in kinds, the rules come from the types themselves: the Go types
// of k8s.io/api (omitempty, pointers, quantities) and the server-side-apply
// schema that ships with client-go (list keys and their defaults; atomic
// values such as label selectors, where a key added to a map or an item
// added to a list is a difference). For
// other kinds (CRDs) the comparator falls back to generic rules: lists of
// items with unique names are matched by name, in order, and only null, ""
// and [] equal an absent field.
//
// Server-set metadata (uid, resourceVersion, generation, creationTimestamp,
// managedFields, ...), status, gitgate's own gitgate.dev/* annotations and
// kubectl's last-applied-configuration annotation are ignored.
package conform
