package gitgate.pss.restricted.run_as_user_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.restricted.run_as_user as policy

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

test_allowed_non_zero_or_unset if {
	fixtures.all_pass({case: allows(obj) |
		some variant, uid in {"unset": null, "1000": 1000}
		spec := fixtures.with_container_security(
			fixtures.restricted_spec({"securityContext": {"runAsUser": uid}}),
			"containers", 0, {"runAsUser": uid},
		)
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [variant, kind])
	})
}

test_allowed_user_namespace if {
	spec := fixtures.restricted_spec({"hostUsers": false, "securityContext": {"runAsUser": 0}})
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.workloads({}, spec)})
}

test_denied_pod_root if {
	spec := fixtures.restricted_spec({"securityContext": {"runAsUser": 0}})
	fixtures.all_pass({case: denies_field(obj, "spec.securityContext.runAsUser") | some case, obj in fixtures.workloads({}, spec)})
}

test_denied_container_root if {
	fixtures.all_pass({case: denies_field(obj, sprintf("%s[0].securityContext.runAsUser", [field])) |
		some field in ["containers", "initContainers"]
		spec := fixtures.with_container_security(fixtures.restricted_spec({}), field, 0, {"runAsUser": 0})
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [field, kind])
	})
}

denies_field(obj, field) if {
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	endswith(r.details.field, field)
} else := false

test_allowed_other_kinds if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.non_workloads})
}
