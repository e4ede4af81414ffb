package gitgate.metadata.required_labels_test

import data.gitgate.lib.fixtures
import data.gitgate.metadata.required_labels as policy

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

labels := {"app.kubernetes.io/name": "web"}

labelled(obj) := json.patch(obj, [{"op": "add", "path": "/metadata/labels", "value": labels}])

# every_kind labels every kind, its pod template (and a CronJob's job
# template) with l, in both shapes.
every_kind(l) := {case: obj |
	some kind, manifest in fixtures.manifests({"labels": l}, fixtures.pod_spec([fixtures.container("app", {})]))
	some shape, obj in fixtures.shapes(labelled_with(manifest, kind, l))
	case := sprintf("%s %s", [kind, shape])
}

labelled_with(manifest, "Pod", _) := manifest

labelled_with(manifest, "CronJob", l) := json.patch(manifest, [
	{"op": "add", "path": "/metadata/labels", "value": l},
	{"op": "add", "path": "/spec/jobTemplate/metadata", "value": {"labels": l}},
])

labelled_with(manifest, kind, l) := json.patch(manifest, [{"op": "add", "path": "/metadata/labels", "value": l}]) if {
	not kind in {"Pod", "CronJob"}
}

test_allowed_labelled_objects if {
	fixtures.all_pass({case: allows(obj) | some case, obj in every_kind(labels)})
}

test_allowed_labelled_non_workloads if {
	fixtures.all_pass({case: allows(obj) |
		some kind, manifest in fixtures.non_workload_manifests
		some shape, obj in fixtures.shapes(labelled(manifest))
		case := sprintf("%s %s", [kind, shape])
	})
}

test_denied_unlabelled_non_workloads if {
	fixtures.all_pass({case: denies_count(obj, 1) | some case, obj in fixtures.non_workloads})
}

denies_count(obj, n) if {
	count(policy.deny) == n with input as obj
} else := false

test_denied_missing_label if {
	fixtures.all_pass({case: denies_missing(obj) | some case, obj in every_kind({"team": "x"})})
}

denies_missing(obj) if {
	results := policy.deny with input as obj
	count(results) > 0
	every r in results {
		r.details.label == "app.kubernetes.io/name"
	}
} else := false

test_denied_missing_on_pod_template_only if {
	deployment := labelled(fixtures.manifests({}, fixtures.pod_spec([fixtures.container("app", {})])).Deployment)
	results := policy.deny with input as deployment
	[r.details.field | some r in results] == [`spec.template.metadata.labels["app.kubernetes.io/name"]`]
}

test_denied_missing_on_job_template_only if {
	cronjob := labelled(fixtures.manifests(
		{"labels": labels},
		fixtures.pod_spec([fixtures.container("app", {})]),
	).CronJob)
	results := policy.deny with input as fixtures.review(cronjob)
	[r.details.field | some r in results] == [`spec.jobTemplate.metadata.labels["app.kubernetes.io/name"]`]
}

name_pattern := {"app.kubernetes.io/name": "[a-z0-9-]+"}

test_denied_value_pattern if {
	fixtures.all_pass({case: denies_value(obj) | some case, obj in every_kind({"app.kubernetes.io/name": "Web App"})})
}

denies_value(obj) if {
	results := policy.deny with input as obj with data.gitgate.parameters.metadata.required_labels.values as name_pattern
	count(results) > 0
	every r in results {
		r.details.value == "Web App"
	}
} else := false

test_allowed_value_pattern if {
	fixtures.all_pass({case: allows_pattern(obj) | some case, obj in every_kind(labels)})
}

allows_pattern(obj) if {
	count(policy.deny) == 0 with input as obj with data.gitgate.parameters.metadata.required_labels.values as name_pattern
} else := false

test_denied_invalid_pattern_fails_closed if {
	obj := every_kind(labels)["Pod manifest"]
	results := policy.deny with input as obj
		with data.gitgate.parameters.metadata.required_labels.values as {"app.kubernetes.io/name": "("}
	count(results) == 1
	some r in results
	contains(r.msg, "not a valid RE2 pattern")
}

test_allowed_kinds_parameter if {
	obj := every_kind({})["Deployment manifest"]
	count(policy.deny) == 0 with input as obj with data.gitgate.parameters.metadata.required_labels.kinds as ["Service"]
	count(policy.deny) > 0 with input as obj with data.gitgate.parameters.metadata.required_labels.kinds as ["Deployment"]
}

test_denied_custom_labels if {
	obj := every_kind(labels)["Pod admission"]
	results := policy.deny with input as obj with data.gitgate.parameters.metadata.required_labels.labels as ["team", "app.kubernetes.io/name"]
	[r.details.label | some r in results] == ["team"]
}

test_allowed_delete_requests if {
	obj := fixtures.admission_request(fixtures.manifests({}, {}).Pod, {"operation": "DELETE", "object": null})
	count(policy.deny) == 0 with input as obj
}
