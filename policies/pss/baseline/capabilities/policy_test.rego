package gitgate.pss.baseline.capabilities_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.baseline.capabilities as policy

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

default_set := [
	"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
]

test_allowed_default_set_and_drops if {
	fixtures.all_pass({case: allows(obj) |
		some variant, caps in {
			"none": null,
			"empty": {},
			"default set": {"add": default_set},
			"drop anything": {"drop": ["ALL", "NET_RAW"]},
		}
		spec := fixtures.pod_spec([fixtures.container("app", {"securityContext": {"capabilities": caps}})])
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [variant, kind])
	})
}

test_denied_capabilities_beyond_the_default_set if {
	# Pod Security Admission compares names exactly: lower case and the CAP_
	# prefix are not the default set.
	fixtures.all_pass({case: denies_init(obj, cap) |
		some cap in ["NET_RAW", "SYS_ADMIN", "chown", "CAP_CHOWN", "ALL"]
		spec := {
			"containers": [fixtures.container("app", {})],
			"initContainers": [fixtures.container("init", {"securityContext": {"capabilities": {"add": ["CHOWN", cap]}}})],
		}
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [cap, kind])
	})
}

denies_init(obj, cap) if {
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.container == "init"
	r.details.value == [cap]
	endswith(r.details.field, "initContainers[0].securityContext.capabilities.add")
} else := false

test_denied_lists_every_forbidden_capability if {
	spec := fixtures.pod_spec([fixtures.container("app", {"securityContext": {"capabilities": {"add": ["SYS_ADMIN", "NET_RAW", "KILL"]}}})])
	results := policy.deny with input as fixtures.manifests({}, spec).Deployment
	[r.details.value | some r in results] == [["NET_RAW", "SYS_ADMIN"]]
}

test_allowed_other_kinds if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.non_workloads})
}
