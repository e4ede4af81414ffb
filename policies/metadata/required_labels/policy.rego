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

# targets holds every metadata block that must carry the labels, with its
# field path.
targets contains {"path": "metadata", "labels": labels_of(k8s.resource)} if applies

targets contains {"path": path, "labels": labels_of(k8s.pod_template)} if {
	applies
	k8s.pod_spec
	count(k8s.pod_template_path) > 0
	path := concat(".", array.concat(k8s.pod_template_path, ["metadata"]))
}

targets contains {"path": "spec.jobTemplate.metadata", "labels": labels_of(k8s.resource.spec.jobTemplate)} if {
	applies
	k8s.pod_spec
	k8s.kind == "CronJob"
}

labels_of(obj) := labels if {
	labels := object.get(obj, ["metadata", "labels"], {})
	is_object(labels)
}

labels_of(obj) := {} if not is_object(object.get(obj, ["metadata", "labels"], {}))

deny contains k8s.violation(policy, msg, {"field": field, "label": key, "value": null}) if {
	some target in targets
	some key in required
	not key in object.keys(target.labels)
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

# A pattern that does not compile fails closed: every object that carries the
# label is denied, with a message naming the parameter.
deny contains k8s.violation(policy, msg, {"field": field, "label": key, "value": value, "pattern": pattern}) if {
	some target in targets
	some key, pattern in patterns
	value := target.labels[key]
	not regex.is_valid(anchored(pattern))
	field := sprintf("%s.labels[%q]", [target.path, key])
	msg := sprintf("parameter gitgate.parameters.metadata.required_labels.values[%q] = %q is not a valid RE2 pattern; label %s cannot be checked (%s)", [key, pattern, key, field])
}

# anchored makes the pattern match the whole value.
anchored(pattern) := sprintf("^(?:%s)$", [pattern])
