package gitgate.pss.restricted.privilege_escalation_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.restricted.privilege_escalation as policy

test_allowed_false_everywhere[case] if {
	some case, obj in fixtures.workloads({}, fixtures.restricted_spec({}))
	count(policy.deny) == 0 with input as obj
}

test_allowed_windows_pods[case] if {
	spec := {"os": {"name": "windows"}, "containers": [fixtures.container("app", {})]}
	some case, obj in fixtures.workloads({}, spec)
	count(policy.deny) == 0 with input as obj
}

test_denied_true_or_unset[case] if {
	some variant, value in {"true": true, "unset": null}
	some field in ["containers", "initContainers", "ephemeralContainers"]
	spec := fixtures.with_container_security(
		object.union(fixtures.restricted_spec({}), {"ephemeralContainers": [fixtures.restricted_container("debug")]}),
		field, 0, {"allowPrivilegeEscalation": value},
	)
	some kind, obj in fixtures.workloads({}, spec)
	case := sprintf("%s %s %s", [variant, field, kind])
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	endswith(r.details.field, sprintf("%s[0].securityContext.allowPrivilegeEscalation", [field]))
}

test_denied_container_without_security_context if {
	spec := {"containers": [{"name": "app", "image": "x"}], "os": {"name": "linux"}}
	results := policy.deny with input as fixtures.review(fixtures.manifests({}, spec).Deployment)
	count(results) == 1
}

test_allowed_other_kinds[case] if {
	some case, obj in fixtures.non_workloads
	count(policy.deny) == 0 with input as obj
}
