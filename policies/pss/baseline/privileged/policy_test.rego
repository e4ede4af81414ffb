package gitgate.pss.baseline.privileged_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.baseline.privileged as policy

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

test_allowed_unset_or_false if {
	fixtures.all_pass({case: allows(obj) |
		some variant, sc in {"unset": {}, "false": {"privileged": false}}
		spec := fixtures.pod_spec([fixtures.container("app", {"securityContext": sc})])
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [variant, kind])
	})
}

test_denied_privileged_in_every_container_list if {
	fixtures.all_pass({case: denies_bad(obj, field) |
		some field in ["containers", "initContainers", "ephemeralContainers"]
		spec := {
			"containers": [fixtures.container("app", {})],
			field: [fixtures.container("bad", {"securityContext": {"privileged": true}})],
		}
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [field, kind])
	})
}

denies_bad(obj, field) if {
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.container == "bad"
	endswith(r.details.field, sprintf("%s[0].securityContext.privileged", [field]))
	contains(r.msg, `container "bad" must not set securityContext.privileged=true`)
} else := false

test_denied_once_per_container if {
	spec := fixtures.pod_spec([
		fixtures.container("a", {"securityContext": {"privileged": true}}),
		fixtures.container("b", {"securityContext": {"privileged": true}}),
	])
	results := policy.deny with input as fixtures.manifests({}, spec).Pod
	{r.details.container | some r in results} == {"a", "b"}
}

test_allowed_other_kinds if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.non_workloads})
}
