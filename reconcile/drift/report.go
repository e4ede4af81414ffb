package drift

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// action is what happened to a drift.
type action string

const (
	actionReverted action = "reverted"
	actionDetected action = "detected"
	actionFailed   action = "revert-failed"
)

// Event reasons: the object was put back, drift was only reported (detect
// mode), or the revert failed and will be retried.
const (
	reasonReverted     = "DriftReverted"
	reasonDetected     = "DriftDetected"
	reasonRevertFailed = "DriftRevertFailed"
)

func (a action) reason() string {
	switch a {
	case actionReverted:
		return reasonReverted
	case actionDetected:
		return reasonDetected
	default:
		return reasonRevertFailed
	}
}

// secret reports whether the drifted object is a Secret, whose values must
// never be written anywhere.
func (d *detection) secret() bool {
	return d.item.key.Group == "" && d.item.key.Kind == "Secret"
}

// signature identifies what differs, so the same drift is counted and
// reported once. It is a hash: it is kept per drifted object and never
// shown.
func signature(d *detection) string {
	if d.live == nil {
		return "deleted"
	}
	h := sha256.New()
	for _, df := range d.diffs {
		// conform redacts Secret data in Diff values already.
		fmt.Fprintf(h, "%s\x00", df.String())
	}
	return hex.EncodeToString(h.Sum(nil))
}

// paths lists the fields that differ.
func (d *detection) paths() []string {
	out := make([]string, len(d.diffs))
	for i, df := range d.diffs {
		out[i] = df.Path
	}
	return out
}

// what says what differs: field, Git value and live value, or, for a
// Secret, only the fields.
func (d *detection) what() string {
	switch {
	case d.live == nil:
		return "the object was deleted"
	case d.secret():
		return "fields " + strings.Join(d.paths(), ", ") + " differ from Git"
	}
	parts := make([]string, len(d.diffs))
	for i, df := range d.diffs {
		parts[i] = df.String()
	}
	return strings.Join(parts, "; ")
}

// who names the editor.
func (d *detection) who() string {
	switch {
	case d.live == nil:
		return "deleted outside Git"
	case d.editor == nil:
		return "edited outside Git by an unknown manager"
	}
	s := "edited by " + d.editor.Manager
	if d.editor.Operation != "" || d.editor.Subresource != "" || !d.editor.Time.IsZero() {
		var in []string
		if d.editor.Operation != "" {
			in = append(in, d.editor.Operation)
		}
		if d.editor.Subresource != "" {
			in = append(in, "subresource "+d.editor.Subresource)
		}
		if !d.editor.Time.IsZero() {
			in = append(in, "at "+d.editor.Time.UTC().Format(time.RFC3339))
		}
		s += " (" + strings.Join(in, ", ") + ")"
	}
	return s
}

// errText is what of a failed revert's error may be shown: for a Secret
// only the API status reason, because the API server's validation messages
// may quote the values the request carried.
func (d *detection) errText(err error) string {
	if err == nil {
		return ""
	}
	if d.secret() {
		return "API status " + string(apierrors.ReasonForError(err))
	}
	return err.Error()
}

// message is the Event's text.
func (d *detection) message(a action, err error) string {
	origin := fmt.Sprintf("Git holds commit %s, path %s", shortCommit(d.entry.Origin.Commit), d.entry.Origin.Path)
	switch a {
	case actionReverted:
		if d.live == nil {
			return fmt.Sprintf("recreated: %s; %s", d.who(), origin)
		}
		return fmt.Sprintf("reverted drift %s: %s; %s", d.who(), d.what(), origin)
	case actionDetected:
		return fmt.Sprintf("drift detected, not reverted (drift mode detect), %s: %s; %s", d.who(), d.what(), origin)
	default:
		return fmt.Sprintf("drift could not be reverted (%s), will retry, %s: %s; %s", d.errText(err), d.who(), d.what(), origin)
	}
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// report records the drift: a log line (field paths only), an Event on the
// object and an audit line.
func (w *Watcher) report(ctx context.Context, d *detection, a action, err error) {
	kv := []any{"source", d.item.source, "object", d.item.key.String(), "deleted", d.live == nil, "fields", d.paths()}
	if d.editor != nil {
		kv = append(kv, "manager", d.editor.Manager, "operation", d.editor.Operation)
	}
	switch a {
	case actionReverted:
		w.log.Info("drift reverted", append(kv, "latency", d.latency.String())...)
	case actionDetected:
		w.log.Info("drift detected", kv...)
	default:
		w.log.Info("drift revert failed", append(kv, "error", d.errText(err))...)
	}
	w.event(ctx, d, a, err)
	w.audit(d, a, err)
}

// maxEventMessage keeps an Event's message within what the API server
// stores for it (1 KiB).
const maxEventMessage = 1024

// event records a Warning Event on the object. A recreated object is read
// back for its new UID, so the Event shows with it (kubectl describe
// matches on the UID).
func (w *Watcher) event(ctx context.Context, d *detection, a action, err error) {
	if w.opts.Recorder == nil {
		return
	}
	var obj runtime.Object = d.live
	if d.live == nil {
		ref := &unstructured.Unstructured{}
		ref.SetGroupVersionKind(d.entry.Object.GroupVersionKind())
		ref.SetNamespace(d.entry.Key.Namespace)
		ref.SetName(d.entry.Key.Name)
		if a == actionReverted {
			w.mu.Lock()
			wt := w.watches[d.item.key.GroupKind()]
			w.mu.Unlock()
			if wt != nil {
				if u, gerr := w.get(ctx, wt, d.entry); gerr == nil && u != nil {
					ref.SetUID(u.GetUID())
					ref.SetResourceVersion(u.GetResourceVersion())
				}
			}
		}
		obj = ref
	}
	w.opts.Recorder.Event(obj, corev1.EventTypeWarning, a.reason(), truncate(d.message(a, err), maxEventMessage))
}

// auditLine is one line of the audit log, one per drift.
type auditLine struct {
	Time   string      `json:"time"`
	Action action      `json:"action"`
	Source string      `json:"source"`
	Commit string      `json:"commit,omitempty"`
	Path   string      `json:"path,omitempty"`
	Object auditObject `json:"object"`
	// Deleted: the drift is the object's deletion.
	Deleted bool        `json:"deleted,omitempty"`
	Diffs   []auditDiff `json:"diffs,omitempty"`
	Editor  *editor     `json:"editor,omitempty"`
	// EditTime is when the edit was made, as well as it can be told (see
	// editTime).
	EditTime       string  `json:"editTime"`
	LatencySeconds float64 `json:"latencySeconds,omitempty"`
	Error          string  `json:"error,omitempty"`
}

type auditObject struct {
	Group     string `json:"group"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// auditDiff is one differing field; Git and Live are left out for Secrets.
type auditDiff struct {
	Path string `json:"path"`
	Kind string `json:"kind"`
	Git  any    `json:"git,omitempty"`
	Live any    `json:"live,omitempty"`
}

// audit writes the drift's audit line with a single Write under a mutex,
// so concurrent workers never interleave lines.
func (w *Watcher) audit(d *detection, a action, err error) {
	if w.opts.AuditLog == nil {
		return
	}
	k := d.item.key
	line := auditLine{
		Time:     w.now().UTC().Format(time.RFC3339Nano),
		Action:   a,
		Source:   d.item.source,
		Commit:   d.entry.Origin.Commit,
		Path:     d.entry.Origin.Path,
		Object:   auditObject{Group: k.Group, Version: versionOf(d.entry.Object), Kind: k.Kind, Namespace: k.Namespace, Name: k.Name},
		Deleted:  d.live == nil,
		Editor:   d.editor,
		EditTime: d.editAt.UTC().Format(time.RFC3339Nano),
		Error:    d.errText(err),
	}
	if a == actionReverted {
		line.LatencySeconds = d.latency.Seconds()
	}
	for _, df := range d.diffs {
		ad := auditDiff{Path: df.Path, Kind: df.Kind.String()}
		if !d.secret() {
			ad.Git, ad.Live = df.Git, df.Live
		}
		line.Diffs = append(line.Diffs, ad)
	}
	b, merr := json.Marshal(line)
	if merr != nil {
		w.log.Error(merr, "encode audit line", "object", k.String())
		return
	}
	b = append(b, '\n')
	w.auditMu.Lock()
	defer w.auditMu.Unlock()
	if _, werr := w.opts.AuditLog.Write(b); werr != nil {
		w.log.Error(werr, "write audit line")
	}
}

// truncate cuts s to at most n bytes, at a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
