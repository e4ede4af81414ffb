package gitgate.pss.baseline.selinux_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.baseline.selinux as policy

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

allowed_options := {
	"unset": null,
	"empty": {},
	"container_t": {"type": "container_t"},
	"container_init_t": {"type": "container_init_t", "level": "s0:c123,c456"},
	"container_kvm_t": {"type": "container_kvm_t"},
	"container_engine_t": {"type": "container_engine_t"},
	"level only": {"level": "s0"},
	"empty user and role": {"user": "", "role": ""},
}

test_allowed_types_and_levels if {
	fixtures.all_pass({case: allows(obj) |
		some variant, opts in allowed_options
		spec := {
			"securityContext": {"seLinuxOptions": opts},
			"containers": [fixtures.container("app", {"securityContext": {"seLinuxOptions": opts}})],
			"initContainers": [fixtures.container("init", {"securityContext": {"seLinuxOptions": opts}})],
		}
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [variant, kind])
	})
}

test_denied_pod_level if {
	fixtures.all_pass({case: denies_pod_option(obj, option) |
		some option, opts in {
			"type": {"type": "spc_t"},
			"user": {"user": "system_u"},
			"role": {"role": "system_r"},
		}
		spec := {"securityContext": {"seLinuxOptions": opts}, "containers": [fixtures.container("app", {})]}
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [option, kind])
	})
}

denies_pod_option(obj, option) if {
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	endswith(r.details.field, sprintf("spec.securityContext.seLinuxOptions.%s", [option]))
	r.details.container == null
	contains(r.msg, "the pod must not")
} else := false

test_denied_container_level if {
	fixtures.all_pass({case: denies_bad_container(obj) |
		some field in ["containers", "initContainers", "ephemeralContainers"]
		spec := {
			"containers": [fixtures.container("app", {})],
			field: [fixtures.container("bad", {"securityContext": {"seLinuxOptions": {"type": "unconfined_t", "user": "u"}}})],
		}
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [field, kind])
	})
}

denies_bad_container(obj) if {
	results := policy.deny with input as obj
	count(results) == 2
	{r.details.value | some r in results; r.details.container == "bad"} == {"unconfined_t", "u"}
} else := false

test_allowed_other_kinds if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.non_workloads})
}
