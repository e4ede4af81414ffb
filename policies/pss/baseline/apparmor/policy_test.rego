package gitgate.pss.baseline.apparmor_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.baseline.apparmor as policy

annotation := "container.apparmor.security.beta.kubernetes.io/app"

test_allowed_profiles[case] if {
	some variant, pod in {
		"unset": [{}, {}, {}],
		"RuntimeDefault": [{}, {"appArmorProfile": {"type": "RuntimeDefault"}}, {"appArmorProfile": {"type": "RuntimeDefault"}}],
		"Localhost": [{}, {"appArmorProfile": {"type": "Localhost", "localhostProfile": "p"}}, {"appArmorProfile": {"type": "Localhost", "localhostProfile": "p"}}],
		"annotation runtime/default": [{"annotations": {annotation: "runtime/default"}}, {}, {}],
		"annotation localhost": [{"annotations": {annotation: "localhost/p"}}, {}, {}],
		"annotation empty": [{"annotations": {annotation: ""}}, {}, {}],
		"other annotation": [{"annotations": {"example.com/apparmor": "unconfined"}}, {}, {}],
	}
	spec := {
		"securityContext": pod[1],
		"containers": [fixtures.container("app", {"securityContext": pod[2]})],
	}
	some kind, obj in fixtures.workloads(pod[0], spec)
	case := sprintf("%s %s", [variant, kind])
	count(policy.deny) == 0 with input as obj
}

test_denied_unconfined_profile_field[case] if {
	some variant, v in {
		"pod Unconfined": [{"appArmorProfile": {"type": "Unconfined"}}, {}, "securityContext.appArmorProfile.type"],
		"pod no type": [{"appArmorProfile": {}}, {}, "securityContext.appArmorProfile.type"],
		"container Unconfined": [{}, {"appArmorProfile": {"type": "Unconfined"}}, "containers[0].securityContext.appArmorProfile.type"],
	}
	spec := {"securityContext": v[0], "containers": [fixtures.container("app", {"securityContext": v[1]})]}
	some kind, obj in fixtures.workloads({}, spec)
	case := sprintf("%s %s", [variant, kind])
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	endswith(r.details.field, v[2])
}

test_denied_unconfined_annotation[case] if {
	# Any container's annotation counts, also one naming a container that
	# does not exist, as in Pod Security Admission.
	some key in [annotation, "container.apparmor.security.beta.kubernetes.io/other"]
	spec := fixtures.pod_spec([fixtures.container("app", {})])
	some kind, obj in fixtures.workloads({"annotations": {key: "unconfined"}}, spec)
	case := sprintf("%s %s", [key, kind])
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.annotation == key
	r.details.value == "unconfined"
	contains(r.details.field, "metadata.annotations")
}

test_allowed_other_kinds[case] if {
	some case, obj in fixtures.non_workloads
	count(policy.deny) == 0 with input as obj
}
