package gitgate.pss.baseline.host_namespaces_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.baseline.host_namespaces as policy

test_allowed_when_unset_or_false[case] if {
	some spec in [
		fixtures.pod_spec([fixtures.container("app", {})]),
		object.union(fixtures.pod_spec([fixtures.container("app", {})]), {"hostNetwork": false, "hostPID": false, "hostIPC": false}),
	]
	some case, obj in fixtures.workloads({}, spec)
	count(policy.deny) == 0 with input as obj
}

test_denied_each_host_namespace[case] if {
	some field in ["hostNetwork", "hostPID", "hostIPC"]
	spec := object.union(fixtures.pod_spec([fixtures.container("app", {})]), {field: true})
	some kind, obj in fixtures.workloads({}, spec)
	case := sprintf("%s %s", [field, kind])
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	endswith(r.details.field, sprintf("spec.%s", [field]))
	r.details.policy == "pss.baseline.host_namespaces"
}

test_denied_all_three if {
	spec := object.union(fixtures.pod_spec([fixtures.container("app", {})]), {"hostNetwork": true, "hostPID": true, "hostIPC": true})
	obj := fixtures.manifests({}, spec).Deployment
	results := policy.deny with input as obj
	{r.details.field | some r in results} == {"spec.template.spec.hostNetwork", "spec.template.spec.hostPID", "spec.template.spec.hostIPC"}
}

test_not_applied_to_other_kinds[case] if {
	some case, obj in fixtures.non_workloads
	count(policy.deny) == 0 with input as obj
}
