package webhook

import (
	"errors"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gitgate.dev/gitgate/webhook/internal/jsonmap"
)

// errGeneral stops the one-pass decode on anything it leaves to the
// general decoder: a malformed body, a value of an unexpected type, a
// repeated field whose value sigs.k8s.io/json would merge.
var errGeneral = errors.New("left to the general decoder")

// fastReview decodes an AdmissionReview in one pass over the body, where
// the general decoder scans it, then decodes it with reflection, scanning
// each object once more to copy its text. It handles the reviews the API
// server sends and gives up (ok false) on anything else, which
// decodeReview then leaves to sigs.k8s.io/json: the result, when there is
// one, is the same as that decoder's (FuzzFastReviewAgrees), and errors
// and their messages come from that decoder alone.
//
// The objects are decoded in the same pass, as parseReview would decode
// them (decodeObjects): the object like manifest(request) and the
// oldObject like the object. The API server writes the request's kind,
// name and namespace before its objects, so manifest finds Git's manifest
// of the object; on a body in another order it finds less or nothing,
// which shares less but decodes the same values. Their strings are
// substrings of body, which the caller hands over for this request alone.
func fastReview(body []byte, manifest func(*admissionv1.AdmissionRequest) map[string]any) (env *reviewEnvelope, ok bool) {
	env = &reviewEnvelope{objects: &requestObjects{}}
	err := jsonmap.ReadOwned(body, func(d *jsonmap.Decoder) error {
		return d.Object(func(key string) error {
			switch key {
			case "apiVersion":
				return readString(d, &env.APIVersion)
			case "kind":
				return readString(d, &env.Kind)
			case "request":
				if env.Request != nil || d.Peek() != jsonmap.Object {
					return errGeneral
				}
				env.Request = &admissionv1.AdmissionRequest{}
				return fastRequest(d, env.Request, env.objects, manifest)
			}
			_, err := d.Skip()
			return err
		})
	})
	if err != nil {
		return nil, false
	}
	return env, true
}

// requestObjects are a request's object and oldObject as fastReview
// decoded them, nil when absent.
type requestObjects struct {
	object, old map[string]any
}

// requestField names the fields of an AdmissionRequest that hold more
// than a string: the general decoder merges a repeated one into the first
// (or keeps the first, for a null), so fastRequest takes each only once.
type requestField uint16

const (
	fieldKind requestField = 1 << iota
	fieldResource
	fieldRequestKind
	fieldRequestResource
	fieldUserInfo
	fieldObject
	fieldOldObject
	fieldOptions
	fieldDryRun
)

func fastRequest(d *jsonmap.Decoder, req *admissionv1.AdmissionRequest, objs *requestObjects, manifest func(*admissionv1.AdmissionRequest) map[string]any) error {
	var seen requestField
	// spans are where the object's containers lie in the body, so that
	// the oldObject's text that is the object's is not parsed again. They
	// belong to d, and so to this read of the body alone.
	var spans *jsonmap.Spans
	once := func(f requestField) bool {
		first := seen&f == 0
		seen |= f
		return first
	}
	return d.Object(func(key string) error {
		switch key {
		case "uid":
			return readString(d, (*string)(&req.UID))
		case "subResource":
			return readString(d, &req.SubResource)
		case "requestSubResource":
			return readString(d, &req.RequestSubResource)
		case "name":
			return readString(d, &req.Name)
		case "namespace":
			return readString(d, &req.Namespace)
		case "operation":
			return readString(d, (*string)(&req.Operation))
		case "kind":
			return onlyOnce(once(fieldKind), func() error { return readGVK(d, &req.Kind) })
		case "resource":
			return onlyOnce(once(fieldResource), func() error { return readGVR(d, &req.Resource) })
		case "requestKind":
			return onlyOnce(once(fieldRequestKind), func() error {
				req.RequestKind = &metav1.GroupVersionKind{}
				return readGVK(d, req.RequestKind)
			})
		case "requestResource":
			return onlyOnce(once(fieldRequestResource), func() error {
				req.RequestResource = &metav1.GroupVersionResource{}
				return readGVR(d, req.RequestResource)
			})
		case "userInfo":
			return onlyOnce(once(fieldUserInfo), func() error { return readUserInfo(d, &req.UserInfo) })
		case "object":
			return onlyOnce(once(fieldObject), func() error {
				var err error
				objs.object, err = readObject(d, &req.Object.Raw, func() (v any, text []byte, err error) {
					v, text, spans, err = d.RawValueLikeRecord(orNil(manifest(req)))
					return v, text, err
				})
				return err
			})
		case "oldObject":
			return onlyOnce(once(fieldOldObject), func() error {
				like, likeSpans := objs.object, spans
				if like == nil {
					like, likeSpans = manifest(req), nil
				}
				var err error
				objs.old, err = readObject(d, &req.OldObject.Raw, func() (any, []byte, error) {
					return d.RawValueLikeSpans(orNil(like), likeSpans)
				})
				return err
			})
		case "options":
			return onlyOnce(once(fieldOptions), func() error { return readRaw(d, &req.Options.Raw) })
		case "dryRun":
			return onlyOnce(once(fieldDryRun), func() error { return readDryRun(d, &req.DryRun) })
		}
		_, err := d.Skip()
		return err
	})
}

func onlyOnce(first bool, decode func() error) error {
	if !first {
		return errGeneral
	}
	return decode()
}

// readString reads a string field; a repeated one overwrites, as in the
// general decoder. Anything but a string (null, which that decoder
// skips, or a type error) is left to it. The string is a copy: the
// request's fields end up in metric labels and logs, which must not keep
// the whole body alive.
func readString(d *jsonmap.Decoder, dst *string) error {
	if d.Peek() != jsonmap.String {
		return errGeneral
	}
	s, err := d.String()
	*dst = strings.Clone(s)
	return err
}

// readStrings reads a list of strings into a non-nil slice, as the
// general decoder does.
func readStrings(d *jsonmap.Decoder) ([]string, error) {
	if d.Peek() != jsonmap.Array {
		return nil, errGeneral
	}
	list := []string{}
	err := d.Array(func() error {
		var s string
		err := readString(d, &s)
		list = append(list, s)
		return err
	})
	return list, err
}

func readGVK(d *jsonmap.Decoder, k *metav1.GroupVersionKind) error {
	return readStringFields(d, func(key string) *string {
		switch key {
		case "group":
			return &k.Group
		case "version":
			return &k.Version
		case "kind":
			return &k.Kind
		}
		return nil
	})
}

func readGVR(d *jsonmap.Decoder, r *metav1.GroupVersionResource) error {
	return readStringFields(d, func(key string) *string {
		switch key {
		case "group":
			return &r.Group
		case "version":
			return &r.Version
		case "resource":
			return &r.Resource
		}
		return nil
	})
}

// readStringFields reads an object of string fields, which field names;
// other members are skipped.
func readStringFields(d *jsonmap.Decoder, field func(key string) *string) error {
	if d.Peek() != jsonmap.Object {
		return errGeneral
	}
	return d.Object(func(key string) error {
		if p := field(key); p != nil {
			return readString(d, p)
		}
		_, err := d.Skip()
		return err
	})
}

func readUserInfo(d *jsonmap.Decoder, u *authenticationv1.UserInfo) error {
	if d.Peek() != jsonmap.Object {
		return errGeneral
	}
	var sawGroups, sawExtra bool
	return d.Object(func(key string) error {
		var err error
		switch key {
		case "username":
			return readString(d, &u.Username)
		case "uid":
			return readString(d, &u.UID)
		case "groups":
			if sawGroups {
				return errGeneral
			}
			sawGroups = true
			u.Groups, err = readStrings(d)
		case "extra":
			if sawExtra {
				return errGeneral
			}
			sawExtra = true
			u.Extra, err = readExtra(d)
		default:
			_, err = d.Skip()
		}
		return err
	})
}

// readExtra reads userInfo.extra. Of repeated keys the last wins, as in the
// general decoder, which makes a fresh list for each.
func readExtra(d *jsonmap.Decoder) (map[string]authenticationv1.ExtraValue, error) {
	if d.Peek() != jsonmap.Object {
		return nil, errGeneral
	}
	m := map[string]authenticationv1.ExtraValue{}
	err := d.Object(func(key string) error {
		list, err := readStrings(d)
		m[strings.Clone(key)] = list
		return err
	})
	return m, err
}

// readRaw reads object, oldObject or options: the text, as the general
// decoder keeps it in the RawExtension. null leaves it empty, as
// RawExtension's decoding does; a value that is not an object is left to
// the general decoder (and then refused by parseReview).
func readRaw(d *jsonmap.Decoder, raw *[]byte) error {
	switch d.Peek() {
	case jsonmap.Null:
		_, err := d.Skip()
		return err
	case jsonmap.Object:
		text, err := d.Skip()
		*raw = text
		return err
	}
	return errGeneral
}

// readObject reads object or oldObject: its text, as readRaw does, and
// its value, decoded by decode (RawValueLike or a variant).
func readObject(d *jsonmap.Decoder, raw *[]byte, decode func() (any, []byte, error)) (map[string]any, error) {
	if d.Peek() != jsonmap.Object {
		return nil, readRaw(d, raw)
	}
	v, text, err := decode()
	*raw = text
	m, _ := v.(map[string]any)
	return m, err
}

// orNil is like as a value to decode like: nil, not a nil map, for none.
func orNil(like map[string]any) any {
	if like == nil {
		return nil
	}
	return like
}

func readDryRun(d *jsonmap.Decoder, dst **bool) error {
	switch d.Peek() {
	case jsonmap.Null:
		_, err := d.Skip()
		return err
	case jsonmap.Bool:
		v, err := d.Value()
		b, _ := v.(bool)
		*dst = &b
		return err
	}
	return errGeneral
}
