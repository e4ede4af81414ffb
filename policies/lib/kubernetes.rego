# METADATA
# title: Kubernetes helpers of the gitgate policy library
# description: |
#   Finds the object under review in both input shapes, the pod spec of every
#   kind that carries one and every container of that pod spec, and builds
#   results in the library's one shape. Policies read their parameters
#   straight from data.gitgate.parameters.<policy id>, with a default.
#
#   Input shapes:
#   - CI (conftest style): the input is the manifest itself.
#   - Admission: the input carries the AdmissionReview request; the object is
#     input.request.object (null on DELETE, so nothing is reviewed).
#
#   Results: every deny and warn of the library is an object
#   {"msg": string, "details": {"policy", "severity", "kind", "name",
#   "namespace"?, "field", ...}}, as conftest prints messages with metadata.
package gitgate.lib.kubernetes

# admission is true when the input is an AdmissionReview-style input.
default admission := false

admission if is_object(input.request)

# subresource is the admission request's subresource, "" for the object itself.
default subresource := ""

subresource := input.request.subResource if {
	admission
	is_string(input.request.subResource)
}

# Pod subresources whose request body is not a pod spec change. The set is
# Pod Security Admission's: any other pods subresource (ephemeralcontainers,
# resize, one added in a later release) is reviewed, so that a version skew
# fails closed.
ignored_pod_subresources := {
	"attach",
	"binding",
	"eviction",
	"exec",
	"log",
	"portforward",
	"proxy",
	"status",
}

# reviewed is true when the request's object is what the library judges.
# Workload subresources (scale, status) never carry a pod spec change, as in
# Pod Security Admission.
default reviewed := false

reviewed if not admission

reviewed if {
	admission
	subresource == ""
}

reviewed if {
	admission
	subresource != ""
	input.request.object.kind == "Pod"
	not subresource in ignored_pod_subresources
}

# resource is the Kubernetes object under review. It is the first rule every
# policy reaches, so it is written for the evaluator: an else chain (the
# second branch only runs when the first fails) over the request itself,
# rather than through admission, subresource and reviewed, which hold the
# same logic for the library's users.
resource := input.request.object if {
	is_object(input.request)
	request_reviewed
	is_object(input.request.object)
} else := input if {
	not admission
	is_object(input)
}

# request_reviewed is reviewed for an input known to be an AdmissionReview
# request: no subresource (absent, null, "" or not a string, as subresource
# reads it), or a pods subresource that carries a pod spec change.
request_reviewed if object.get(input.request, "subResource", "") == ""

request_reviewed if not is_string(object.get(input.request, "subResource", ""))

request_reviewed if {
	input.request.object.kind == "Pod"
	not input.request.subResource in ignored_pod_subresources
}

kind := resource.kind

# name names the object; in admission a generated name is set by the time
# validating webhooks run, generateName covers the mutating phase.
default name := "<unnamed>"

name := resource.metadata.name if {
	is_string(resource.metadata.name)
	resource.metadata.name != ""
}

name := resource.metadata.generateName if {
	not resource.metadata.name
	is_string(resource.metadata.generateName)
}

# namespace is the object's namespace: the request's in admission (the API
# server sets it from the URL), the manifest's in CI. Undefined when unknown.
namespace := input.request.namespace if {
	admission
	is_string(input.request.namespace)
	input.request.namespace != ""
}

namespace := resource.metadata.namespace if {
	not admission
	is_string(resource.metadata.namespace)
	resource.metadata.namespace != ""
}

# api_group is the group of the object's apiVersion ("" for the core group).
api_group := substring(v, 0, i) if {
	v := resource.apiVersion
	is_string(v)
	i := indexof(v, "/")
	i >= 0
} else := "" if is_string(resource.apiVersion)

# Where each kind keeps its pod template (metadata + spec), and the API groups
# that serve the kind. The list is Pod Security Admission's (plus the
# extensions group of old manifests).
pod_template_paths := {
	"Pod": {"groups": {""}, "path": []},
	"PodTemplate": {"groups": {""}, "path": ["template"]},
	"ReplicationController": {"groups": {""}, "path": ["spec", "template"]},
	"ReplicaSet": {"groups": {"apps", "extensions"}, "path": ["spec", "template"]},
	"Deployment": {"groups": {"apps", "extensions"}, "path": ["spec", "template"]},
	"DaemonSet": {"groups": {"apps", "extensions"}, "path": ["spec", "template"]},
	"StatefulSet": {"groups": {"apps"}, "path": ["spec", "template"]},
	"Job": {"groups": {"batch"}, "path": ["spec", "template"]},
	"CronJob": {"groups": {"batch"}, "path": ["spec", "jobTemplate", "spec", "template"]},
}

# pod_template_path_by_group is pod_template_paths indexed by group, then by
# kind: one lookup instead of a walk over each kind's groups. It is written
# out, because a comprehension would be evaluated again for every input; a
# test proves the two tables agree.
pod_template_path_by_group := {
	"": {
		"Pod": [],
		"PodTemplate": ["template"],
		"ReplicationController": ["spec", "template"],
	},
	"apps": {
		"ReplicaSet": ["spec", "template"],
		"Deployment": ["spec", "template"],
		"DaemonSet": ["spec", "template"],
		"StatefulSet": ["spec", "template"],
	},
	"extensions": {
		"ReplicaSet": ["spec", "template"],
		"Deployment": ["spec", "template"],
		"DaemonSet": ["spec", "template"],
	},
	"batch": {
		"Job": ["spec", "template"],
		"CronJob": ["spec", "jobTemplate", "spec", "template"],
	},
}

# A manifest fragment without apiVersion is judged by its kind alone; an
# object of another group that reuses the kind name (a CRD) is not a workload.
pod_kind if pod_template_path

pod_template_path := pod_template_path_by_group[api_group][kind] if {
	is_string(resource.apiVersion)
} else := pod_template_paths[kind].path if not resource.apiVersion

pod_template := object.get(resource, pod_template_path, null)

# pod_spec is the pod spec of the object under review, undefined for kinds
# without one.
pod_spec := pod_template.spec if is_object(pod_template.spec)

# pod_metadata is the metadata of the pod (the template's for workloads).
default pod_metadata := {}

pod_metadata := pod_template.metadata if {
	pod_spec
	is_object(pod_template.metadata)
}

# pod_path is the field path of the pod spec, for messages.
pod_path := concat(".", array.concat(pod_template_path, ["spec"])) if pod_spec

# pod_security_context is the pod-level securityContext ({} when unset).
default pod_security_context := {}

pod_security_context := pod_spec.securityContext if is_object(pod_spec.securityContext)

# pod_annotations are the pod's annotations ({} when unset).
default pod_annotations := {}

pod_annotations := pod_metadata.annotations if is_object(pod_metadata.annotations)

# windows is true for a pod that declares spec.os.name windows.
default windows := false

windows if pod_spec.os.name == "windows"

# user_namespace is true for a pod that runs in a user namespace
# (hostUsers: false), which relaxes some Pod Security Standards controls.
default user_namespace := false

user_namespace if pod_spec.hostUsers == false

# container_fields are the lists of containers of a pod spec, in the order
# Pod Security Admission visits them.
container_fields := ["initContainers", "containers", "ephemeralContainers"]

# containers lists every container of the pod spec: initContainers,
# containers and ephemeralContainers, each as
# {"container": <object>, "type": <list field>, "index": <position in it>,
#  "sc": <securityContext, {} when unset>}.
# It is an array, not a set, so that no container object is hashed; it is
# computed once per evaluation and shared by every policy. Names and field
# paths are only needed for messages: container_name and container_path
# make them for the containers that break a rule, so that a conforming pod
# costs no string formatting.
containers := [{"container": c, "type": field, "index": i, "sc": sc} |
	some field in container_fields
	list := pod_spec[field]
	is_array(list)
	some i, c in list
	is_object(c)

	# security_context(c) without a function call, which costs the
	# evaluator more than the lookup: {} unless it is an object.
	given := object.get(c, "securityContext", null)
	sc := {true: given, false: {}}[is_object(given)]
]

# container_name is the name of a containers entry, or its position when
# the container has none.
container_name(entry) := entry.container.name if {
	is_string(entry.container.name)
	entry.container.name != ""
} else := sprintf("%s[%d]", [entry.type, entry.index])

# container_path is the field path of a containers entry, for messages.
container_path(entry) := sprintf("%s.%s[%d]", [pod_path, entry.type, entry.index])

# security_context is a container's securityContext ({} when unset or null).
# Functions here use else rather than a negated call: `not f(x.missing)` is
# undefined in Rego, which would silently skip the container.
security_context(c) := c.securityContext if {
	is_object(c.securityContext)
} else := {}

# volumes lists every volume of the pod spec as
# {"volume": <object>, "index": <position in spec.volumes>}; volume_name and
# volume_path name it in messages.
volumes := [{"volume": v, "index": i} |
	list := pod_spec.volumes
	is_array(list)
	some i, v in list
	is_object(v)
]

# volume_name is a volumes entry's name, or its position when it has none.
volume_name(entry) := object.get(entry.volume, "name", sprintf("volumes[%d]", [entry.index]))

# volume_path is the field path of a volumes entry, for messages.
volume_path(entry) := sprintf("%s.volumes[%d]", [pod_path, entry.index])

# string_field returns obj[key] as a string: "" when absent or null (as the
# Kubernetes API decodes it), the value itself when it is a string, and the
# value printed with %v otherwise, so that a malformed value is still judged.
string_field(obj, key) := obj[key] if {
	is_string(obj[key])
} else := "" if {
	object.get(obj, key, null) == null
} else := sprintf("%v", [obj[key]])

# quote_list renders names as "a", "b" for messages.
quote_list(names) := concat(", ", [sprintf("%q", [n]) | some n in names])

# violation builds a result in the library's shape. policy is the policy's
# {"id", "severity"}; msg says what is wrong and how to fix it; details add
# the offending field and values.
violation(policy, msg, details) := {
	"msg": sprintf("%s: %s", [subject, msg]),
	"details": object.union(policy_details(policy), details),
}

# policy_details are the details every result of one policy carries. As a
# function of the policy alone, it is evaluated once per policy (OPA and
# gitgate's VM remember function calls by their arguments).
policy_details(policy) := object.union(object_details, {"policy": policy.id, "severity": policy.severity})

# subject names the object in messages, as <Kind>/<name>. It and
# object_details are rules, not parts of violation, so that they are
# computed once per evaluation however many results a pod gives.
subject := sprintf("%s/%s", [object.get(resource, "kind", "object"), name])

# object_details are the details every result carries about the object.
object_details := object.union({"kind": object.get(resource, "kind", ""), "name": name}, namespace_detail)

default namespace_detail := {}

namespace_detail := {"namespace": namespace}
