package gitgate.pss.restricted.capabilities_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.restricted.capabilities as policy

test_allowed_drop_all[case] if {
	some case, obj in fixtures.workloads({}, fixtures.restricted_spec({}))
	count(policy.deny) == 0 with input as obj
}

test_allowed_net_bind_service[case] if {
	spec := fixtures.with_container_security(fixtures.restricted_spec({}), "containers", 0, {"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}})
	some case, obj in fixtures.workloads({}, spec)
	count(policy.deny) == 0 with input as obj
}

test_allowed_windows_pods[case] if {
	spec := {"os": {"name": "windows"}, "containers": [fixtures.container("app", {})]}
	some case, obj in fixtures.workloads({}, spec)
	count(policy.deny) == 0 with input as obj
}

test_denied_not_dropping_all[case] if {
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
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.container == "init"
	endswith(r.details.field, "capabilities.drop")
}

test_denied_adding_more_than_net_bind_service[case] if {
	some cap in ["CHOWN", "NET_RAW", "SYS_ADMIN"]
	spec := fixtures.with_container_security(fixtures.restricted_spec({}), "containers", 0, {"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE", cap]}})
	some kind, obj in fixtures.workloads({}, spec)
	case := sprintf("%s %s", [cap, kind])
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.value == [cap]
}

test_allowed_other_kinds[case] if {
	some case, obj in fixtures.non_workloads
	count(policy.deny) == 0 with input as obj
}
