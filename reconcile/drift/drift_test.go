package drift

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	clienttesting "k8s.io/client-go/testing"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/provenance/conform"
)

func TestNewValidatesOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no config", Options{Mapper: testMapper(), Applier: &fakeApplier{}}, "rest config"},
		{"no mapper", Options{Config: &rest.Config{Host: "https://127.0.0.1:1"}, Applier: &fakeApplier{}}, "rest mapper"},
		{"no applier", Options{Config: &rest.Config{Host: "https://127.0.0.1:1"}, Mapper: testMapper()}, "applier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error about %q", err, tt.want)
			}
		})
	}
	t.Run("complete", func(t *testing.T) {
		w, err := New(Options{Config: &rest.Config{Host: "https://127.0.0.1:1"}, Mapper: testMapper(), Applier: &fakeApplier{}})
		if err != nil || w == nil {
			t.Fatalf("New: %v", err)
		}
	})
}

func TestNeedLeaderElection(t *testing.T) {
	f := newFixture(t)
	if !f.w.NeedLeaderElection() {
		t.Fatal("the drift watcher must run on the leader only")
	}
}

func TestStartTwice(t *testing.T) {
	f := newFixture(t)
	f.start(t)
	eventually(t, "started", func() bool {
		f.w.mu.Lock()
		defer f.w.mu.Unlock()
		return f.w.started
	})
	if err := f.w.Start(t.Context()); err == nil {
		t.Fatal("a second Start must fail")
	}
}

func TestRevertChangedField(t *testing.T) {
	desired := deployment("src", "web", 2, "web")
	f := newFixture(t, desired)
	f.w.Track("src", buildIndex(t, "src", desired), Revert)
	f.start(t)
	f.waitSynced(t, deploymentGK)

	editAt := time.Now().Add(-3 * time.Second).Truncate(time.Second)
	f.edit(t, deploymentsGVR, "web", "kubectl-edit", editAt, func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(u.Object, int64(5), "spec", "replicas")
	})
	eventually(t, "revert", func() bool { return f.reverted("src", "Deployment.apps") == 1 && f.audit.String() != "" })

	live := f.get(t, deploymentsGVR, "web")
	if diffs := conform.Compare(desired.Object, live.Object); len(diffs) > 0 {
		t.Fatalf("after the revert the object differs: %v", diffs)
	}
	if got := f.detected("src", "Deployment.apps"); got != 1 {
		t.Errorf("detected = %v, want 1", got)
	}
	if n := testutil.CollectAndCount(f.w.metrics.latency); n != 1 {
		t.Errorf("latency series = %d", n)
	}
	// The stamp is three seconds old: the latency counts from it.
	if sum := histogramSum(t, f.reg, "gitgate_drift_revert_seconds"); sum < 3 || sum > 60 {
		t.Errorf("revert latency sum = %v s, want the time since the stamped edit", sum)
	}
	eventually(t, "drift cleared", func() bool { return f.w.Drifted("src") == 0 })

	events := f.drainEvents()
	if len(events) != 1 {
		t.Fatalf("events = %q, want one", events)
	}
	for _, want := range []string{"Warning DriftReverted", "spec.replicas: Git has 2, the object has 5", "kubectl-edit", "Update", editAt.UTC().Format(time.RFC3339), "apps/web.yaml", testCommit[:12]} {
		if !strings.Contains(events[0], want) {
			t.Errorf("event %q lacks %q", events[0], want)
		}
	}
	lines := f.audit.auditLines(t)
	if len(lines) != 1 {
		t.Fatalf("audit lines = %d, want 1", len(lines))
	}
	a := lines[0]
	if a.Action != actionReverted || a.Source != "src" || a.Commit != testCommit || a.Object.Kind != "Deployment" || a.Object.Name != "web" || a.Object.Version != "v1" {
		t.Errorf("audit line = %+v", a)
	}
	if a.Editor == nil || a.Editor.Manager != "kubectl-edit" || a.Editor.Operation != "Update" || !a.Editor.Time.Equal(editAt) {
		t.Errorf("audit editor = %+v", a.Editor)
	}
	if len(a.Diffs) != 1 || a.Diffs[0].Path != "spec.replicas" || a.Diffs[0].Kind != "changed" {
		t.Errorf("audit diffs = %+v", a.Diffs)
	}
	if a.LatencySeconds < 3 {
		t.Errorf("audit latency = %v", a.LatencySeconds)
	}
	// Put back at the first attempt: the count never showed it.
	if got := f.changeLog(); len(got) != 0 {
		t.Errorf("OnChange calls = %v, want none for a revert that succeeded at once", got)
	}
	if strings.Contains(f.logs.String(), "Git has") {
		t.Error("logs carry field values")
	}
}

func histogramSum(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetHistogram().GetSampleSum()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func TestRevertDeletedObject(t *testing.T) {
	cm := configMap("src", "cfg", map[string]any{"mode": "prod"})
	f := newFixture(t, cm)
	f.w.Track("src", buildIndex(t, "src", cm), Revert)
	f.start(t)
	f.waitSynced(t, configMapGK)

	if err := f.dyn.Resource(configMapsGVR).Namespace("app").Delete(t.Context(), "cfg", deleteOptions()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "recreated", func() bool { return f.get(t, configMapsGVR, "cfg") != nil })
	eventually(t, "counted", func() bool { return f.reverted("src", "ConfigMap") == 1 && f.audit.String() != "" })
	events := f.drainEvents()
	if len(events) != 1 || !strings.Contains(events[0], "DriftReverted recreated: deleted outside Git") {
		t.Errorf("events = %q", events)
	}
	if lines := f.audit.auditLines(t); len(lines) != 1 || !lines[0].Deleted || lines[0].Editor != nil {
		t.Errorf("audit = %+v", lines)
	}
}

func TestDetectMode(t *testing.T) {
	web := deployment("src", "web", 2, "web")
	cm := configMap("src", "cfg", map[string]any{"mode": "prod"})
	f := newFixture(t, web, cm)
	f.w.Track("src", buildIndex(t, "src", web, cm), Detect)
	f.start(t)
	f.waitSynced(t, deploymentGK, configMapGK)

	now := time.Now()
	f.edit(t, deploymentsGVR, "web", "kubectl-edit", now, func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(u.Object, int64(5), "spec", "replicas")
	})
	eventually(t, "detected", func() bool { return f.detected("src", "Deployment.apps") == 1 })
	if err := f.dyn.Resource(configMapsGVR).Namespace("app").Delete(t.Context(), "cfg", deleteOptions()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "delete detected", func() bool { return f.w.Drifted("src") == 2 })

	// A change Git does not care about is not a new drift.
	f.edit(t, deploymentsGVR, "web", "kubectl-label", now, func(u *unstructured.Unstructured) {
		u.SetLabels(map[string]string{v1alpha1.SourceLabel: "src", "team": "a"})
	})
	// A different drift of the same object is.
	f.edit(t, deploymentsGVR, "web", "kubectl-edit", now, func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(u.Object, int64(7), "spec", "replicas")
	})
	eventually(t, "second drift", func() bool {
		return f.detected("src", "Deployment.apps") == 2 && len(f.audit.auditLines(t)) == 3
	})

	if n := f.applier.count(); n != 0 {
		t.Fatalf("detect mode applied %d times", n)
	}
	if v, _, _ := unstructured.NestedInt64(f.get(t, deploymentsGVR, "web").Object, "spec", "replicas"); v != 7 {
		t.Errorf("replicas = %d, detect mode must not revert", v)
	}
	if f.get(t, configMapsGVR, "cfg") != nil {
		t.Error("detect mode recreated the ConfigMap")
	}
	if f.reverted("src", "Deployment.apps") != 0 || f.detected("src", "ConfigMap") != 1 {
		t.Error("counters wrong")
	}
	events := f.drainEvents()
	if len(events) != 3 {
		t.Fatalf("events = %q, want three detections", events)
	}
	for _, e := range events {
		if !strings.HasPrefix(e, "Warning DriftDetected drift detected, not reverted") {
			t.Errorf("event %q", e)
		}
	}

	// Put back by hand: no longer drifted.
	f.edit(t, deploymentsGVR, "web", "kubectl-edit", now, func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(u.Object, int64(2), "spec", "replicas")
	})
	eventually(t, "conforms again", func() bool { return f.w.Drifted("src") == 1 })

	// The ConfigMap leaves Git: its drift goes with it.
	f.w.Track("src", buildIndex(t, "src", web), Detect)
	if n := f.w.Drifted("src"); n != 0 {
		t.Errorf("drifted = %d after the ConfigMap left the index", n)
	}
	want := []change{{"src", 1}, {"src", 2}, {"src", 1}, {"src", 0}}
	if got := f.changeLog(); !slices.Equal(got, want) {
		t.Errorf("OnChange calls = %v, want %v", got, want)
	}
}

func TestDriftWhileNobodyWatched(t *testing.T) {
	desired := deployment("src", "web", 2, "web")
	cm := configMap("src", "cfg", map[string]any{"mode": "prod"})
	live := desired.DeepCopy()
	_ = unstructured.SetNestedField(live.Object, int64(9), "spec", "replicas")
	stampEditor(live, "kubectl-edit", time.Now().Add(-time.Hour))
	f := newFixture(t, live) // the ConfigMap was deleted meanwhile
	f.w.Track("src", buildIndex(t, "src", desired, cm), Revert)
	f.start(t)

	eventually(t, "both reverted", func() bool {
		return f.reverted("src", "Deployment.apps") == 1 && f.reverted("src", "ConfigMap") == 1
	})
	if got := conform.Compare(desired.Object, f.get(t, deploymentsGVR, "web").Object); len(got) > 0 {
		t.Errorf("deployment differs: %v", got)
	}
	if f.get(t, configMapsGVR, "cfg") == nil {
		t.Error("configmap not recreated")
	}
	// The hour-old edit counts from its stamp.
	if sum := histogramSum(t, f.reg, "gitgate_drift_revert_seconds"); sum < 3600 {
		t.Errorf("latency sum %v, want at least the hour since the edit", sum)
	}
}

func TestRevertAddedContainer(t *testing.T) {
	desired := deployment("src", "web", 2, "web")
	f := newFixture(t, desired)
	f.w.Track("src", buildIndex(t, "src", desired), Revert)
	f.start(t)
	f.waitSynced(t, deploymentGK)

	f.edit(t, deploymentsGVR, "web", "kubectl-edit", time.Now(), func(u *unstructured.Unstructured) {
		cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
		cs = append(cs, map[string]any{"name": "sidecar", "image": "evil:1"})
		_ = unstructured.SetNestedSlice(u.Object, cs, "spec", "template", "spec", "containers")
		_ = unstructured.SetNestedField(u.Object, int64(4), "spec", "replicas")
	})
	eventually(t, "reverted", func() bool { return f.reverted("src", "Deployment.apps") == 1 && f.audit.String() != "" })
	if diffs := conform.Compare(desired.Object, f.get(t, deploymentsGVR, "web").Object); len(diffs) > 0 {
		t.Fatalf("after the revert: %v", diffs)
	}
	// Server-side apply cannot remove another manager's container: the
	// revert was one merge patch carrying the resource version.
	if n := f.applier.count(); n != 0 {
		t.Errorf("applied %d times, want the merge patch alone", n)
	}
	var patch clienttesting.PatchAction
	for _, a := range f.dyn.Actions() {
		if p, ok := a.(clienttesting.PatchAction); ok {
			patch = p
		}
	}
	if patch == nil || string(patch.GetPatchType()) != "application/merge-patch+json" || !strings.Contains(string(patch.GetPatch()), `"resourceVersion"`) {
		t.Fatalf("merge patch = %v", patch)
	}
	events := f.drainEvents()
	if len(events) != 1 || !strings.Contains(events[0], "containers[name=sidecar]: the object has") {
		t.Errorf("events = %q", events)
	}
}

func TestRetryAfterFailure(t *testing.T) {
	desired := deployment("src", "web", 2, "web")
	f := newFixture(t, desired)
	f.applier.failures, f.applier.failWith = 2, errApply
	f.w.Track("src", buildIndex(t, "src", desired), Revert)
	f.start(t)
	f.waitSynced(t, deploymentGK)

	f.edit(t, deploymentsGVR, "web", "kubectl-edit", time.Now(), func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(u.Object, int64(5), "spec", "replicas")
	})
	eventually(t, "reverted after retries", func() bool { return f.reverted("src", "Deployment.apps") == 1 && len(f.audit.auditLines(t)) == 2 })
	if n := f.applier.count(); n != 3 {
		t.Errorf("apply calls = %d, want 2 failures and a success", n)
	}
	if got := f.detected("src", "Deployment.apps"); got != 1 {
		t.Errorf("detected = %v: retries must not count again", got)
	}
	var failed, reverted int
	for _, e := range f.drainEvents() {
		switch {
		case strings.HasPrefix(e, "Warning DriftRevertFailed") && strings.Contains(e, "apply refused"):
			failed++
		case strings.HasPrefix(e, "Warning DriftReverted"):
			reverted++
		default:
			t.Errorf("event %q", e)
		}
	}
	if failed != 1 || reverted != 1 {
		t.Errorf("failed events %d, reverted %d; want one each", failed, reverted)
	}
	if !strings.Contains(f.logs.String(), "will retry") {
		t.Error("failure not logged")
	}
	// Counted as drifted while the revert failed, until it succeeded.
	eventually(t, "count back to 0", func() bool { return f.w.Drifted("src") == 0 })
	if got := f.changeLog(); !slices.Equal(got, []change{{"src", 1}, {"src", 0}}) {
		t.Errorf("OnChange calls = %v, want drifted while failing, then reverted", got)
	}
}

func TestSecretValuesNeverShown(t *testing.T) {
	const gitValue, liveValue = "git-secret-value", "live-secret-value"
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	desired := secret("src", "creds", map[string]any{"password": enc(gitValue)})
	f := newFixture(t, desired)
	// The failure's message quotes the value, as API validation may.
	f.applier.failures, f.applier.failWith = 1, apierrors.NewBadRequest("data[password]: Invalid value: "+liveValue)
	f.w.Track("src", buildIndex(t, "src", desired), Revert)
	f.start(t)
	f.eventuallySynced(t, schema.GroupKind{Kind: "Secret"})

	f.edit(t, secretsGVR, "creds", "kubectl-edit", time.Now(), func(u *unstructured.Unstructured) {
		u.Object["data"] = map[string]any{"password": enc(liveValue)}
	})
	eventually(t, "reverted", func() bool { return f.reverted("src", "Secret") == 1 && len(f.audit.auditLines(t)) == 2 })
	events := strings.Join(f.drainEvents(), "\n")
	everything := events + f.audit.String() + f.logs.String()
	for _, leak := range []string{gitValue, liveValue, enc(gitValue), enc(liveValue)} {
		if strings.Contains(everything, leak) {
			t.Errorf("a secret value %q leaked into events, audit or logs:\n%s", leak, everything)
		}
	}
	if !strings.Contains(events, "fields data.password differ from Git") || !strings.Contains(events, "API status BadRequest") {
		t.Errorf("events = %q", events)
	}
	for _, a := range f.audit.auditLines(t) {
		for _, d := range a.Diffs {
			if d.Path != "data.password" || d.Git != nil || d.Live != nil {
				t.Errorf("audit diff %+v", d)
			}
		}
	}
}

func (f *fixture) eventuallySynced(t *testing.T, gk schema.GroupKind) { f.waitSynced(t, gk) }

func TestWatchesFollowTrackedKinds(t *testing.T) {
	webA := deployment("a", "web-a", 1, "web")
	webB := deployment("b", "web-b", 1, "web")
	cmB := configMap("b", "cfg-b", map[string]any{"k": "v"})
	f := newFixture(t, webA, webB, cmB)
	// Tracked before Start: nothing runs yet.
	f.w.Track("a", buildIndex(t, "a", webA), Revert)
	f.w.Track("b", buildIndex(t, "b", webB, cmB), Revert)
	if kinds := f.watchedKinds(); len(kinds) != 0 {
		t.Fatalf("watches before Start: %v", kinds)
	}
	f.start(t)
	f.waitSynced(t, deploymentGK, configMapGK)
	if g := testutil.ToFloat64(f.w.metrics.watches); g != 2 {
		t.Errorf("watches gauge = %v, want 2", g)
	}

	f.w.Forget("b")
	eventually(t, "configmap watch stopped", func() bool {
		kinds := f.watchedKinds()
		return len(kinds) == 1 && kinds[0] == deploymentGK
	})
	f.w.Forget("a")
	eventually(t, "every watch stopped", func() bool { return len(f.watchedKinds()) == 0 })
	if g := testutil.ToFloat64(f.w.metrics.watches); g != 0 {
		t.Errorf("watches gauge = %v, want 0", g)
	}

	// An untracked source's objects are not reverted.
	f.w.Track("a", buildIndex(t, "a", webA), Revert)
	f.waitSynced(t, deploymentGK)
	f.edit(t, deploymentsGVR, "web-b", "kubectl-edit", time.Now(), func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(u.Object, int64(5), "spec", "replicas")
	})
	f.edit(t, deploymentsGVR, "web-a", "kubectl-edit", time.Now(), func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(u.Object, int64(5), "spec", "replicas")
	})
	eventually(t, "tracked source reverted", func() bool { return f.reverted("a", "Deployment.apps") == 1 })
	if f.detected("b", "Deployment.apps") != 0 || f.applier.count() != 1 {
		t.Errorf("untracked source b judged: detected %v, applies %d", f.detected("b", "Deployment.apps"), f.applier.count())
	}
}

func TestLabelMovedToAnotherSource(t *testing.T) {
	web := deployment("a", "web", 1, "web")
	f := newFixture(t, web)
	f.w.Track("a", buildIndex(t, "a", web), Detect)
	f.start(t)
	f.waitSynced(t, deploymentGK)
	f.edit(t, deploymentsGVR, "web", "kubectl-edit", time.Now(), func(u *unstructured.Unstructured) {
		u.SetLabels(map[string]string{v1alpha1.SourceLabel: "b"})
	})
	eventually(t, "relabel detected for the old source", func() bool { return f.w.Drifted("a") == 1 })
}

func TestTrackRechecksChangedManifests(t *testing.T) {
	web := deployment("src", "web", 2, "web")
	f := newFixture(t, web)
	f.w.Track("src", buildIndex(t, "src", web), Detect)
	f.start(t)
	f.waitSynced(t, deploymentGK)
	f.edit(t, deploymentsGVR, "web", "kubectl-edit", time.Now(), func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(u.Object, int64(5), "spec", "replicas")
	})
	eventually(t, "detected", func() bool { return f.w.Drifted("src") == 1 })

	// Git now says 5: the live object conforms without any event.
	f.w.Track("src", buildIndex(t, "src", deployment("src", "web", 5, "web")), Detect)
	eventually(t, "conforms to the new index", func() bool { return f.w.Drifted("src") == 0 })

	// Git says 3 again, and the mode turns to revert: put back at once.
	f.w.Track("src", buildIndex(t, "src", deployment("src", "web", 3, "web")), Revert)
	eventually(t, "reverted", func() bool { return f.reverted("src", "Deployment.apps") == 1 })
	if v, _, _ := unstructured.NestedInt64(f.get(t, deploymentsGVR, "web").Object, "spec", "replicas"); v != 3 {
		t.Errorf("replicas = %d, want 3", v)
	}
}

func TestModeSwitchRevertsDetectedDrift(t *testing.T) {
	web := deployment("src", "web", 2, "web")
	ix := buildIndex(t, "src", web)
	f := newFixture(t, web)
	f.w.Track("src", ix, Detect)
	f.start(t)
	f.waitSynced(t, deploymentGK)
	f.edit(t, deploymentsGVR, "web", "kubectl-edit", time.Now(), func(u *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(u.Object, int64(5), "spec", "replicas")
	})
	eventually(t, "detected", func() bool { return f.w.Drifted("src") == 1 })
	f.w.Track("src", ix, Revert)
	eventually(t, "reverted", func() bool { return f.reverted("src", "Deployment.apps") == 1 && f.w.Drifted("src") == 0 })
}

func TestForgetReportsZero(t *testing.T) {
	web := deployment("src", "web", 2, "web")
	live := web.DeepCopy()
	_ = unstructured.SetNestedField(live.Object, int64(5), "spec", "replicas")
	f := newFixture(t, live)
	f.w.Track("src", buildIndex(t, "src", web), Detect)
	f.start(t)
	eventually(t, "detected", func() bool { return f.w.Drifted("src") == 1 })
	f.w.Forget("src")
	if got := f.changeLog(); !slices.Equal(got, []change{{"src", 1}, {"src", 0}}) {
		t.Errorf("OnChange calls = %v", got)
	}
	if f.w.Drifted("src") != 0 {
		t.Error("forgotten source still drifted")
	}
}

func TestNormalizeMode(t *testing.T) {
	for in, want := range map[Mode]Mode{"": Revert, Revert: Revert, Detect: Detect, "Revert": Detect, "bogus": Detect} {
		if got := normalize(in); got != want {
			t.Errorf("normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWantedVersionVote(t *testing.T) {
	f := newFixture(t)
	v1 := deployment("a", "one", 1, "web")
	v1b := deployment("a", "two", 1, "web")
	beta := deployment("b", "three", 1, "web")
	beta.SetAPIVersion("apps/v1beta2")
	f.w.Track("a", buildIndex(t, "a", v1, v1b), Revert)
	f.w.Track("b", buildIndex(t, "b", beta), Revert)
	f.w.mu.Lock()
	got := f.w.wantedLocked()
	f.w.mu.Unlock()
	if got[deploymentGK] != "v1" || len(got) != 1 {
		t.Errorf("wanted = %v, want apps Deployment at v1 (two votes to one)", got)
	}
}
