package conform

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/applyconfigurations"
	"k8s.io/client-go/kubernetes/scheme"
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"
)

// A shape is what the comparator knows about one node of a built-in kind: it
// is compiled once per kind from two sources, because neither is enough alone.
// The Go types of k8s.io/api say how the API server serializes a value
// (omitempty on a non-pointer drops a zero value; a pointer keeps it), and
// which scalars are really quantities, times or bytes. The server-side-apply
// schema that ships with client-go says how lists are merged (associative
// lists and their keys, with defaults such as protocol=TCP; atomic lists;
// sets) and which structs are atomic. A nil *shape means "unknown": CRDs,
// RawExtension, fields newer than these types; the comparator then falls back
// to generic rules.
type shape struct {
	kind   shapeKind
	scalar scalarKind
	fields map[string]*field // kind == shapeStruct
	elem   *shape            // kind == shapeMap (values) or shapeList (items)
	// atomic maps and structs are owned whole: keys the live object adds are
	// differences, not free fields (a LabelSelector gaining a label selects
	// other Pods).
	atomic bool
	list   listKind
	keys   []listKey // list == listKeyed
}

type shapeKind uint8

const (
	shapeScalar shapeKind = iota
	shapeStruct
	shapeMap
	shapeList
)

type scalarKind uint8

const (
	scalarPlain scalarKind = iota
	scalarQuantity
	scalarTime
	scalarBytes
)

type listKind uint8

const (
	listAtomic listKind = iota // compared item by item, in order
	listKeyed                  // items matched by keys
	listSet                    // scalars compared as a set
)

// listKey is one key field of an associative list, with the value the server
// defaults it to when an item leaves it out (ports: protocol=TCP).
type listKey struct {
	name   string
	def    any
	hasDef bool
}

type field struct {
	shape *shape
	// omitZero: a non-pointer field with omitempty, so the server drops a
	// zero value (hostNetwork: false, readOnly: false, replicas of nothing).
	omitZero bool
	// allocated: the server or a controller fills a value in when Git gives
	// the zero value (a Service's clusterIPs and nodePorts, a hostPort under
	// hostNetwork), so a zero in Git means "let the server choose".
	allocated bool
}

var (
	quantityType    = reflect.TypeFor[resource.Quantity]()
	intOrStringType = reflect.TypeFor[intstr.IntOrString]()
	timeType        = reflect.TypeFor[metav1.Time]()
	microTimeType   = reflect.TypeFor[metav1.MicroTime]()
	rawType         = reflect.TypeFor[runtime.RawExtension]()
	bytesType       = reflect.TypeFor[[]byte]()
	marshalerType   = reflect.TypeFor[json.Marshaler]()
)

// allocatedFields names Go struct fields (by type and JSON name) whose zero
// value in a manifest asks the server to pick a value.
var allocatedFields = map[reflect.Type]map[string]bool{
	reflect.TypeFor[corev1.ServiceSpec](): {
		"clusterIP": true, "clusterIPs": true, "ipFamilies": true, "healthCheckNodePort": true,
	},
	reflect.TypeFor[corev1.ServicePort]():   {"nodePort": true},
	reflect.TypeFor[corev1.ContainerPort](): {"hostPort": true},
}

// registry compiles shapes lazily, once per built-in apiVersion/kind, and
// caches them so the hot path is a map lookup.
type registry struct {
	once   sync.Once
	smd    *smdschema.Schema
	scheme *runtime.Scheme

	cache sync.Map // "apiVersion/kind" -> *shape

	mu    sync.Mutex
	built map[shapeKey]*shape
}

type shapeKey struct {
	t    reflect.Type
	name string
}

var shapes = &registry{scheme: scheme.Scheme}

func (r *registry) load() {
	r.once.Do(func() {
		r.built = map[shapeKey]*shape{}
		// The apply schema is only reachable through a typed value; a
		// ConfigMap is the cheapest object to convert.
		tv, err := applyconfigurations.NewTypeConverter(r.scheme).ObjectToTyped(&corev1.ConfigMap{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		})
		if err == nil {
			r.smd = tv.Schema()
		}
	})
}

// rootShape returns the shape of a built-in kind, or nil when the kind is
// not built in (CRDs) or the manifest names no valid apiVersion/kind.
func (r *registry) rootShape(apiVersion, kind string) *shape {
	if apiVersion == "" || kind == "" {
		return nil
	}
	key := apiVersion + "/" + kind
	if s, ok := r.cache.Load(key); ok {
		return s.(*shape)
	}
	s := r.compile(apiVersion, kind)
	if s != nil {
		// Only built-in kinds are cached, so the cache is bounded by the
		// scheme however many other kinds manifests name; an unknown kind
		// costs a parse and a scheme lookup.
		r.cache.Store(key, s)
	}
	return s
}

func (r *registry) compile(apiVersion, kind string) *shape {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil
	}
	gvk := gv.WithKind(kind)
	if !r.scheme.Recognizes(gvk) {
		return nil
	}
	obj, err := r.scheme.New(gvk)
	if err != nil {
		return nil
	}
	t := reflect.TypeOf(obj)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	r.load()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.build(t, r.namedRef(openAPIName(t)))
}

// openAPIName is the OpenAPI definition name Kubernetes gives a Go type:
// k8s.io/api/apps/v1.Deployment -> io.k8s.api.apps.v1.Deployment.
func openAPIName(t reflect.Type) string {
	pkg := t.PkgPath()
	domain, rest, _ := strings.Cut(pkg, "/")
	parts := strings.Split(domain, ".")
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, ".") + "." + strings.ReplaceAll(rest, "/", ".") + "." + t.Name()
}

func (r *registry) namedRef(name string) *smdschema.TypeRef {
	if r.smd == nil {
		return nil
	}
	if _, ok := r.smd.FindNamedType(name); !ok {
		return nil
	}
	return &smdschema.TypeRef{NamedType: &name}
}

// resolve returns the apply schema's atom for ref, with the element
// relationship a field may override; nil when the schema does not know it.
func (r *registry) resolve(ref *smdschema.TypeRef) *smdschema.Atom {
	if ref == nil || r.smd == nil {
		return nil
	}
	atom, ok := r.smd.Resolve(*ref)
	if !ok {
		return nil
	}
	return &atom
}

// build walks a Go type and its apply-schema type side by side. Named types
// are memoized before their fields are walked, so recursive types terminate.
func (r *registry) build(t reflect.Type, ref *smdschema.TypeRef) *shape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case quantityType:
		return &shape{kind: shapeScalar, scalar: scalarQuantity}
	case intOrStringType:
		// int-or-string keeps its JSON type ("80" and 80 stay apart), so it
		// is a plain scalar: equating them would over-equate.
		return &shape{kind: shapeScalar}
	case timeType, microTimeType:
		return &shape{kind: shapeScalar, scalar: scalarTime}
	case bytesType:
		return &shape{kind: shapeScalar, scalar: scalarBytes}
	case rawType:
		return nil
	}
	if t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType) {
		// A custom encoding we do not model: compare it generically.
		return nil
	}
	// Inline schema types are finite trees, so only named ones (and Go types
	// the schema does not know) can recurse and need the memo.
	var key shapeKey
	switch {
	case ref == nil:
		key = shapeKey{t: t}
	case ref.NamedType != nil:
		key = shapeKey{t: t, name: *ref.NamedType}
	}
	if key.t != nil {
		if s, ok := r.built[key]; ok {
			return s
		}
	}
	atom := r.resolve(ref)
	switch t.Kind() {
	case reflect.Struct:
		s := &shape{kind: shapeStruct, fields: map[string]*field{}}
		if key.t != nil {
			r.built[key] = s
		}
		var fields map[string]*smdschema.TypeRef
		if atom != nil && atom.Map != nil {
			s.atomic = atom.Map.ElementRelationship == smdschema.Atomic
			fields = make(map[string]*smdschema.TypeRef, len(atom.Fields))
			for i := range atom.Fields {
				fields[atom.Fields[i].Name] = &atom.Fields[i].Type
			}
		}
		if ref != nil && ref.ElementRelationship != nil {
			s.atomic = *ref.ElementRelationship == smdschema.Atomic
		}
		r.structFields(s, t, fields)
		return s
	case reflect.Map:
		s := &shape{kind: shapeMap}
		var elem *smdschema.TypeRef
		if atom != nil && atom.Map != nil {
			s.atomic = atom.Map.ElementRelationship == smdschema.Atomic
			elem = &atom.Map.ElementType
		}
		s.elem = r.build(t.Elem(), elem)
		return s
	case reflect.Slice, reflect.Array:
		return r.listShape(t, atom)
	default:
		return &shape{kind: shapeScalar}
	}
}

func (r *registry) listShape(t reflect.Type, atom *smdschema.Atom) *shape {
	s := &shape{kind: shapeList}
	var elemRef *smdschema.TypeRef
	if atom != nil && atom.List != nil {
		elemRef = &atom.List.ElementType
		if atom.List.ElementRelationship == smdschema.Associative {
			if len(atom.Keys) == 0 {
				s.list = listSet
			} else {
				s.list = listKeyed
				s.keys = r.listKeys(atom.Keys, elemRef)
			}
		}
	}
	s.elem = r.build(t.Elem(), elemRef)
	if s.list == listSet && s.elem != nil && s.elem.kind != shapeScalar {
		s.list = listAtomic
	}
	return s
}

func (r *registry) listKeys(names []string, elem *smdschema.TypeRef) []listKey {
	keys := make([]listKey, len(names))
	defaults := map[string]any{}
	if atom := r.resolve(elem); atom != nil && atom.Map != nil {
		for _, f := range atom.Fields {
			if f.Default != nil {
				defaults[f.Name] = f.Default
			}
		}
	}
	for i, n := range names {
		d, ok := defaults[n]
		keys[i] = listKey{name: n, def: d, hasDef: ok}
	}
	return keys
}

// structFields adds the JSON fields of struct t (embedded inline structs
// flattened, as encoding/json does) to s.
func (r *registry) structFields(s *shape, t reflect.Type, smdFields map[string]*smdschema.TypeRef) {
	allocated := allocatedFields[t]
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				r.structFields(s, ft, smdFields)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		fs := &field{shape: r.build(f.Type, smdFields[name]), allocated: allocated[name]}
		fs.omitZero = dropsZero(f.Type, opts)
		s.fields[name] = fs
	}
}

// dropsZero reports whether encoding/json leaves a zero value of this field
// out, so that a zero in Git and an absent field mean the same.
func dropsZero(t reflect.Type, opts string) bool {
	omitEmpty, omitZero := false, false
	for o := range strings.SplitSeq(opts, ",") {
		switch o {
		case "omitempty":
			omitEmpty = true
		case "omitzero":
			omitZero = true
		}
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64,
		reflect.Slice, reflect.Map:
		return omitEmpty || omitZero
	case reflect.Struct:
		return omitZero
	default:
		return false
	}
}
