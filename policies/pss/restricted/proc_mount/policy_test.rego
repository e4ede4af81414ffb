package gitgate.pss.restricted.proc_mount_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.restricted.proc_mount as policy

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

test_allowed_default_or_unset if {
	fixtures.all_pass({case: allows(obj) |
		some variant, value in {"unset": null, "Default": "Default"}
		spec := fixtures.with_container_security(fixtures.restricted_spec({"hostUsers": false}), "containers", 0, {"procMount": value})
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [variant, kind])
	})
}

test_denied_unmasked_even_in_a_user_namespace if {
	fixtures.all_pass({case: denies_init(obj) |
		some variant, host_users in {"hostUsers false": false, "hostUsers true": true}
		spec := fixtures.with_container_security(fixtures.restricted_spec({"hostUsers": host_users}), "initContainers", 0, {"procMount": "Unmasked"})
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [variant, kind])
	})
}

denies_init(obj) if {
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.container == "init"
} else := false

test_allowed_other_kinds if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.non_workloads})
}
