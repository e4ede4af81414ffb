package gitgate.pss.restricted.capabilities_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.restricted.capabilities as policy

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

test_allowed_drop_all if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.workloads({}, fixtures.restricted_spec({}))})
}

test_allowed_net_bind_service if {
	spec := fixtures.with_container_security(fixtures.restricted_spec({}), "containers", 0, {"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}})
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.workloads({}, spec)})
}

test_allowed_windows_pods if {
	spec := {"os": {"name": "windows"}, "containers": [fixtures.container("app", {})]}
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.workloads({}, spec)})
}

test_denied_not_dropping_all if {
	fixtures.all_pass({case: denies_drop(obj) |
		some variant, caps in {
			"unset": null,
			"empty": {},
			"lower case all": {"drop": ["all"]},
			"every capability by name": {"drop": ["CHOWN", "NET_RAW", "SYS_ADMIN"]},
		}
		init := fixtures.container("init", {"securityContext": {"allowPrivilegeEscalation": false, "capabilities": caps}})
		spec := object.union(fixtures.restricted_spec({}), {"initContainers": [init]})
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [variant, kind])
	})
}

denies_drop(obj) if {
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.container == "init"
	endswith(r.details.field, "capabilities.drop")
} else := false

test_denied_adding_more_than_net_bind_service if {
	fixtures.all_pass({case: denies_add(obj, cap) |
		some cap in ["CHOWN", "NET_RAW", "SYS_ADMIN"]
		spec := fixtures.with_container_security(fixtures.restricted_spec({}), "containers", 0, {"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE", cap]}})
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [cap, kind])
	})
}

denies_add(obj, cap) if {
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.value == [cap]
} else := false

test_allowed_other_kinds if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.non_workloads})
}
