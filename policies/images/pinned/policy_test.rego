package gitgate.images.pinned_test

import data.gitgate.images.pinned as policy
import data.gitgate.lib.fixtures

digest := "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

spec_with(image) := {
	"containers": [fixtures.container("app", {})],
	"initContainers": [fixtures.container("init", {"image": image})],
}

test_allowed_digests[case] if {
	some image in [
		sprintf("nginx@%s", [digest]),
		sprintf("nginx:1.27@%s", [digest]),
		sprintf("nginx:latest@%s", [digest]),
		sprintf("localhost:5000/app@%s", [digest]),
	]
	some kind, obj in fixtures.workloads({}, spec_with(image))
	case := sprintf("%s %s", [image, kind])
	count(policy.deny) == 0 with input as obj
	count(policy.warn) == 0 with input as obj
}

test_denied_latest_or_untagged[case] if {
	some image in ["nginx", "nginx:latest", "localhost:5000/app", "registry.example.com/team/app:latest"]
	some kind, obj in fixtures.workloads({}, spec_with(image))
	case := sprintf("%s %s", [image, kind])
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.container == "init"
	r.details.value == image
	endswith(r.details.field, "initContainers[0].image")
	count(policy.warn) == 0 with input as obj
}

test_warn_tag_without_digest[case] if {
	some image in ["nginx:1.27", "localhost:5000/app:v2"]
	some kind, obj in fixtures.workloads({}, spec_with(image))
	case := sprintf("%s %s", [image, kind])
	count(policy.deny) == 0 with input as obj
	warnings := policy.warn with input as obj
	count(warnings) == 1
	some w in warnings
	w.details.container == "init"
	w.details.severity == "medium"
}

test_denied_tag_without_digest_when_required[case] if {
	some case, obj in fixtures.workloads({}, spec_with("nginx:1.27"))
	results := policy.deny with input as obj with data.gitgate.parameters.images.pinned.require_digest as true
	count(results) == 1
	count(policy.warn) == 0 with input as obj with data.gitgate.parameters.images.pinned.require_digest as true
}

test_denied_missing_or_malformed_images[case] if {
	some variant, image in {
		"empty": "",
		"not a string": 42,
		"null": null,
		"short digest": "nginx@sha256:abc",
		"upper-case digest": "nginx@sha256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
	}
	some kind, obj in fixtures.workloads({}, spec_with(image))
	case := sprintf("%s %s", [variant, kind])
	results := policy.deny with input as obj
	count(results) == 1
}

test_denied_ephemeral_debug_container if {
	spec := object.union(spec_with(sprintf("nginx@%s", [digest])), {"ephemeralContainers": [{"name": "debugger", "image": "busybox"}]})
	pod := fixtures.manifests({}, spec).Pod
	obj := fixtures.admission_request(pod, {"operation": "UPDATE", "subResource": "ephemeralcontainers"})
	results := policy.deny with input as obj
	[r.details.container | some r in results] == ["debugger"]
}

test_allowed_other_kinds[case] if {
	some case, obj in fixtures.non_workloads
	count(policy.deny) == 0 with input as obj
	count(policy.warn) == 0 with input as obj
}

test_warn_with_a_null_parameter_as_with_none if {
	obj := fixtures.manifests({}, spec_with("nginx:1.27")).Pod
	count(policy.warn) == 1 with input as obj with data.gitgate.parameters.images.pinned.require_digest as null
	count(policy.deny) == 0 with input as obj with data.gitgate.parameters.images.pinned.require_digest as null
	count(policy.warn) == 1 with input as obj with data.gitgate.parameters as {}
}
