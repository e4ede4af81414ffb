package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "sigs.k8s.io/json"

	"gitgate.dev/gitgate/provenance/index"
	"gitgate.dev/gitgate/webhook/internal/jsonmap"
)

// review is an admission request with its objects decoded and the object it
// is about resolved.
type review struct {
	req *admissionv1.AdmissionRequest
	// object and old are the request's object and oldObject, nil when
	// absent (object on DELETE, oldObject on CREATE).
	object, old map[string]any
	// key names the object the request is about: for a subresource, the
	// parent (the Deployment of a Scale). key.Kind is "" when the parent's
	// kind cannot be told.
	key index.Key
}

var errBadRequest = errors.New("bad admission request")

// parseReview decodes req's objects, unless objs holds them already, and
// resolves its key. Errors wrap errBadRequest: the request itself is
// malformed.
//
// When the request names its object, the key comes first, and the object
// is decoded like its manifest in Git, and the oldObject like the object
// (jsonmap.DecodeLike): an object that conforms holds most of the
// manifest's lists and maps unchanged, and an UPDATE changes little, so
// most of both is shared instead of allocated, and conform.Compare skips
// what is the manifest's own. fastReview decodes them so in its pass over
// the body.
func (s *Server) parseReview(req *admissionv1.AdmissionRequest, ix *index.Index, objs *requestObjects) (*review, error) {
	r := &review{req: req}
	if req.UID == "" {
		return nil, fmt.Errorf("%w: no uid", errBadRequest)
	}
	switch req.Operation {
	case admissionv1.Create, admissionv1.Update, admissionv1.Delete, admissionv1.Connect:
	default:
		return nil, fmt.Errorf("%w: unknown operation %q", errBadRequest, req.Operation)
	}
	r.key = s.requestKey(req, ix)
	if objs != nil {
		r.object, r.old = objs.object, objs.old
	} else if err := r.decodeObjects(manifestOf(ix, r.key)); err != nil {
		return nil, err
	}
	if (req.Operation == admissionv1.Create || req.Operation == admissionv1.Update) && r.object == nil {
		return nil, fmt.Errorf("%w: %s without an object", errBadRequest, req.Operation)
	}
	if r.key.Name == "" {
		r.key.Name = objectName(r)
	}
	return r, nil
}

// decodeObjects decodes the request's object like manifest and its
// oldObject like the object, with the object's spans, as fastReview does.
func (r *review) decodeObjects(manifest map[string]any) error {
	spans := spansPool.Get().(*jsonmap.Spans)
	defer func() {
		spans.Reset()
		spansPool.Put(spans)
	}()
	var err error
	r.object, err = decodeObjectWith(r.req.Object, func(data []byte) (any, error) {
		return jsonmap.DecodeLikeOwnedRecord(data, orNil(manifest), spans)
	})
	if err != nil {
		return fmt.Errorf("%w: object: %w", errBadRequest, err)
	}
	like := r.object
	if like == nil {
		like = manifest
	}
	r.old, err = decodeObjectWith(r.req.OldObject, func(data []byte) (any, error) {
		return jsonmap.DecodeLikeOwnedSpans(data, orNil(like), spans)
	})
	if err != nil {
		return fmt.Errorf("%w: oldObject: %w", errBadRequest, err)
	}
	return nil
}

// spansPool keeps the Spans decodeObjects records, and their room.
var spansPool = sync.Pool{New: func() any { return new(jsonmap.Spans) }}

// manifest is Git's manifest of the object req names, nil when Git
// declares none or req does not name one (yet).
func (s *Server) manifest(req *admissionv1.AdmissionRequest) map[string]any {
	ix := s.opts.Desired.Current()
	return manifestOf(ix, s.requestKey(req, ix))
}

func manifestOf(ix *index.Index, k index.Key) map[string]any {
	if k.Name == "" {
		return nil
	}
	if e, ok := ix.Lookup(k); ok {
		return e.Object.Object
	}
	return nil
}

// decodeObject decodes a request object the way the API server's own JSON
// decoder (sigs.k8s.io/json) does: integers stay int64, and of duplicate
// keys the last wins. jsonmap gives the same values as that decoder, in a
// fraction of the time.
func decodeObject(raw runtime.RawExtension) (map[string]any, error) {
	return decodeObjectWith(raw, func(data []byte) (any, error) { return jsonmap.DecodeLikeOwned(data, nil) })
}

// decodeObjectWith is decodeObject with the jsonmap call, decode, that
// decodeObjects makes like another value (Git's manifest of the object,
// or for an oldObject the object): the parts equal to it are its own,
// shared rather than decoded again. Neither is modified afterwards: the
// webhook only reads request objects, and the Index's manifests are
// read-only for everyone. The object's strings are substrings of raw's
// bytes, which nothing modifies either: a request's body is read for it
// alone.
func decodeObjectWith(raw runtime.RawExtension, decode func([]byte) (any, error)) (map[string]any, error) {
	data := raw.Raw
	if len(data) == 0 && raw.Object != nil {
		var err error
		if data, err = json.Marshal(raw.Object); err != nil {
			return nil, fmt.Errorf("encode: %w", err)
		}
	}
	if len(data) == 0 {
		return nil, nil
	}
	v, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("decode: %w", decodeError(data, err))
	}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return x, nil
	default:
		return nil, fmt.Errorf("not a JSON object but %T", v)
	}
}

// decodeError is the error sigs.k8s.io/json reports for data, which
// jsonmap refused with err: the answer to a malformed object reads as it
// did before jsonmap (and as the API server's would). Both decoders
// refuse the same texts (FuzzAgreesWithKJSON), and errors are rare, so
// decoding twice costs nothing that matters.
func decodeError(data []byte, err error) error {
	var v any
	if kerr := kjson.UnmarshalCaseSensitivePreserveInts(data, &v); kerr != nil {
		return kerr
	}
	return err
}

var namespaceGK = schema.GroupKind{Kind: "Namespace"}

// requestKey names the object a request is about, as far as the request
// itself tells: the name is "" where only the object holds it (see
// objectName). The group and kind come from request.kind, which with
// matchPolicy Equivalent is already the version the configuration
// registered, and the version is dropped (the Index is keyed by group and
// kind). For a subresource request, kind is the subresource's (Scale for
// deployments/scale), so the parent's kind comes from request.resource.
func (s *Server) requestKey(req *admissionv1.AdmissionRequest, ix *index.Index) index.Key {
	gk := schema.GroupKind{Group: req.Kind.Group, Kind: req.Kind.Kind}
	if req.SubResource != "" {
		gk = s.parentKind(req, ix)
	}
	k := index.Key{Group: gk.Group, Kind: gk.Kind, Namespace: req.Namespace, Name: req.Name}
	if gk == namespaceGK {
		// A Namespace is cluster-scoped; the API server may put its name in
		// request.namespace as well.
		k.Namespace = ""
	}
	return k
}

// objectName is the name of a request's object when the request has none:
// a CREATE with generateName has no name before the API server picks one
// (the mutating phase), and a deletecollection sends one DELETE per object
// with the collection's empty name: the stored object names it.
func objectName(r *review) string {
	if name := nestedString(r.object, "metadata", "name"); name != "" {
		return name
	}
	return nestedString(r.old, "metadata", "name")
}

// parentKind returns the kind of a subresource request's parent.
func (s *Server) parentKind(req *admissionv1.AdmissionRequest, ix *index.Index) schema.GroupKind {
	gvr := schema.GroupVersionResource{Group: req.Resource.Group, Version: req.Resource.Version, Resource: req.Resource.Resource}
	// ephemeralcontainers, resize and status carry the parent itself.
	if req.Kind.Group == gvr.Group {
		if plural, _ := meta.UnsafeGuessKindToResource(schema.GroupVersionKind{Group: req.Kind.Group, Version: req.Kind.Version, Kind: req.Kind.Kind}); plural.Resource == gvr.Resource {
			return schema.GroupKind{Group: req.Kind.Group, Kind: req.Kind.Kind}
		}
	}
	if s.opts.Mapper != nil {
		if gvk, err := s.opts.Mapper.KindFor(gvr); err == nil {
			return gvk.GroupKind()
		}
	}
	for _, gk := range ix.Kinds() {
		if gk.Group != gvr.Group {
			continue
		}
		if plural, _ := meta.UnsafeGuessKindToResource(gk.WithVersion("v1")); plural.Resource == gvr.Resource {
			return gk
		}
	}
	return schema.GroupKind{Group: gvr.Group}
}

// nestedString returns the string at path in obj, "" when absent.
func nestedString(obj map[string]any, path ...string) string {
	v, _ := nested(obj, path...)
	s, _ := v.(string)
	return s
}

// nested returns the value at path in obj.
func nested(obj map[string]any, path ...string) (any, bool) {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// labelValue returns obj's label key and whether it is set.
func labelValue(obj map[string]any, key string) (string, bool) {
	v, ok := nested(obj, "metadata", "labels", key)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}

// hasControllerRef reports whether obj has an ownerReference with
// controller: true, the mark of an object a controller made for its owner.
func hasControllerRef(obj map[string]any) bool {
	refs, _ := nested(obj, "metadata", "ownerReferences")
	list, _ := refs.([]any)
	for _, r := range list {
		m, _ := r.(map[string]any)
		if c, _ := m["controller"].(bool); c {
			return true
		}
	}
	return false
}

// deleting reports whether obj has a deletionTimestamp.
func deleting(obj map[string]any) bool {
	v, ok := nested(obj, "metadata", "deletionTimestamp")
	return ok && v != nil
}

// kindLabel formats a group/kind as "Kind.group" ("Pod" for core).
func kindLabel(group, kind string) string {
	if group == "" {
		return kind
	}
	return kind + "." + group
}

// describeRequest names what a request touches, for messages:
// "Deployment.apps demo/web", with " (subresource scale)" when it has one.
func describeRequest(r *review) string {
	var b strings.Builder
	b.WriteString(r.key.String())
	if r.req.SubResource != "" {
		b.WriteString(" (subresource ")
		b.WriteString(r.req.SubResource)
		b.WriteString(")")
	}
	return b.String()
}
