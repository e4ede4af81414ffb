package gitgate.pss.baseline.proc_mount_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.baseline.proc_mount as policy

test_allowed_default_or_unset[case] if {
	some variant, sc in {"unset": {}, "Default": {"procMount": "Default"}}
	spec := fixtures.pod_spec([fixtures.container("app", {"securityContext": sc})])
	some kind, obj in fixtures.workloads({}, spec)
	case := sprintf("%s %s", [variant, kind])
	count(policy.deny) == 0 with input as obj
}

test_allowed_unmasked_in_a_user_namespace[case] if {
	spec := object.union(
		fixtures.pod_spec([fixtures.container("app", {"securityContext": {"procMount": "Unmasked"}})]),
		{"hostUsers": false},
	)
	some case, obj in fixtures.workloads({}, spec)
	count(policy.deny) == 0 with input as obj
}

test_denied_unmasked_with_host_users[case] if {
	some variant, host_users in {"hostUsers unset": {}, "hostUsers true": {"hostUsers": true}}
	spec := object.union(
		{
			"containers": [fixtures.container("app", {})],
			"initContainers": [fixtures.container("init", {"securityContext": {"procMount": "Unmasked"}})],
		},
		host_users,
	)
	some kind, obj in fixtures.workloads({}, spec)
	case := sprintf("%s %s", [variant, kind])
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.container == "init"
	r.details.value == "Unmasked"
}

test_allowed_other_kinds[case] if {
	some case, obj in fixtures.non_workloads
	count(policy.deny) == 0 with input as obj
}
