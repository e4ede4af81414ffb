package gitgate.pss.baseline.apparmor_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.baseline.apparmor as policy

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

annotation := "container.apparmor.security.beta.kubernetes.io/app"

# [pod metadata, pod securityContext, container securityContext]
allowed_profiles := {
	"unset": [{}, {}, {}],
	"RuntimeDefault": [{}, {"appArmorProfile": {"type": "RuntimeDefault"}}, {"appArmorProfile": {"type": "RuntimeDefault"}}],
	"Localhost": [{}, {"appArmorProfile": {"type": "Localhost", "localhostProfile": "p"}}, {"appArmorProfile": {"type": "Localhost", "localhostProfile": "p"}}],
	"annotation runtime/default": [{"annotations": {annotation: "runtime/default"}}, {}, {}],
	"annotation localhost": [{"annotations": {annotation: "localhost/p"}}, {}, {}],
	"annotation empty": [{"annotations": {annotation: ""}}, {}, {}],
	"other annotation": [{"annotations": {"example.com/apparmor": "unconfined"}}, {}, {}],
}

test_allowed_profiles if {
	fixtures.all_pass({case: allows(obj) |
		some variant, pod in allowed_profiles
		spec := {"securityContext": pod[1], "containers": [fixtures.container("app", {"securityContext": pod[2]})]}
		some kind, obj in fixtures.workloads(pod[0], spec)
		case := sprintf("%s %s", [variant, kind])
	})
}

test_denied_unconfined_profile_field if {
	fixtures.all_pass({case: denies_field(obj, v[2]) |
		some variant, v in {
			"pod Unconfined": [{"appArmorProfile": {"type": "Unconfined"}}, {}, "spec.securityContext.appArmorProfile.type"],
			"pod no type": [{"appArmorProfile": {}}, {}, "spec.securityContext.appArmorProfile.type"],
			"container Unconfined": [{}, {"appArmorProfile": {"type": "Unconfined"}}, "containers[0].securityContext.appArmorProfile.type"],
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

test_denied_unconfined_annotation if {
	# Any container's annotation counts, also one naming a container that
	# does not exist, as in Pod Security Admission.
	fixtures.all_pass({case: denies_annotation(obj, key) |
		some key in [annotation, "container.apparmor.security.beta.kubernetes.io/other"]
		spec := fixtures.pod_spec([fixtures.container("app", {})])
		some kind, obj in fixtures.workloads({"annotations": {key: "unconfined"}}, spec)
		case := sprintf("%s %s", [key, kind])
	})
}

denies_annotation(obj, key) if {
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.annotation == key
	r.details.value == "unconfined"
	contains(r.details.field, "metadata.annotations")
} else := false

test_allowed_other_kinds if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.non_workloads})
}
