package conform

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// DiffKind says how a field differs.
type DiffKind uint8

const (
	// Changed: the field is in both, with different values.
	Changed DiffKind = iota + 1
	// Missing: Git sets the field (or list item); the object lacks it.
	Missing
	// Extra: the object has a list item (or a key of an atomic map) that Git
	// does not declare, where Git owns the whole list or map (an added
	// container, a label added to a selector).
	Extra
)

func (k DiffKind) String() string {
	switch k {
	case Changed:
		return "changed"
	case Missing:
		return "missing"
	case Extra:
		return "extra"
	default:
		return "unknown"
	}
}

// Diff is one field where the object does not match Git.
type Diff struct {
	// Path names the field: spec.replicas,
	// spec.template.spec.containers[name=web].image,
	// spec.ports[port=80,protocol=TCP].targetPort, metadata.labels["app.kubernetes.io/name"].
	Path string
	Kind DiffKind
	// Git is the value in the Git manifest (nil for Extra).
	Git any
	// Live is the value in the object (nil for Missing).
	Live any
}

// Redacted stands in for the values of a Secret's data in a Diff, so that a
// denial message or an audit line never carries a secret.
const Redacted = "(redacted)"

// String renders the difference for a denial message.
func (d Diff) String() string {
	switch d.Kind {
	case Missing:
		return fmt.Sprintf("%s: Git has %s, the object leaves it out", d.Path, render(d.Git))
	case Extra:
		return fmt.Sprintf("%s: the object has %s, Git does not declare it", d.Path, render(d.Live))
	default:
		return fmt.Sprintf("%s: Git has %s, the object has %s", d.Path, render(d.Git), render(d.Live))
	}
}

// render prints a value compactly; long values are cut, because a denial
// message is read by a person.
func render(v any) string {
	var s string
	switch x := v.(type) {
	case string:
		s = fmt.Sprintf("%q", x)
	default:
		s = fmt.Sprint(formatValue(v))
	}
	const limit = 200
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return s
}

func formatValue(v any) string {
	var b strings.Builder
	writeValue(&b, v)
	return b.String()
}

// writeValue prints maps with sorted keys so the output is stable.
func writeValue(b *strings.Builder, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k)
			b.WriteString(": ")
			writeValue(b, x[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeValue(b, e)
		}
		b.WriteByte(']')
	case string:
		fmt.Fprintf(b, "%q", x)
	case nil:
		b.WriteString("null")
	default:
		fmt.Fprint(b, x)
	}
}

// Conforms reports whether live conforms to desired: every field the Git
// manifest desired sets has the same value in live. Both are objects as
// decoded from JSON or YAML (map[string]any, []any, string, bool, float64,
// int64, json.Number, nil). When live does not conform, diffs lists every
// difference, sorted by path. Neither argument is modified.
func Conforms(desired, live map[string]any) (ok bool, diffs []Diff) {
	diffs = Compare(desired, live)
	return len(diffs) == 0, diffs
}

// Compare returns the differences between the Git manifest desired and the
// object live, sorted by path; none when live conforms.
func Compare(desired, live map[string]any) []Diff {
	apiVersion, _ := desired["apiVersion"].(string)
	kind, _ := desired["kind"].(string)
	c := comparer{root: shapes.rootShape(apiVersion, kind)}
	c.path = c.pathBuf[:0]
	if isCoreSecret(apiVersion, kind) {
		desired = withStringData(desired)
		c.secret = true
	}
	c.object(desired, live)
	if len(c.diffs) == 0 {
		return nil
	}
	slices.SortStableFunc(c.diffs, func(a, b Diff) int { return cmp.Compare(a.Path, b.Path) })
	return c.diffs
}

// comparer walks the Git manifest and the object side by side. The path is
// a stack of segments rendered only when a difference is found, so a
// conforming object costs no string building.
type comparer struct {
	root   *shape
	secret bool
	// atomic counts the atomic structs and maps being walked: inside one,
	// every map owns its keys (a selector's matchLabels) and every list its
	// items and their order, as server-side apply owns the whole value.
	// Struct fields Git leaves out stay free even there, because the server
	// defaults some (a fieldRef's apiVersion, an RBAC subject's apiGroup).
	atomic  int
	path    []segment
	pathBuf [16]segment
	diffs   []Diff
}

func (c *comparer) push(s segment) { c.path = append(c.path, s) }
func (c *comparer) pop()           { c.path = c.path[:len(c.path)-1] }

func (c *comparer) add(kind DiffKind, git, live any) {
	d := Diff{Path: renderPath(c.path), Kind: kind, Git: git, Live: live}
	if c.secret && len(c.path) > 0 && (c.path[0].name == "data" || c.path[0].name == "stringData") {
		if d.Git != nil {
			d.Git = Redacted
		}
		if d.Live != nil {
			d.Live = Redacted
		}
	}
	c.diffs = append(c.diffs, d)
}

// object compares the top level: status is the server's, and metadata has
// server-owned fields and gitgate's own annotations.
func (c *comparer) object(git, live map[string]any) {
	for k, gv := range git {
		switch k {
		case "status":
			continue
		case "metadata":
			c.metadata(gv, live[k])
			continue
		}
		c.field(c.root, k, gv, live)
	}
}

// ignoredMeta are the metadata fields the server sets; a manifest that sets
// them anyway cannot expect them to hold.
var ignoredMeta = map[string]bool{
	"uid": true, "resourceVersion": true, "generation": true, "creationTimestamp": true,
	"deletionTimestamp": true, "deletionGracePeriodSeconds": true, "managedFields": true,
	"selfLink": true,
}

// LastAppliedAnnotation is written by client-side kubectl apply.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// ProvenancePrefix starts the annotations gitgate stamps on admitted objects.
const ProvenancePrefix = "gitgate.dev/"

func ignoredAnnotation(k string) bool {
	return strings.HasPrefix(k, ProvenancePrefix) || k == LastAppliedAnnotation
}

func (c *comparer) metadata(gv, lv any) {
	var metaShape *shape
	if f := c.root.field("metadata"); f != nil {
		metaShape = f.shape
	}
	c.push(segment{name: "metadata"})
	defer c.pop()
	gm, ok := gv.(map[string]any)
	if !ok {
		if gv != nil {
			c.value(metaShape, gv, lv)
		}
		return
	}
	lm, _ := lv.(map[string]any)
	for k, v := range gm {
		switch {
		case ignoredMeta[k]:
			continue
		case k == "annotations":
			c.annotations(v, lm[k])
			continue
		}
		c.field(metaShape, k, v, lm)
	}
}

func (c *comparer) annotations(gv, lv any) {
	c.push(segment{name: "annotations"})
	defer c.pop()
	ga, ok := gv.(map[string]any)
	if !ok {
		if gv != nil {
			c.value(nil, gv, lv)
		}
		return
	}
	la, _ := lv.(map[string]any)
	for k, v := range ga {
		if ignoredAnnotation(k) {
			continue
		}
		c.field(nil, k, v, la)
	}
}

// field compares key k of a Git map with the same key of the live map l
// (which may be nil). s is the shape of the map holding k.
func (c *comparer) field(s *shape, k string, gv any, l map[string]any) {
	if gv == nil {
		// null in Git unsets the field: whatever the server keeps is free.
		return
	}
	f, child := s.member(k)
	lv, present := l[k]
	if !present || lv == nil {
		if absentMatches(f, child, gv) {
			return
		}
		c.push(segment{name: k})
		c.add(Missing, gv, nil)
		c.pop()
		return
	}
	if f != nil && (f.allocated || (f.omitZero && gv == "")) && isZeroScalar(gv) {
		// Git's zero is Go's "unset": the server defaults or allocates it
		// (a Service type, an imagePullPolicy, a nodePort).
		return
	}
	if f != nil && f.allocated && isEmptyCollection(gv) {
		return
	}
	c.push(segment{name: k})
	c.value(child, gv, lv)
	c.pop()
}

// value compares a Git value (not nil) with a live value.
func (c *comparer) value(s *shape, gv, lv any) {
	if shared(gv, lv) {
		// The object holds the manifest's own map or list (the webhook
		// decodes a request like its manifest, sharing what is equal), and
		// a value always conforms to itself (FuzzConforms).
		return
	}
	switch g := gv.(type) {
	case map[string]any:
		l, ok := lv.(map[string]any)
		if !ok {
			c.add(Changed, gv, lv)
			return
		}
		c.mapping(s, g, l)
	case []any:
		l, ok := lv.([]any)
		if !ok {
			if lv == nil && len(g) == 0 {
				return
			}
			c.add(Changed, gv, lv)
			return
		}
		c.list(s, g, l)
	default:
		if !scalarEqual(s, gv, lv) {
			c.add(Changed, gv, lv)
		}
	}
}

// shared reports whether a and b are the same map, or the same list
// (the same first item and length), not merely equal ones.
func shared(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		return ok && len(x) > 0 && reflect.ValueOf(x).UnsafePointer() == reflect.ValueOf(y).UnsafePointer()
	case []any:
		y, ok := b.([]any)
		return ok && len(x) > 0 && len(x) == len(y) && &x[0] == &y[0]
	}
	return false
}

func (c *comparer) mapping(s *shape, g, l map[string]any) {
	if s != nil && s.atomic {
		c.atomic++
		defer func() { c.atomic-- }()
	}
	for k, gv := range g {
		c.field(s, k, gv, l)
	}
	if c.atomic == 0 || s == nil || s.kind != shapeMap {
		return
	}
	for k, lv := range l {
		if gv, ok := g[k]; (ok && gv != nil) || isEmptyValue(lv) {
			continue
		}
		c.push(segment{name: k})
		c.add(Extra, nil, lv)
		c.pop()
	}
}

// member returns the field record (nil for map entries and unknown fields)
// and the shape of key k in a map of shape s.
func (s *shape) member(k string) (*field, *shape) {
	if s == nil {
		return nil, nil
	}
	switch s.kind {
	case shapeStruct:
		if f := s.fields[k]; f != nil {
			return f, f.shape
		}
	case shapeMap:
		return nil, s.elem
	}
	return nil, nil
}

func (s *shape) field(k string) *field {
	f, _ := s.member(k)
	return f
}

// absentMatches reports whether a Git value gv (not nil) is satisfied by a
// field the object leaves out.
func absentMatches(f *field, child *shape, gv any) bool {
	switch g := gv.(type) {
	case []any:
		// Kubernetes treats an empty list and no list alike.
		return len(g) == 0
	case map[string]any:
		// An empty map-typed field is dropped by the server; an empty
		// struct is not (emptyDir: {} selects a volume type), so a missing
		// one was removed.
		return isEmptyMap(g) && child != nil && child.kind == shapeMap
	case string:
		if g != "" {
			return false
		}
		// A pointer string keeps "" (storageClassName: "" is not nil).
		return f == nil || f.omitZero || f.allocated
	default:
		return f != nil && (f.omitZero || f.allocated) && isZeroScalar(gv)
	}
}

func isEmptyMap(m map[string]any) bool {
	for _, v := range m {
		if v != nil {
			return false
		}
	}
	return true
}

func isEmptyCollection(v any) bool {
	switch x := v.(type) {
	case []any:
		return len(x) == 0
	case map[string]any:
		return isEmptyMap(x)
	}
	return false
}

// isEmptyValue: a value that carries nothing (null, "", [], {}), which an
// atomic map may hold beyond what Git lists without meaning anything.
func isEmptyValue(v any) bool {
	if v == nil || v == "" {
		return true
	}
	return isEmptyCollection(v)
}

func isZeroScalar(v any) bool {
	switch x := v.(type) {
	case string:
		return x == ""
	case bool:
		return !x
	default:
		n, ok := toNumber(v)
		return ok && n.isZero()
	}
}

func isCoreSecret(apiVersion, kind string) bool {
	return apiVersion == "v1" && kind == "Secret"
}
