package gitgate.pss.restricted.run_as_non_root_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.restricted.run_as_non_root as policy

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

test_allowed_pod_level_true if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.workloads({}, fixtures.restricted_spec({}))})
}

test_allowed_every_container_true if {
	spec := json.patch(fixtures.restricted_spec({}), [
		{"op": "remove", "path": "/securityContext/runAsNonRoot"},
		{"op": "add", "path": "/containers/0/securityContext/runAsNonRoot", "value": true},
		{"op": "add", "path": "/initContainers/0/securityContext/runAsNonRoot", "value": true},
	])
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.workloads({}, spec)})
}

test_allowed_user_namespace if {
	spec := fixtures.restricted_spec({"hostUsers": false, "securityContext": {"runAsNonRoot": false}})
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.workloads({}, spec)})
}

test_denied_unset if {
	spec := json.remove(fixtures.restricted_spec({}), ["securityContext/runAsNonRoot"])
	fixtures.all_pass({case: denies_containers(obj, {"app", "init"}) | some case, obj in fixtures.workloads({}, spec)})
}

denies_containers(obj, names) if {
	results := policy.deny with input as obj
	{r.details.container | some r in results} == names
} else := false

test_denied_pod_false if {
	spec := fixtures.restricted_spec({"securityContext": {"runAsNonRoot": false}})
	fixtures.all_pass({case: denies_pod(obj) | some case, obj in fixtures.workloads({}, spec)})
}

denies_pod(obj) if {
	results := policy.deny with input as obj
	some r in results
	endswith(r.details.field, "spec.securityContext.runAsNonRoot")
	r.details.value == false
} else := false

test_denied_container_false_overrides_pod_true if {
	fixtures.all_pass({case: denies_field(obj, field) |
		some field in ["containers", "initContainers"]
		spec := fixtures.with_container_security(fixtures.restricted_spec({}), field, 0, {"runAsNonRoot": false})
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [field, kind])
	})
}

denies_field(obj, field) if {
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	endswith(r.details.field, sprintf("%s[0].securityContext.runAsNonRoot", [field]))
} else := false

test_allowed_other_kinds if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.non_workloads})
}
