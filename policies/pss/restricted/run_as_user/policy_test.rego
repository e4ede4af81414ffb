package gitgate.pss.restricted.run_as_user_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.restricted.run_as_user as policy

test_allowed_non_zero_or_unset[case] if {
	some variant, uid in {"unset": null, "1000": 1000}
	spec := fixtures.with_container_security(
		fixtures.restricted_spec({"securityContext": {"runAsUser": uid}}),
		"containers", 0, {"runAsUser": uid},
	)
	some kind, obj in fixtures.workloads({}, spec)
	case := sprintf("%s %s", [variant, kind])
	count(policy.deny) == 0 with input as obj
}

test_allowed_user_namespace[case] if {
	spec := fixtures.restricted_spec({"hostUsers": false, "securityContext": {"runAsUser": 0}})
	some case, obj in fixtures.workloads({}, spec)
	count(policy.deny) == 0 with input as obj
}

test_denied_pod_root[case] if {
	spec := fixtures.restricted_spec({"securityContext": {"runAsUser": 0}})
	some case, obj in fixtures.workloads({}, spec)
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	endswith(r.details.field, "spec.securityContext.runAsUser")
}

test_denied_container_root[case] if {
	some field in ["containers", "initContainers"]
	spec := fixtures.with_container_security(fixtures.restricted_spec({}), field, 0, {"runAsUser": 0})
	some kind, obj in fixtures.workloads({}, spec)
	case := sprintf("%s %s", [field, kind])
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	endswith(r.details.field, sprintf("%s[0].securityContext.runAsUser", [field]))
}

test_allowed_other_kinds[case] if {
	some case, obj in fixtures.non_workloads
	count(policy.deny) == 0 with input as obj
}
