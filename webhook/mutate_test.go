package webhook

import (
	"encoding/json"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"gitgate.dev/gitgate/provenance/conform"
)

// applyPatch completes resp as the HTTP layer does and applies its JSON
// patch to the request's object, as the API server would.
func applyPatch(t *testing.T, req admission.Request, resp admission.Response) map[string]any {
	t.Helper()
	if !resp.Allowed {
		t.Fatalf("mutate did not allow: %+v", resp.Result)
	}
	if err := resp.Complete(req); err != nil {
		t.Fatal(err)
	}
	if resp.Patch == nil {
		return roundTrip(t, mustDecode(t, req.Object.Raw))
	}
	if resp.PatchType == nil || *resp.PatchType != admissionv1.PatchTypeJSONPatch {
		t.Fatalf("patch type %v, want JSONPatch", resp.PatchType)
	}
	patch, err := jsonpatch.DecodePatch(resp.Patch)
	if err != nil {
		t.Fatalf("decode patch %s: %v", resp.Patch, err)
	}
	out, err := patch.Apply(req.Object.Raw)
	if err != nil {
		t.Fatalf("apply patch %s: %v", resp.Patch, err)
	}
	return mustDecode(t, out)
}

func mustDecode(t *testing.T, data []byte) map[string]any {
	t.Helper()
	obj, err := decodeObject(runtime.RawExtension{Raw: data})
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func annotationsOf(obj map[string]any) map[string]any {
	a, _ := nested(obj, "metadata", "annotations")
	m, _ := a.(map[string]any)
	return m
}

func TestMutate(t *testing.T) {
	f := newFixture(t)
	want := map[string]any{
		CommitAnnotation:  testCommit,
		SourceAnnotation:  testSource,
		PathAnnotation:    "clusters/demo/web.yaml",
		SignersAnnotation: "alice,bob",
	}
	withoutAnnotations := func(t *testing.T) map[string]any {
		obj := live(t, "web")
		delete(obj["metadata"].(map[string]any), "annotations")
		return obj
	}
	stamped := func(t *testing.T, commit string) map[string]any {
		obj := live(t, "web")
		a := annotationsOf(obj)
		for k, v := range want {
			a[k] = v
		}
		a[CommitAnnotation] = commit
		return obj
	}
	tests := []struct {
		name    string
		req     func(t *testing.T) admission.Request
		reason  Reason
		changed bool
		// want is the provenance the object must carry afterwards (nil:
		// none), other annotations it must keep.
		want  map[string]any
		other map[string]any
	}{
		{
			name: "create without annotations",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Create, withoutAnnotations(t), nil)
			},
			reason:  ReasonStamped,
			changed: true,
			want:    want,
		},
		{
			name: "null annotations",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Create, setPath(withoutAnnotations(t), nil, "metadata", "annotations"), nil)
			},
			reason:  ReasonStamped,
			changed: true,
			want:    want,
		},
		{
			name: "update keeps other annotations",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Update, live(t, "web"), live(t, "web"))
			},
			reason:  ReasonStamped,
			changed: true,
			want:    want,
			other:   map[string]any{"kubectl.kubernetes.io/last-applied-configuration": annotationsOf(live(t, "web"))["kubectl.kubernetes.io/last-applied-configuration"]},
		},
		{
			name: "a stale stamp is corrected",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Update, stamped(t, "0000000"), live(t, "web"))
			},
			reason:  ReasonStamped,
			changed: true,
			want:    want,
		},
		{
			name: "a current stamp is left alone",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Update, stamped(t, testCommit), live(t, "web"))
			},
			reason: ReasonUnchanged,
			want:   want,
		},
		{
			name: "an object that does not match Git loses its stamp",
			req: func(t *testing.T) admission.Request {
				obj := setPath(stamped(t, testCommit), int64(9), "spec", "replicas")
				return newRequest(t, admissionv1.Update, obj, live(t, "web"), asUser(gitgateSA))
			},
			reason:  ReasonStripped,
			changed: true,
		},
		{
			name: "a forged stamp on an object Git does not declare",
			req: func(t *testing.T) admission.Request {
				cm := configMap("elsewhere", "forged", nil)
				setPath(cm, testCommit, "metadata", "annotations", CommitAnnotation)
				setPath(cm, "kept", "metadata", "annotations", "note")
				return newRequest(t, admissionv1.Create, cm, nil)
			},
			reason:  ReasonStripped,
			changed: true,
			other:   map[string]any{"note": "kept"},
		},
		{
			name: "an object Git does not declare, without a stamp",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Create, configMap("elsewhere", "plain", nil), nil)
			},
			reason: ReasonUnchanged,
		},
		{
			name:   "delete",
			req:    func(t *testing.T) admission.Request { return newRequest(t, admissionv1.Delete, nil, live(t, "web")) },
			reason: ReasonUnchanged,
		},
		{
			name: "a subresource is not stamped",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Update, live(t, "web"), live(t, "web"), subresource("status", nil))
			},
			reason: ReasonUnchanged,
			other:  map[string]any{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req(t)
			ix := f.s.opts.Desired.Current()
			r, err := f.s.parseReview(&req.AdmissionRequest, ix, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, out := f.s.mutate(r, ix)
			if out.reason != tc.reason {
				t.Errorf("reason %s, want %s", out.reason, tc.reason)
			}
			if got := len(resp.Patches) > 0; got != tc.changed {
				t.Errorf("patched=%v, want %v (%v)", got, tc.changed, resp.Patches)
			}
			if req.Operation == admissionv1.Delete {
				return
			}
			obj := applyPatch(t, req, resp)
			got := map[string]any{}
			for k, v := range annotationsOf(obj) {
				if k == CommitAnnotation || k == SourceAnnotation || k == PathAnnotation || k == SignersAnnotation {
					got[k] = v
				}
			}
			wantProv := tc.want
			if wantProv == nil {
				wantProv = map[string]any{}
			}
			if req.SubResource == "" {
				if diff := cmp.Diff(wantProv, got); diff != "" {
					t.Errorf("provenance annotations (-want +got):\n%s", diff)
				}
			}
			for k, v := range tc.other {
				if annotationsOf(obj)[k] != v {
					t.Errorf("annotation %s = %v, want %v kept", k, annotationsOf(obj)[k], v)
				}
			}
			// The stamp never makes an object differ from Git.
			if e, ok := ix.Lookup(r.key); ok && len(tc.want) > 0 {
				if diffs := conform.Compare(e.Object.Object, obj); diffs != nil {
					t.Errorf("the stamped object does not conform: %v", diffs)
				}
			}
		})
	}
}

func TestAnnotationPatchEscapes(t *testing.T) {
	ops := annotationPatch(map[string]any{"metadata": map[string]any{"annotations": map[string]any{}}}, map[string]string{CommitAnnotation: "abc"})
	if len(ops) != 1 || ops[0].Path != "/metadata/annotations/gitgate.dev~1commit" || ops[0].Operation != "add" {
		t.Fatalf("ops = %+v", ops)
	}
	if got := escapePointer("a~b/c"); got != "a~0b~1c" {
		t.Errorf("escapePointer = %q", got)
	}
	// An object without metadata gets the whole block.
	ops = annotationPatch(map[string]any{}, map[string]string{CommitAnnotation: "abc"})
	if len(ops) != 1 || ops[0].Path != "/metadata" {
		t.Fatalf("ops = %+v", ops)
	}
	data, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	patch, err := jsonpatch.DecodePatch(data)
	if err != nil {
		t.Fatal(err)
	}
	out, err := patch.Apply([]byte(`{"kind":"X"}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"kind":"X","metadata":{"annotations":{"gitgate.dev/commit":"abc"}}}` {
		t.Errorf("patched = %s", out)
	}
}

func TestMutateThroughHandler(t *testing.T) {
	f := newFixture(t)
	req := newRequest(t, admissionv1.Create, live(t, "web"), nil)
	resp := f.s.Mutate(t.Context(), req)
	obj := applyPatch(t, req, resp)
	if got := annotationsOf(obj)[SignersAnnotation]; got != "alice,bob" {
		t.Errorf("signers annotation = %v", got)
	}
	if resp.UID != req.UID {
		t.Errorf("uid %q, want %q", resp.UID, req.UID)
	}
}
