package gitgate.workloads.probes_test

import data.gitgate.lib.fixtures
import data.gitgate.workloads.probes as policy

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

probes := {"livenessProbe": {"httpGet": {"port": 8080}}, "readinessProbe": {"httpGet": {"port": 8080}}}

long_running := {"Pod", "PodTemplate", "ReplicationController", "ReplicaSet", "Deployment", "DaemonSet", "StatefulSet"}

test_allowed_both_probes if {
	spec := {
		"containers": [fixtures.container("app", probes)],
		"initContainers": [fixtures.container("init", {})],
		"ephemeralContainers": [{"name": "debug", "image": "busybox:1"}],
	}
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.all_workloads({}, spec)})
}

test_denied_missing_probes if {
	fixtures.all_pass({case: denies_missing(obj, missing) |
		some missing in ["livenessProbe", "readinessProbe"]
		spec := fixtures.pod_spec([fixtures.container("app", probes), fixtures.container("bad", json.remove(probes, [missing]))])
		some kind, manifest in fixtures.manifests({}, spec)
		kind in long_running
		some shape, obj in fixtures.shapes(manifest)
		case := sprintf("%s %s %s", [missing, kind, shape])
	})
}

denies_missing(obj, missing) if {
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.container == "bad"
	endswith(r.details.field, sprintf("containers[1].%s", [missing]))
} else := false

test_allowed_run_to_completion_kinds if {
	spec := fixtures.pod_spec([fixtures.container("app", {})])
	fixtures.all_pass({case: allows(obj) |
		some kind in ["Job", "CronJob"]
		some shape, obj in fixtures.shapes(fixtures.manifests({}, spec)[kind])
		case := sprintf("%s %s", [kind, shape])
	})
}

test_allowed_pods_owned_by_a_job if {
	spec := fixtures.pod_spec([fixtures.container("app", {})])
	pod := json.patch(fixtures.manifests({}, spec).Pod, [{"op": "add", "path": "/metadata/ownerReferences", "value": [{"apiVersion": "batch/v1", "kind": "Job", "name": "j", "uid": "1"}]}])
	fixtures.all_pass({shape: allows(obj) | some shape, obj in fixtures.shapes(pod)})
}

test_denied_jobs_when_not_skipped if {
	spec := fixtures.pod_spec([fixtures.container("app", {})])
	fixtures.all_pass({shape: denies_job(obj) | some shape, obj in fixtures.shapes(fixtures.manifests({}, spec).Job)})
}

denies_job(obj) if {
	count(policy.deny) == 2 with input as obj with data.gitgate.parameters.workloads.probes.skip_kinds as []
} else := false

test_denied_startup_probe_when_required if {
	obj := fixtures.manifests({}, fixtures.pod_spec([fixtures.container("app", probes)])).Deployment
	results := policy.deny with input as fixtures.review(obj)
		with data.gitgate.parameters.workloads.probes.probes as ["livenessProbe", "readinessProbe", "startupProbe"]
	[r.details.field | some r in results] == ["spec.template.spec.containers[0].startupProbe"]
}

test_allowed_other_kinds if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.non_workloads})
}
