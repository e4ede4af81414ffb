package gitgate.pss.baseline.host_path_volumes_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.baseline.host_path_volumes as policy

test_allowed_other_volume_types[case] if {
	spec := object.union(fixtures.pod_spec([fixtures.container("app", {})]), {"volumes": [
		{"name": "a", "emptyDir": {}},
		{"name": "b", "configMap": {"name": "cm"}},
		{"name": "c", "hostPath": null},
		{"name": "d"},
	]})
	some case, obj in fixtures.workloads({}, spec)
	count(policy.deny) == 0 with input as obj
}

test_denied_host_path[case] if {
	spec := object.union(fixtures.pod_spec([fixtures.container("app", {})]), {"volumes": [
		{"name": "ok", "emptyDir": {}},
		{"name": "root", "hostPath": {"path": "/"}},
	]})
	some case, obj in fixtures.workloads({}, spec)
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.volume == "root"
	endswith(r.details.field, "volumes[1].hostPath")
	r.details.value == {"path": "/"}
}

test_denied_every_host_path_volume if {
	spec := object.union(fixtures.pod_spec([fixtures.container("app", {})]), {"volumes": [
		{"name": "a", "hostPath": {"path": "/a"}},
		{"name": "b", "hostPath": {"path": "/b"}},
	]})
	results := policy.deny with input as fixtures.review(fixtures.manifests({}, spec).CronJob)
	{r.details.volume | some r in results} == {"a", "b"}
}

test_allowed_other_kinds[case] if {
	some case, obj in fixtures.non_workloads
	count(policy.deny) == 0 with input as obj
}
