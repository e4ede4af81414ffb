package drift

import (
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"gitgate.dev/gitgate/provenance/conform"
)

// strip is the informers' transform: it drops what the comparison never
// reads (conform ignores status, managedFields and kubectl's last-applied
// annotation), which is most of a typical object's size. Who made an edit is
// read from the API server when a drift is confirmed, so the cache needs no
// managedFields at all.
func strip(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	delete(u.Object, "status")
	md, ok := u.Object["metadata"].(map[string]any)
	if !ok {
		return u, nil
	}
	delete(md, "managedFields")
	if ann, ok := md["annotations"].(map[string]any); ok {
		delete(ann, conform.LastAppliedAnnotation)
		if len(ann) == 0 {
			delete(md, "annotations")
		}
	}
	return u, nil
}

// editor is who last changed an object outside gitgate, from its
// managedFields.
type editor struct {
	Manager     string    `json:"manager"`
	Operation   string    `json:"operation,omitempty"`
	Subresource string    `json:"subresource,omitempty"`
	Time        time.Time `json:"time,omitzero"`
}

// editorOf returns the newest managedFields entry of obj whose manager is
// not gitgate, or nil. Entries of the status subresource are skipped:
// status is never drift, and controllers write it all the time. Entries
// without a time count as oldest; among equal times the later entry wins.
// An entry without a manager names nobody and is skipped.
func editorOf(obj map[string]any) *editor {
	md, _ := obj["metadata"].(map[string]any)
	entries, _ := md["managedFields"].([]any)
	var best *editor
	for _, raw := range entries {
		e, ok := raw.(map[string]any)
		if !ok {
			continue
		}
		manager, _ := e["manager"].(string)
		sub, _ := e["subresource"].(string)
		if manager == "" || manager == fieldManager || sub == "status" {
			continue
		}
		op, _ := e["operation"].(string)
		var at time.Time
		if s, ok := e["time"].(string); ok {
			// An unparsable time counts as none.
			at, _ = time.Parse(time.RFC3339, s)
		}
		if best == nil || !at.Before(best.Time) {
			best = &editor{Manager: manager, Operation: op, Subresource: sub, Time: at}
		}
	}
	return best
}

// managedFieldsResolution is the precision of managedFields times: RFC 3339
// without fractions.
const managedFieldsResolution = time.Second

// editTime is when the edit being reverted was made. The editor's
// managedFields time is cut to the second, so an edit stamped t happened in
// [t, t+1s); when the watch event arrived inside that second, the arrival
// bounds the edit more tightly (a watch delivers within milliseconds) and is
// used. An older stamp means the edit happened while nobody watched (before
// this replica led), and the stamp is the better clock. Without an editor
// (a delete leaves none) the arrival is all there is.
func editTime(ed *editor, arrival time.Time) time.Time {
	if ed == nil || ed.Time.IsZero() || arrival.Before(ed.Time.Add(managedFieldsResolution)) {
		return arrival
	}
	return ed.Time
}
