package gitgate.workloads.probes_test

import data.gitgate.lib.fixtures
import data.gitgate.workloads.probes as policy

probes := {"livenessProbe": {"httpGet": {"port": 8080}}, "readinessProbe": {"httpGet": {"port": 8080}}}

long_running := {"Pod", "PodTemplate", "ReplicationController", "ReplicaSet", "Deployment", "DaemonSet", "StatefulSet"}

test_allowed_both_probes[case] if {
	spec := {
		"containers": [fixtures.container("app", probes)],
		"initContainers": [fixtures.container("init", {})],
		"ephemeralContainers": [{"name": "debug", "image": "busybox:1"}],
	}
	some case, obj in fixtures.workloads({}, spec)
	count(policy.deny) == 0 with input as obj
}

test_denied_missing_probes[case] if {
	some variant, missing in {"livenessProbe": "livenessProbe", "readinessProbe": "readinessProbe"}
	spec := fixtures.pod_spec([fixtures.container("app", probes), fixtures.container("bad", json.remove(probes, [missing]))])
	some kind, manifest in fixtures.manifests({}, spec)
	kind in long_running
	some shape, obj in fixtures.shapes(manifest)
	case := sprintf("%s %s %s", [variant, kind, shape])
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.container == "bad"
	endswith(r.details.field, sprintf("containers[1].%s", [missing]))
}

test_allowed_run_to_completion_kinds[case] if {
	spec := fixtures.pod_spec([fixtures.container("app", {})])
	some kind in ["Job", "CronJob"]
	some shape, obj in fixtures.shapes(fixtures.manifests({}, spec)[kind])
	case := sprintf("%s %s", [kind, shape])
	count(policy.deny) == 0 with input as obj
}

test_allowed_pods_owned_by_a_job[shape] if {
	spec := fixtures.pod_spec([fixtures.container("app", {})])
	pod := json.patch(fixtures.manifests({}, spec).Pod, [{"op": "add", "path": "/metadata/ownerReferences", "value": [{"apiVersion": "batch/v1", "kind": "Job", "name": "j", "uid": "1"}]}])
	some shape, obj in fixtures.shapes(pod)
	count(policy.deny) == 0 with input as obj
}

test_denied_jobs_when_not_skipped[shape] if {
	spec := fixtures.pod_spec([fixtures.container("app", {})])
	some shape, obj in fixtures.shapes(fixtures.manifests({}, spec).Job)
	results := policy.deny with input as obj with data.gitgate.parameters.workloads.probes.skip_kinds as []
	count(results) == 2
}

test_denied_startup_probe_when_required[case] if {
	spec := fixtures.pod_spec([fixtures.container("app", probes)])
	some case, obj in fixtures.shapes(fixtures.manifests({}, spec).Deployment)
	results := policy.deny with input as obj
		with data.gitgate.parameters.workloads.probes.probes as ["livenessProbe", "readinessProbe", "startupProbe"]
	[r.details.field | some r in results] == ["spec.template.spec.containers[0].startupProbe"]
}

test_allowed_other_kinds[case] if {
	some case, obj in fixtures.non_workloads
	count(policy.deny) == 0 with input as obj
}
