package gitgate.workloads.resources_test

import data.gitgate.lib.fixtures
import data.gitgate.workloads.resources as policy

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

complete := {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}

test_allowed_requests_and_limits if {
	spec := {
		"containers": [fixtures.container("app", {"resources": complete})],
		"initContainers": [fixtures.container("init", {"resources": complete})],
		"ephemeralContainers": [{"name": "debug", "image": "busybox:1"}],
	}
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.workloads({}, spec)})
}

test_allowed_limits_imply_requests if {
	# The API server defaults a missing request to the limit.
	spec := fixtures.pod_spec([fixtures.container("app", {"resources": {"limits": {"cpu": "1", "memory": "128Mi"}}})])
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.workloads({}, spec)})
}

test_allowed_pod_level_resources if {
	spec := object.union(fixtures.pod_spec([fixtures.container("app", {})]), {"resources": complete})
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.workloads({}, spec)})
}

test_denied_missing_resources if {
	fixtures.all_pass({case: denies_fields(obj, field) |
		some field in ["containers", "initContainers"]
		spec := {
			"containers": [fixtures.container("app", {"resources": complete})],
			field: [fixtures.container("bad", {"resources": {"requests": {"cpu": "100m"}}})],
		}
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [field, kind])
	})
}

denies_fields(obj, field) if {
	results := policy.deny with input as obj
	fields := {r.details.field | some r in results}
	count(fields) == 2
	some f in fields
	endswith(f, sprintf("%s[0].resources.requests.memory", [field]))
	some g in fields
	endswith(g, sprintf("%s[0].resources.limits.memory", [field]))
	every r in results {
		r.details.container == "bad"
	}
} else := false

test_denied_with_custom_parameters if {
	spec := fixtures.pod_spec([fixtures.container("app", {"resources": complete})])
	fixtures.all_pass({case: denies_custom(obj) | some case, obj in fixtures.workloads({}, spec)})
}

denies_custom(obj) if {
	results := policy.deny with input as obj
		with data.gitgate.parameters.workloads.resources as {"requests": ["ephemeral-storage"], "limits": ["cpu"]}
	fields := {r.details.field | some r in results}
	count(fields) == 2
	some f in fields
	endswith(f, "containers[0].resources.requests.ephemeral-storage")
	some g in fields
	endswith(g, "containers[0].resources.limits.cpu")
} else := false

test_allowed_other_kinds if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.non_workloads})
}
