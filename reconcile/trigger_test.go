package reconcile

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"gitgate.dev/gitgate/api/v1alpha1"
)

func TestTriggerStampsEveryReplica(t *testing.T) {
	f := newFixture(t, &v1alpha1.GitSource{ObjectMeta: metav1.ObjectMeta{Name: "src"}})
	f.r.Trigger("src")
	deadline := time.Now().Add(5 * time.Second)
	var stamp string
	for stamp == "" && time.Now().Before(deadline) {
		stamp = f.get(t, "src").Annotations[SyncRequestedAnnotation]
		time.Sleep(10 * time.Millisecond)
	}
	if stamp == "" {
		t.Fatalf("Trigger did not stamp %s on the GitSource", SyncRequestedAnnotation)
	}
	// The replica that stamped it syncs once, from the Trigger, not again
	// when its own stamp comes back through the watch.
	st := f.r.state("src")
	st.gen, st.nextFetch = 1, time.Now().Add(time.Hour)
	if !st.due(1, time.Now(), stamp) {
		t.Error("the Trigger itself did not make the sync due")
	}
	if st.due(1, time.Now(), stamp) {
		t.Error("the replica's own stamp made a second sync due")
	}
}

func TestSyncRequestedAnnotationMakesSyncDue(t *testing.T) {
	st := newSourceState()
	now := time.Now()
	st.gen, st.nextFetch = 3, now.Add(time.Hour)
	steps := []struct {
		annotation string
		want       bool
	}{
		{"", false},
		{"2026-11-26T10:00:00Z", true},
		{"2026-11-26T10:00:00Z", false},
		{"by hand", true},
		{"", false},
	}
	for i, s := range steps {
		if got := st.due(3, now, s.annotation); got != s.want {
			t.Errorf("step %d, annotation %q: due %v, want %v", i, s.annotation, got, s.want)
		}
	}
}

func TestSyncRequestedPredicate(t *testing.T) {
	with := func(v string) *v1alpha1.GitSource {
		gs := &v1alpha1.GitSource{ObjectMeta: metav1.ObjectMeta{Name: "src", Annotations: map[string]string{"other": "x"}}}
		if v != "" {
			gs.Annotations[SyncRequestedAnnotation] = v
		}
		return gs
	}
	p := syncRequested()
	cases := []struct {
		old, new string
		want     bool
	}{
		{"", "a", true},
		{"a", "b", true},
		{"a", "a", false},
		{"", "", false},
	}
	for _, c := range cases {
		if got := p.Update(event.UpdateEvent{ObjectOld: with(c.old), ObjectNew: with(c.new)}); got != c.want {
			t.Errorf("%q -> %q: %v, want %v", c.old, c.new, got, c.want)
		}
	}
}
