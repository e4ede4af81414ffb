package gitgate.pss.baseline.seccomp_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.baseline.seccomp as policy

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

test_allowed_profiles if {
	fixtures.all_pass({case: allows(obj) |
		some variant, profile in {
			"unset": null,
			"RuntimeDefault": {"type": "RuntimeDefault"},
			"Localhost": {"type": "Localhost", "localhostProfile": "p.json"},
		}
		spec := {
			"securityContext": {"seccompProfile": profile},
			"containers": [fixtures.container("app", {"securityContext": {"seccompProfile": profile}})],
		}
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [variant, kind])
	})
}

test_allowed_container_profile_not_required if {
	# Baseline only forbids disabling seccomp; requiring a profile is the
	# restricted standard's job.
	spec := fixtures.pod_spec([fixtures.container("app", {})])
	count(policy.deny) == 0 with input as fixtures.manifests({}, spec).Pod
}

test_denied_unconfined if {
	fixtures.all_pass({case: denies_field(obj, v[2]) |
		some variant, v in {
			"pod": [{"seccompProfile": {"type": "Unconfined"}}, {}, "spec.securityContext.seccompProfile.type"],
			"pod without type": [{"seccompProfile": {}}, {}, "spec.securityContext.seccompProfile.type"],
			"container": [{}, {"seccompProfile": {"type": "Unconfined"}}, "containers[0].securityContext.seccompProfile.type"],
		}
		spec := {"securityContext": v[0], "containers": [fixtures.container("app", {"securityContext": v[1]})]}
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [variant, kind])
	})
}

denies_field(obj, field) if {
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	endswith(r.details.field, field)
} else := false

test_allowed_other_kinds if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.non_workloads})
}
