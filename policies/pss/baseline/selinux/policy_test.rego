package gitgate.pss.baseline.selinux_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.baseline.selinux as policy

test_allowed_types_and_levels[case] if {
	some variant, opts in {
		"unset": null,
		"empty": {},
		"container_t": {"type": "container_t"},
		"container_init_t": {"type": "container_init_t", "level": "s0:c123,c456"},
		"container_kvm_t": {"type": "container_kvm_t"},
		"container_engine_t": {"type": "container_engine_t"},
		"level only": {"level": "s0"},
		"empty user and role": {"user": "", "role": ""},
	}
	spec := {
		"securityContext": {"seLinuxOptions": opts},
		"containers": [fixtures.container("app", {"securityContext": {"seLinuxOptions": opts}})],
		"initContainers": [fixtures.container("init", {"securityContext": {"seLinuxOptions": opts}})],
	}
	some kind, obj in fixtures.workloads({}, spec)
	case := sprintf("%s %s", [variant, kind])
	count(policy.deny) == 0 with input as obj
}

test_denied_pod_level[case] if {
	some option, opts in {
		"type": {"type": "spc_t"},
		"user": {"user": "system_u"},
		"role": {"role": "system_r"},
	}
	spec := {"securityContext": {"seLinuxOptions": opts}, "containers": [fixtures.container("app", {})]}
	some kind, obj in fixtures.workloads({}, spec)
	case := sprintf("%s %s", [option, kind])
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	endswith(r.details.field, sprintf("spec.securityContext.seLinuxOptions.%s", [option]))
	r.details.container == null
}

test_denied_container_level[case] if {
	some field in ["containers", "initContainers", "ephemeralContainers"]
	spec := {
		"containers": [fixtures.container("app", {})],
		field: [fixtures.container("bad", {"securityContext": {"seLinuxOptions": {"type": "unconfined_t", "user": "u"}}})],
	}
	some kind, obj in fixtures.workloads({}, spec)
	case := sprintf("%s %s", [field, kind])
	results := policy.deny with input as obj
	{r.details.value | some r in results; r.details.container == "bad"} == {"unconfined_t", "u"}
	count(results) == 2
}

test_allowed_other_kinds[case] if {
	some case, obj in fixtures.non_workloads
	count(policy.deny) == 0 with input as obj
}
