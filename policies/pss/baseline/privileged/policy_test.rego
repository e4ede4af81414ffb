package gitgate.pss.baseline.privileged_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.baseline.privileged as policy

test_allowed_unset_or_false[case] if {
	some variant, sc in {"unset": {}, "false": {"privileged": false}}
	spec := fixtures.pod_spec([fixtures.container("app", {"securityContext": sc})])
	some kind, obj in fixtures.workloads({}, spec)
	case := sprintf("%s %s", [variant, kind])
	count(policy.deny) == 0 with input as obj
}

test_denied_privileged_in_every_container_list[case] if {
	some field in ["containers", "initContainers", "ephemeralContainers"]
	spec := {
		"containers": [fixtures.container("app", {})],
		field: [fixtures.container("bad", {"securityContext": {"privileged": true}})],
	}
	some kind, obj in fixtures.workloads({}, spec)
	case := sprintf("%s %s", [field, kind])
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.container == "bad"
	endswith(r.details.field, sprintf("%s[0].securityContext.privileged", [field]))
	contains(r.msg, `container "bad" must not set securityContext.privileged=true`)
}

test_denied_once_per_container if {
	spec := fixtures.pod_spec([
		fixtures.container("a", {"securityContext": {"privileged": true}}),
		fixtures.container("b", {"securityContext": {"privileged": true}}),
	])
	results := policy.deny with input as fixtures.manifests({}, spec).Pod
	{r.details.container | some r in results} == {"a", "b"}
}

test_allowed_other_kinds[case] if {
	some case, obj in fixtures.non_workloads
	count(policy.deny) == 0 with input as obj
}
