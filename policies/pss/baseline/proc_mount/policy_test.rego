package gitgate.pss.baseline.proc_mount_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.baseline.proc_mount as policy

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

test_allowed_default_or_unset if {
	fixtures.all_pass({case: allows(obj) |
		some variant, sc in {"unset": {}, "Default": {"procMount": "Default"}}
		spec := fixtures.pod_spec([fixtures.container("app", {"securityContext": sc})])
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [variant, kind])
	})
}

test_allowed_unmasked_in_a_user_namespace if {
	spec := object.union(
		fixtures.pod_spec([fixtures.container("app", {"securityContext": {"procMount": "Unmasked"}})]),
		{"hostUsers": false},
	)
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.workloads({}, spec)})
}

test_denied_unmasked_with_host_users if {
	fixtures.all_pass({case: denies_init(obj) |
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
	})
}

denies_init(obj) if {
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.container == "init"
	r.details.value == "Unmasked"
} else := false

test_allowed_other_kinds if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.non_workloads})
}
