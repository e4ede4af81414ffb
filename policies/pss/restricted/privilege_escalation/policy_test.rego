package gitgate.pss.restricted.privilege_escalation_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.restricted.privilege_escalation as policy

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

test_allowed_false_everywhere if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.workloads({}, fixtures.restricted_spec({}))})
}

test_allowed_windows_pods if {
	spec := {"os": {"name": "windows"}, "containers": [fixtures.container("app", {})]}
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.workloads({}, spec)})
}

test_denied_true_or_unset if {
	fixtures.all_pass({case: denies_field(obj, field) |
		some variant, value in {"true": true, "unset": null}
		some field in ["containers", "initContainers", "ephemeralContainers"]
		spec := fixtures.with_container_security(
			object.union(fixtures.restricted_spec({}), {"ephemeralContainers": [fixtures.restricted_container("debug")]}),
			field, 0, {"allowPrivilegeEscalation": value},
		)
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s %s", [variant, field, kind])
	})
}

denies_field(obj, field) if {
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	endswith(r.details.field, sprintf("%s[0].securityContext.allowPrivilegeEscalation", [field]))
} else := false

test_denied_container_without_security_context if {
	spec := {"containers": [{"name": "app", "image": "x"}], "os": {"name": "linux"}}
	results := policy.deny with input as fixtures.review(fixtures.manifests({}, spec).Deployment)
	count(results) == 1
}

test_allowed_other_kinds if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.non_workloads})
}
