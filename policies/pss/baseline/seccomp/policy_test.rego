package gitgate.pss.baseline.seccomp_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.baseline.seccomp as policy

test_allowed_profiles[case] if {
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
	count(policy.deny) == 0 with input as obj
}

test_allowed_container_profile_not_required if {
	# Baseline only forbids disabling seccomp; requiring a profile is the
	# restricted standard's job.
	spec := fixtures.pod_spec([fixtures.container("app", {})])
	count(policy.deny) == 0 with input as fixtures.manifests({}, spec).Pod
}

test_denied_unconfined[case] if {
	some variant, v in {
		"pod": [{"seccompProfile": {"type": "Unconfined"}}, {}, "spec.securityContext.seccompProfile.type"],
		"pod without type": [{"seccompProfile": {}}, {}, "spec.securityContext.seccompProfile.type"],
		"container": [{}, {"seccompProfile": {"type": "Unconfined"}}, "containers[0].securityContext.seccompProfile.type"],
	}
	spec := {"securityContext": v[0], "containers": [fixtures.container("app", {"securityContext": v[1]})]}
	some kind, obj in fixtures.workloads({}, spec)
	case := sprintf("%s %s", [variant, kind])
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	endswith(r.details.field, v[2])
}

test_allowed_other_kinds[case] if {
	some case, obj in fixtures.non_workloads
	count(policy.deny) == 0 with input as obj
}
