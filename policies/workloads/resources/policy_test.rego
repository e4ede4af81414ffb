package gitgate.workloads.resources_test

import data.gitgate.lib.fixtures
import data.gitgate.workloads.resources as policy

complete := {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}

test_allowed_requests_and_limits[case] if {
	spec := {
		"containers": [fixtures.container("app", {"resources": complete})],
		"initContainers": [fixtures.container("init", {"resources": complete})],
		"ephemeralContainers": [{"name": "debug", "image": "busybox:1"}],
	}
	some case, obj in fixtures.workloads({}, spec)
	count(policy.deny) == 0 with input as obj
}

test_allowed_limits_imply_requests[case] if {
	# The API server defaults a missing request to the limit.
	spec := fixtures.pod_spec([fixtures.container("app", {"resources": {"limits": {"cpu": "1", "memory": "128Mi"}}})])
	some case, obj in fixtures.workloads({}, spec)
	count(policy.deny) == 0 with input as obj
}

test_allowed_pod_level_resources[case] if {
	spec := object.union(fixtures.pod_spec([fixtures.container("app", {})]), {"resources": complete})
	some case, obj in fixtures.workloads({}, spec)
	count(policy.deny) == 0 with input as obj
}

test_denied_missing_resources[case] if {
	some field in ["containers", "initContainers"]
	spec := {
		"containers": [fixtures.container("app", {"resources": complete})],
		field: [fixtures.container("bad", {"resources": {"requests": {"cpu": "100m"}}})],
	}
	some kind_shape, obj in fixtures.workloads({}, spec)
	case := sprintf("%s %s", [field, kind_shape])
	kind := split(kind_shape, " ")[0]
	results := policy.deny with input as obj
	{r.details.field | some r in results} == {
		sprintf("%s.%s[0].resources.requests.memory", [pod_path(kind), field]),
		sprintf("%s.%s[0].resources.limits.memory", [pod_path(kind), field]),
	}
	every r in results {
		r.details.container == "bad"
	}
}

test_denied_with_custom_parameters[case] if {
	spec := fixtures.pod_spec([fixtures.container("app", {"resources": complete})])
	some case, obj in fixtures.workloads({}, spec)
	results := policy.deny with input as obj
		with data.gitgate.parameters.workloads.resources as {"requests": ["ephemeral-storage"], "limits": ["cpu"]}
	{r.details.field | some r in results} == {
		sprintf("%s.containers[0].resources.requests.ephemeral-storage", [pod_path(split(case, " ")[0])]),
		sprintf("%s.containers[0].resources.limits.cpu", [pod_path(split(case, " ")[0])]),
	}
}

pod_path(kind) := "spec" if kind == "Pod"

pod_path(kind) := "template.spec" if kind == "PodTemplate"

pod_path(kind) := "spec.jobTemplate.spec.template.spec" if kind == "CronJob"

pod_path(kind) := "spec.template.spec" if not kind in {"Pod", "PodTemplate", "CronJob"}

test_allowed_other_kinds[case] if {
	some case, obj in fixtures.non_workloads
	count(policy.deny) == 0 with input as obj
}
