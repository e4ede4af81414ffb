package drifte2e

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"gitgate.dev/gitgate/provenance/conform"
	"gitgate.dev/gitgate/reconcile/drift"
)

// BenchmarkDriftRevert measures the drift revert latency on the real API
// server: each iteration is one out-of-band edit by another field manager,
// in turn a changed replica count, an added container and a deleted
// ConfigMap, timed from just before the edit's request is sent to the
// arrival, on a watch of the benchmark's own, of the event that shows the
// object conforming again. That is the latency a user sees, and it includes
// the edit's own round trip and two watch deliveries. Run 100 edits with
// -benchtime 100x; p50/p90/p99/max are reported in milliseconds, next to
// the mean of the Watcher's own gitgate_drift_revert_seconds.
func BenchmarkDriftRevert(b *testing.B) {
	ns, source := uniqueNamespace("drift-bench"), "bench-src"
	web := deployment(ns, source, "web", 2, "web")
	cfg := configMap(ns, source, "web-config")
	s := newSuite(b, ns, source, drift.Revert, web, cfg)
	ctx := b.Context()
	eventually(b, "watches", func() bool { return s.metric(b, "gitgate_drift_watches", nil) == 2 })

	deployments := s.watch(b, deploymentsGVR, "web")
	configMaps := s.watch(b, configMapsGVR, "web-config")
	edits := []func() (time.Time, time.Time){
		func() (time.Time, time.Time) {
			return s.timedUpdate(b, deployments, web, setReplicas(5))
		},
		func() (time.Time, time.Time) {
			return s.timedUpdate(b, deployments, web, addContainer("sidecar"))
		},
		func() (time.Time, time.Time) {
			drain(configMaps)
			t0 := time.Now()
			if err := s.resource(configMapsGVR).Delete(ctx, "web-config", metav1.DeleteOptions{}); err != nil {
				b.Fatal(err)
			}
			deleted := false
			return t0, awaitEvent(b, configMaps, func(ev watch.Event, u *unstructured.Unstructured) bool {
				if ev.Type == watch.Deleted {
					deleted = true
					return false
				}
				return deleted && ev.Type == watch.Added && len(conform.Compare(cfg.Object, u.Object)) == 0
			})
		},
	}

	// One edit of each kind first, unmeasured: the first revert pays for
	// client and connection setup.
	for _, e := range edits {
		e()
		s.settle(b, source)
	}
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		t0, t1 := edits[i%len(edits)]()
		lat = append(lat, t1.Sub(t0))
		b.StopTimer()
		s.settle(b, source)
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(percentile(lat, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(lat, 0.90)), "p90-ms")
	b.ReportMetric(ms(percentile(lat, 0.99)), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	if sum, n := s.histogram(b, "gitgate_drift_revert_seconds"); n > 0 {
		b.ReportMetric(sum/n*1000, "watcher-mean-ms")
	}
	b.ReportMetric(0, "ns/op") // the per-op time is the mean of lat; percentiles say more
}

// percentile returns the q-quantile of sorted (nearest rank).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := max(int(math.Ceil(q*float64(len(sorted))))-1, 0)
	return sorted[i]
}

// watch opens a watch of the benchmark's own on one object.
func (s *suite) watch(b *testing.B, gvr schema.GroupVersionResource, name string) <-chan watch.Event {
	b.Helper()
	w, err := s.env.Dynamic.Resource(gvr).Namespace(s.ns).Watch(b.Context(), metav1.ListOptions{FieldSelector: "metadata.name=" + name})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(w.Stop)
	return w.ResultChan()
}

// timedUpdate reads the Deployment, changes it, and times the update as
// the editor until the watch shows it conforming to desired again, after
// the edit's own event.
func (s *suite) timedUpdate(b *testing.B, events <-chan watch.Event, desired *unstructured.Unstructured, change func(*unstructured.Unstructured)) (time.Time, time.Time) {
	b.Helper()
	u := s.get(b, deploymentsGVR, desired.GetName())
	change(u)
	drain(events)
	t0 := time.Now()
	edited, err := s.resource(deploymentsGVR).Update(context.Background(), u, metav1.UpdateOptions{FieldManager: editor})
	if err != nil {
		b.Fatal(err)
	}
	rv, seen := edited.GetResourceVersion(), false
	return t0, awaitEvent(b, events, func(_ watch.Event, u *unstructured.Unstructured) bool {
		if u.GetResourceVersion() == rv {
			seen = true
			return false
		}
		return seen && len(conform.Compare(desired.Object, u.Object)) == 0
	})
}

// awaitEvent returns the arrival time of the first event done accepts.
func awaitEvent(b *testing.B, events <-chan watch.Event, done func(watch.Event, *unstructured.Unstructured) bool) time.Time {
	b.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				b.Fatal("watch closed")
			}
			u, isObj := ev.Object.(*unstructured.Unstructured)
			if !isObj {
				b.Fatalf("watch event %s: %T", ev.Type, ev.Object)
			}
			if done(ev, u) {
				return time.Now()
			}
		case <-timeout:
			b.Fatal("no revert within 30 s")
		}
	}
}

// drain drops the events already delivered.
func drain(events <-chan watch.Event) {
	for {
		select {
		case <-events:
		default:
			return
		}
	}
}

// settle waits until the Watcher has nothing drifted, so the next edit is
// measured alone.
func (s *suite) settle(b *testing.B, source string) {
	eventually(b, "settled", func() bool { return s.w.Drifted(source) == 0 })
}

// histogram returns the sum and count of a histogram of the Watcher.
func (s *suite) histogram(b *testing.B, name string) (sum, count float64) {
	b.Helper()
	mfs, err := s.reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			h := mf.GetMetric()[0].GetHistogram()
			return h.GetSampleSum(), float64(h.GetSampleCount())
		}
	}
	return 0, 0
}
