package gitgate.images.pinned_test

import data.gitgate.images.pinned as policy
import data.gitgate.lib.fixtures

digest := "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

spec_with(image) := {
	"containers": [fixtures.container("app", {})],
	"initContainers": [fixtures.container("init", {"image": image})],
}

silent(obj) if {
	count(policy.deny) == 0 with input as obj
	count(policy.warn) == 0 with input as obj
} else := false

test_allowed_digests if {
	fixtures.all_pass({case: silent(obj) |
		some image in [
			sprintf("nginx@%s", [digest]),
			sprintf("nginx:1.27@%s", [digest]),
			sprintf("nginx:latest@%s", [digest]),
			sprintf("localhost:5000/app@%s", [digest]),
			sprintf("registry.example.com:443/team/app:2@%s", [digest]),
		]
		some kind, obj in fixtures.workloads({}, spec_with(image))
		case := sprintf("%s %s", [image, kind])
	})
}

test_denied_latest_or_untagged if {
	fixtures.all_pass({case: denies_unpinned(obj, image) |
		some image in ["nginx", "nginx:latest", "localhost:5000/app", "registry.example.com:443/team/app:latest"]
		some kind, obj in fixtures.workloads({}, spec_with(image))
		case := sprintf("%s %s", [image, kind])
	})
}

denies_unpinned(obj, image) if {
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.container == "init"
	r.details.value == image
	endswith(r.details.field, "initContainers[0].image")
	contains(r.msg, "not pinned")
	count(policy.warn) == 0 with input as obj
} else := false

test_warn_tag_without_digest if {
	fixtures.all_pass({case: warns_tag_only(obj) |
		some image in ["nginx:1.27", "localhost:5000/app:v2", "app:stable"]
		some kind, obj in fixtures.workloads({}, spec_with(image))
		case := sprintf("%s %s", [image, kind])
	})
}

warns_tag_only(obj) if {
	count(policy.deny) == 0 with input as obj
	warnings := policy.warn with input as obj
	count(warnings) == 1
	some w in warnings
	w.details.container == "init"
	w.details.severity == "medium"
} else := false

test_denied_tag_without_digest_when_required if {
	fixtures.all_pass({case: denies_tag_only(obj) | some case, obj in fixtures.workloads({}, spec_with("nginx:1.27"))})
}

denies_tag_only(obj) if {
	count(policy.deny) == 1 with input as obj with data.gitgate.parameters.images.pinned.require_digest as true
	count(policy.warn) == 0 with input as obj with data.gitgate.parameters.images.pinned.require_digest as true
} else := false

test_warn_with_a_null_parameter_as_with_none if {
	obj := fixtures.manifests({}, spec_with("nginx:1.27")).Pod
	count(policy.warn) == 1 with input as obj with data.gitgate.parameters.images.pinned.require_digest as null
	count(policy.deny) == 0 with input as obj with data.gitgate.parameters.images.pinned.require_digest as null
	count(policy.warn) == 1 with input as obj with data.gitgate.parameters as {}
}

bad_images := {
	"empty": "",
	"not a string": 42,
	"null": null,
	"short digest": "nginx@sha256:abc",
	"upper-case digest": "nginx@sha256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
	"two digests": sprintf("nginx@%s@%s", [digest, digest]),
}

test_denied_missing_or_malformed_images if {
	fixtures.all_pass({case: denies_once(obj) |
		some variant, image in bad_images
		some kind, obj in fixtures.workloads({}, spec_with(image))
		case := sprintf("%s %s", [variant, kind])
	})
}

denies_once(obj) if {
	count(policy.deny) == 1 with input as obj
} else := false

test_denied_missing_image_field if {
	spec := {"containers": [{"name": "app"}]}
	count(policy.deny) == 1 with input as fixtures.manifests({}, spec).Pod
}

test_denied_ephemeral_debug_container if {
	spec := object.union(spec_with(sprintf("nginx@%s", [digest])), {"ephemeralContainers": [{"name": "debugger", "image": "busybox"}]})
	pod := fixtures.manifests({}, spec).Pod
	obj := fixtures.admission_request(pod, {"operation": "UPDATE", "subResource": "ephemeralcontainers"})
	results := policy.deny with input as obj
	[r.details.container | some r in results] == ["debugger"]
}

test_allowed_other_kinds if {
	fixtures.all_pass({case: silent(obj) | some case, obj in fixtures.non_workloads})
}
