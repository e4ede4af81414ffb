package gitgate.metadata.required_labels_test

import data.gitgate.lib.fixtures
import data.gitgate.metadata.required_labels as policy

labels := {"app.kubernetes.io/name": "web"}

labelled(obj) := json.patch(obj, [{"op": "add", "path": "/metadata/labels", "value": labels}])

# every_kind labels the object and its pod template with l.
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

test_allowed_labelled_objects[case] if {
	some case, obj in every_kind(labels)
	count(policy.deny) == 0 with input as obj
}

test_allowed_labelled_non_workloads[case] if {
	some kind, manifest in fixtures.non_workload_manifests
	some shape, obj in fixtures.shapes(labelled(manifest))
	case := sprintf("%s %s", [kind, shape])
	count(policy.deny) == 0 with input as obj
}

test_denied_unlabelled_non_workloads[case] if {
	some case, obj in fixtures.non_workloads
	count(policy.deny) == 1 with input as obj
}

test_denied_missing_label[case] if {
	some case, obj in every_kind({"team": "x"})
	results := policy.deny with input as obj
	count(results) > 0
	every r in results {
		r.details.label == "app.kubernetes.io/name"
	}
}

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

test_denied_value_pattern[case] if {
	some case, obj in every_kind({"app.kubernetes.io/name": "Web App"})
	results := policy.deny with input as obj
		with data.gitgate.parameters.metadata.required_labels.values as {"app.kubernetes.io/name": "[a-z0-9-]+"}
	count(results) > 0
	every r in results {
		r.details.value == "Web App"
	}
}

test_allowed_value_pattern[case] if {
	some case, obj in every_kind(labels)
	count(policy.deny) == 0 with input as obj
		with data.gitgate.parameters.metadata.required_labels.values as {"app.kubernetes.io/name": "[a-z0-9-]+"}
}

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
