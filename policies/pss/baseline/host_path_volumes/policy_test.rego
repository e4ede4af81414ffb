package gitgate.pss.baseline.host_path_volumes_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.baseline.host_path_volumes as policy

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

test_allowed_other_volume_types if {
	spec := object.union(fixtures.pod_spec([fixtures.container("app", {})]), {"volumes": [
		{"name": "a", "emptyDir": {}},
		{"name": "b", "configMap": {"name": "cm"}},
		{"name": "c", "hostPath": null},
		{"name": "d"},
	]})
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.workloads({}, spec)})
}

test_denied_host_path if {
	spec := object.union(fixtures.pod_spec([fixtures.container("app", {})]), {"volumes": [
		{"name": "ok", "emptyDir": {}},
		{"name": "root", "hostPath": {"path": "/"}},
	]})
	fixtures.all_pass({case: denies_root(obj) | some case, obj in fixtures.workloads({}, spec)})
}

denies_root(obj) if {
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.volume == "root"
	endswith(r.details.field, "volumes[1].hostPath")
	r.details.value == {"path": "/"}
} else := false

test_denied_every_host_path_volume if {
	spec := object.union(fixtures.pod_spec([fixtures.container("app", {})]), {"volumes": [
		{"name": "a", "hostPath": {"path": "/a"}},
		{"name": "b", "hostPath": {"path": "/b"}},
	]})
	results := policy.deny with input as fixtures.review(fixtures.manifests({}, spec).CronJob)
	{r.details.volume | some r in results} == {"a", "b"}
}

test_allowed_other_kinds if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.non_workloads})
}
