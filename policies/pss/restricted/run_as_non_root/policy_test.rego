package gitgate.pss.restricted.run_as_non_root_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.restricted.run_as_non_root as policy

test_allowed_pod_level_true[case] if {
	some case, obj in fixtures.workloads({}, fixtures.restricted_spec({}))
	count(policy.deny) == 0 with input as obj
}

test_allowed_every_container_true[case] if {
	spec := json.patch(fixtures.restricted_spec({}), [
		{"op": "remove", "path": "/securityContext/runAsNonRoot"},
		{"op": "add", "path": "/containers/0/securityContext/runAsNonRoot", "value": true},
		{"op": "add", "path": "/initContainers/0/securityContext/runAsNonRoot", "value": true},
	])
	some case, obj in fixtures.workloads({}, spec)
	count(policy.deny) == 0 with input as obj
}

test_allowed_user_namespace[case] if {
	spec := fixtures.restricted_spec({"hostUsers": false, "securityContext": {"runAsNonRoot": false}})
	some case, obj in fixtures.workloads({}, spec)
	count(policy.deny) == 0 with input as obj
}

test_denied_unset[case] if {
	spec := json.remove(fixtures.restricted_spec({}), ["securityContext/runAsNonRoot"])
	some case, obj in fixtures.workloads({}, spec)
	results := policy.deny with input as obj
	{r.details.container | some r in results} == {"app", "init"}
}

test_denied_pod_false[case] if {
	spec := fixtures.restricted_spec({"securityContext": {"runAsNonRoot": false}})
	some case, obj in fixtures.workloads({}, spec)
	results := policy.deny with input as obj
	some r in results
	endswith(r.details.field, "spec.securityContext.runAsNonRoot")
	r.details.value == false
}

test_denied_container_false_overrides_pod_true[case] if {
	some field in ["containers", "initContainers"]
	spec := fixtures.with_container_security(fixtures.restricted_spec({}), field, 0, {"runAsNonRoot": false})
	some kind, obj in fixtures.workloads({}, spec)
	case := sprintf("%s %s", [field, kind])
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	endswith(r.details.field, sprintf("%s[0].securityContext.runAsNonRoot", [field]))
}

test_allowed_other_kinds[case] if {
	some case, obj in fixtures.non_workloads
	count(policy.deny) == 0 with input as obj
}
