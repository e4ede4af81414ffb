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

# resource is the Kubernetes object under review.
resource := input.request.object if {
	admission
	reviewed
	is_object(input.request.object)
}

resource := input if {
	not admission
	is_object(input)
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
api_group := "" if {
	is_string(resource.apiVersion)
	not contains(resource.apiVersion, "/")
}

api_group := split(resource.apiVersion, "/")[0] if {
	is_string(resource.apiVersion)
	contains(resource.apiVersion, "/")
}

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

# A manifest fragment without apiVersion is judged by its kind alone; an
# object of another group that reuses the kind name (a CRD) is not a workload.
pod_kind if {
	some group in pod_template_paths[kind].groups
	api_group == group
}

pod_kind if {
	pod_template_paths[kind]
	not resource.apiVersion
}

pod_template_path := pod_template_paths[kind].path if pod_kind

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
# {"container": <object>, "name": <name>, "type": <list field>,
#  "path": <field path>, "sc": <securityContext, {} when unset>}.
# It is an array, not a set, so that no container object is hashed; it is
# computed once per evaluation and shared by every policy.
containers := [entry |
	some field in container_fields
	list := pod_spec[field]
	is_array(list)
	some i, c in list
	is_object(c)
	entry := {
		"container": c,
		"name": container_name(c, field, i),
		"type": field,
		"path": sprintf("%s.%s[%d]", [pod_path, field, i]),
		"sc": security_context(c),
	}
]

# container_name is the container's name, or its position when it has none.
container_name(c, field, i) := c.name if {
	is_string(c.name)
	c.name != ""
} else := sprintf("%s[%d]", [field, i])

# security_context is a container's securityContext ({} when unset or null).
# Functions here use else rather than a negated call: `not f(x.missing)` is
# undefined in Rego, which would silently skip the container.
security_context(c) := c.securityContext if {
	is_object(c.securityContext)
} else := {}

# volumes lists every volume of the pod spec as
# {"volume": <object>, "name": <name>, "path": <field path>}.
volumes := [entry |
	list := pod_spec.volumes
	is_array(list)
	some i, v in list
	is_object(v)
	entry := {"volume": v, "name": object.get(v, "name", sprintf("volumes[%d]", [i])), "path": sprintf("%s.volumes[%d]", [pod_path, i])}
]

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
	"msg": sprintf("%s/%s: %s", [object.get(resource, "kind", "object"), name, msg]),
	"details": object.union(object_details(policy), details),
}

object_details(policy) := d if {
	base := {
		"policy": policy.id,
		"severity": policy.severity,
		"kind": object.get(resource, "kind", ""),
		"name": name,
	}
	d := object.union(base, namespace_detail)
}

default namespace_detail := {}

namespace_detail := {"namespace": namespace}
