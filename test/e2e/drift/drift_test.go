package drifte2e

import (
	"strings"
	"testing"

	"gitgate.dev/gitgate/reconcile/drift"
)

// TestRevert: a changed replica count, a deleted managed ConfigMap and an
// added container, each made by another field manager, are put back.
func TestRevert(t *testing.T) {
	ns, source := uniqueNamespace("drift-revert"), "revert-src"
	web := deployment(ns, source, "web", 2, "web")
	cfg := configMap(ns, source, "web-config")
	s := newSuite(t, ns, source, drift.Revert, web, cfg)

	t.Run("replica count", func(t *testing.T) {
		s.edit(t, deploymentsGVR, "web", setReplicas(7))
		eventually(t, "replicas put back", func() bool { return s.conforms(t, deploymentsGVR, web) })
		eventually(t, "event", func() bool { return len(s.events(t, "web", "DriftReverted")) > 0 })
		msg := s.events(t, "web", "DriftReverted")[0]
		for _, want := range []string{"spec.replicas: Git has 2, the object has 7", "edited by " + editor + " (Update", "apps/web.yaml"} {
			if !strings.Contains(msg, want) {
				t.Errorf("event %q lacks %q", msg, want)
			}
		}
	})
	t.Run("deleted ConfigMap", func(t *testing.T) {
		s.remove(t, configMapsGVR, "web-config")
		eventually(t, "ConfigMap recreated", func() bool { return s.conforms(t, configMapsGVR, cfg) })
		eventually(t, "event", func() bool { return len(s.events(t, "web-config", "DriftReverted")) > 0 })
		// The Event hangs on the recreated object.
		live := s.get(t, configMapsGVR, "web-config")
		list := s.eventObjects(t, "web-config", "DriftReverted")
		if len(list) == 0 || list[0] != string(live.GetUID()) {
			t.Errorf("event on UIDs %v, want the recreated object's %s", list, live.GetUID())
		}
	})
	t.Run("added container", func(t *testing.T) {
		s.edit(t, deploymentsGVR, "web", addContainer("sidecar"))
		eventually(t, "container removed", func() bool { return s.conforms(t, deploymentsGVR, web) })
		eventually(t, "event", func() bool {
			for _, m := range s.events(t, "web", "DriftReverted") {
				if strings.Contains(m, "containers[name=sidecar]: the object has") {
					return true
				}
			}
			return false
		})
		// The server defaults of Git's container stay as after an apply.
		live := s.get(t, deploymentsGVR, "web")
		cs, _, _ := unstructuredSlice(live.Object, "spec", "template", "spec", "containers")
		if len(cs) != 1 {
			t.Fatalf("containers = %v", cs)
		}
		if c := cs[0].(map[string]any); c["terminationMessagePath"] == nil || c["imagePullPolicy"] == nil {
			t.Errorf("container lost its server defaults: %v", c)
		}
	})
	t.Run("counted", func(t *testing.T) {
		labels := map[string]string{"source": source, "kind": "Deployment.apps"}
		eventually(t, "counters", func() bool {
			return s.metric(t, "gitgate_drift_reverted_total", labels) == 2 &&
				s.metric(t, "gitgate_drift_reverted_total", map[string]string{"source": source, "kind": "ConfigMap"}) == 1
		})
		if got := s.metric(t, "gitgate_drift_detected_total", labels); got != 2 {
			t.Errorf("detected = %v, want 2", got)
		}
		if got := s.metric(t, "gitgate_drift_revert_seconds", nil); got != 3 {
			t.Errorf("revert latency observations = %v, want 3", got)
		}
		if n := s.w.Drifted(source); n != 0 {
			t.Errorf("drifted = %d after the reverts", n)
		}
		if !strings.Contains(s.audit.String(), `"manager":"`+editor+`"`) {
			t.Errorf("audit log does not name the editor:\n%s", s.audit.String())
		}
	})
}

// TestDetect: the same edits in detect mode are reported and counted, and
// nothing is written.
func TestDetect(t *testing.T) {
	ns, source := uniqueNamespace("drift-detect"), "detect-src"
	web := deployment(ns, source, "web", 2, "web")
	api := deployment(ns, source, "api", 1, "api")
	cfg := configMap(ns, source, "web-config")
	s := newSuite(t, ns, source, drift.Detect, web, api, cfg)

	s.edit(t, deploymentsGVR, "web", setReplicas(7))
	s.remove(t, configMapsGVR, "web-config")
	s.edit(t, deploymentsGVR, "api", addContainer("sidecar"))
	eventually(t, "three drifts", func() bool { return s.w.Drifted(source) == 3 })
	eventually(t, "counted", func() bool {
		return s.metric(t, "gitgate_drift_detected_total", map[string]string{"source": source, "kind": "Deployment.apps"}) == 2 &&
			s.metric(t, "gitgate_drift_detected_total", map[string]string{"source": source, "kind": "ConfigMap"}) == 1
	})
	eventually(t, "events", func() bool {
		return len(s.events(t, "web", "DriftDetected")) == 1 && len(s.events(t, "api", "DriftDetected")) == 1 &&
			len(s.events(t, "web-config", "DriftDetected")) == 1
	})
	if n := s.applier.calls.Load(); n != 0 {
		t.Errorf("detect mode applied %d times", n)
	}
	if s.conforms(t, deploymentsGVR, web) || s.conforms(t, deploymentsGVR, api) || s.get(t, configMapsGVR, "web-config") != nil {
		t.Error("detect mode put something back")
	}
	if got := s.metric(t, "gitgate_drift_reverted_total", map[string]string{"source": source}); got != 0 {
		t.Errorf("reverted = %v in detect mode", got)
	}

	// Put back by hand: no longer counted as drifted.
	s.edit(t, deploymentsGVR, "web", setReplicas(2))
	eventually(t, "web conforms", func() bool { return s.w.Drifted(source) == 2 })
	// The ConfigMap leaves Git: its drift goes with it.
	s.w.Track(source, s.index(t, web, api), drift.Detect)
	if n := s.w.Drifted(source); n != 1 {
		t.Errorf("drifted = %d, want the added container only", n)
	}
}

// TestForgetStopsWatches: untracking the last source that needs a kind
// closes its watch on the API server.
func TestForgetStopsWatches(t *testing.T) {
	ns, source := uniqueNamespace("drift-forget"), "forget-src"
	web := deployment(ns, source, "web", 1, "web")
	cfg := configMap(ns, source, "web-config")
	s := newSuite(t, ns, source, drift.Revert, web, cfg)
	eventually(t, "watches open", func() bool {
		return s.metric(t, "gitgate_drift_watches", nil) == 2 &&
			serverWatches(t, s.env, "deployments") >= 1 && serverWatches(t, s.env, "configmaps") >= 1
	})
	before := serverWatches(t, s.env, "deployments")

	s.w.Forget(source)
	eventually(t, "watches closed", func() bool {
		return s.metric(t, "gitgate_drift_watches", nil) == 0 && serverWatches(t, s.env, "deployments") == before-1
	})
	// Nothing watches any more: an edit stays.
	s.edit(t, deploymentsGVR, "web", setReplicas(4))
	if s.w.Drifted(source) != 0 || s.applier.calls.Load() != 0 {
		t.Error("an untracked source was judged")
	}

	// Tracked again: the new watch's initial list finds the edit made
	// while nobody watched.
	s.w.Track(source, s.ix, drift.Revert)
	eventually(t, "reverted after the restart", func() bool { return s.conforms(t, deploymentsGVR, web) })
}

// eventObjects returns the involved objects' UIDs of Events with reason on
// name.
func (s *suite) eventObjects(t *testing.T, name, reason string) []string {
	t.Helper()
	list, err := s.kube.CoreV1().Events(s.ns).List(t.Context(), metav1ListOptions("involvedObject.name="+name+",reason="+reason))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(list.Items))
	for _, e := range list.Items {
		out = append(out, string(e.InvolvedObject.UID))
	}
	return out
}
