# METADATA
# title: Required labels
# description: >-
#   Objects must carry the required labels, with values that match the
#   given patterns. For workloads the labels are also required on the pod
#   template (and on a CronJob's job template), because the objects their
#   controllers create take their labels from there.
# custom:
#   id: metadata.required_labels
#   severity: low
#   parameters:
#     - name: labels
#       data: gitgate.parameters.metadata.required_labels.labels
#       type: array of strings
#       default: ["app.kubernetes.io/name"]
#       description: label keys every object must carry
#     - name: values
#       data: gitgate.parameters.metadata.required_labels.values
#       type: object (label key to RE2 pattern)
#       default: {}
#       description: patterns a label's whole value must match
#     - name: kinds
#       data: gitgate.parameters.metadata.required_labels.kinds
#       type: array of strings
#       default: null
#       description: kinds to check; unset checks every kind
package gitgate.metadata.required_labels

import data.gitgate.lib.kubernetes as k8s

policy := {"id": "metadata.required_labels", "severity": "low"}

default required := ["app.kubernetes.io/name"]

required := data.gitgate.parameters.metadata.required_labels.labels if data.gitgate.parameters.metadata.required_labels.labels != null

default patterns := {}

patterns := data.gitgate.parameters.metadata.required_labels.values if data.gitgate.parameters.metadata.required_labels.values != null

default kinds := null

kinds := data.gitgate.parameters.metadata.required_labels.kinds if data.gitgate.parameters.metadata.required_labels.kinds != null

applies if {
	is_string(k8s.kind)
	kinds == null
}

applies if {
	is_string(k8s.kind)
	k8s.kind in kinds
}

# targets are the label sets under review: the object's, its pod
# template's and a CronJob's job template's, each {} when unset or not an
# object (written out here rather than in a function: a function call costs
# the evaluator more than the lookup).
targets contains {"path": "metadata", "labels": labels} if {
	applies
	given := object.get(k8s.resource, ["metadata", "labels"], {})
	labels := {true: given, false: {}}[is_object(given)]
}

targets contains {"path": path, "labels": labels} if {
	applies
	k8s.pod_spec
	count(k8s.pod_template_path) > 0
	path := concat(".", array.concat(k8s.pod_template_path, ["metadata"]))
	given := object.get(k8s.pod_template, ["metadata", "labels"], {})
	labels := {true: given, false: {}}[is_object(given)]
}

targets contains {"path": "spec.jobTemplate.metadata", "labels": labels} if {
	applies
	k8s.pod_spec
	k8s.kind == "CronJob"
	given := object.get(k8s.resource.spec.jobTemplate, ["metadata", "labels"], {})
	labels := {true: given, false: {}}[is_object(given)]
}

# A label is missing when the key is absent: `not labels[key]` alone would
# also take a false value for absent, the null check rules that out.
deny contains k8s.violation(policy, msg, {"field": field, "label": key, "value": null}) if {
	some target in targets
	some key in required
	not target.labels[key]
	object.get(target.labels, key, null) == null
	field := sprintf("%s.labels[%q]", [target.path, key])
	msg := sprintf("%s must carry the label %q (%s)", [target.path, key, field])
}

deny contains k8s.violation(policy, msg, {"field": field, "label": key, "value": value, "pattern": pattern}) if {
	some target in targets
	some key, pattern in patterns
	value := target.labels[key]
	regex.is_valid(anchored(pattern))
	not regex.match(anchored(pattern), value)
	field := sprintf("%s.labels[%q]", [target.path, key])
	msg := sprintf("label %s=%q must match %q (%s)", [key, value, pattern, field])
}

deny contains k8s.violation(policy, msg, {"field": field, "label": key, "value": value, "pattern": pattern}) if {
	some target in targets
	some key, pattern in patterns
	value := target.labels[key]
	not regex.is_valid(anchored(pattern))
	field := sprintf("%s.labels[%q]", [target.path, key])
	msg := sprintf("parameter gitgate.parameters.metadata.required_labels.values[%q] = %q is not a valid RE2 pattern; label %s cannot be checked (%s)", [key, pattern, key, field])
}

anchored(pattern) := sprintf("^(?:%s)$", [pattern])
