package gitgate.images.registries_test

import data.gitgate.images.registries as policy
import data.gitgate.lib.fixtures

allowed := ["registry.example.com", "ghcr.io/acme/", "docker.io/library"]

spec_with(image) := {
	"containers": [fixtures.container("app", {})],
	"initContainers": [fixtures.container("init", {"image": image})],
}

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

allows_listed(obj) if {
	count(policy.deny) == 0 with input as obj with data.gitgate.parameters.images.registries.allowed as allowed
} else := false

test_allowed_any_registry_when_unset if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.workloads({}, spec_with("evil.example.net/miner:1"))})
}

test_allowed_listed_registries if {
	fixtures.all_pass({case: allows_listed(obj) |
		some image in [
			"registry.example.com/app:1.0",
			"ghcr.io/acme/app:2",
			"ghcr.io/acme/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			"nginx:1.27",
			"docker.io/library/redis",
		]
		some kind, obj in fixtures.workloads({}, spec_with(image))
		case := sprintf("%s %s", [image, kind])
	})
}

test_denied_other_registries if {
	fixtures.all_pass({case: denies_init(obj, image) |
		some image in [
			"evil.example.net/miner:1",
			"registry.example.com.evil.net/app:1",
			"ghcr.io/acmex/app:1",
			"bitnami/redis:7",
			"localhost:5000/app",
			"",
		]
		some kind, obj in fixtures.workloads({}, spec_with(image))
		case := sprintf("%q %s", [image, kind])
	})
}

denies_init(obj, image) if {
	results := policy.deny with input as obj with data.gitgate.parameters.images.registries.allowed as allowed
	count(results) == 1
	some r in results
	r.details.container == "init"
	r.details.value == image
	r.details.allowed == allowed
} else := false

test_denied_everything_with_an_empty_list if {
	fixtures.all_pass({case: denies_all(obj, []) | some case, obj in fixtures.workloads({}, spec_with("registry.example.com/app:1"))})
}

test_denied_malformed_parameter if {
	fixtures.all_pass({case: denies_all(obj, "registry.example.com") | some case, obj in fixtures.workloads({}, spec_with("registry.example.com/app:1"))})
}

denies_all(obj, param) if {
	results := policy.deny with input as obj with data.gitgate.parameters.images.registries.allowed as param
	count(results) == 2
} else := false

test_denied_malformed_parameter_message if {
	obj := fixtures.manifests({}, spec_with("registry.example.com/app:1")).Pod
	results := policy.deny with input as obj with data.gitgate.parameters.images.registries.allowed as "registry.example.com"
	every r in results {
		contains(r.msg, "must be a list")
	}
}

test_allowed_other_kinds if {
	fixtures.all_pass({case: allows_listed(obj) | some case, obj in fixtures.non_workloads})
}
