# METADATA
# title: Resource requests and limits
# description: >-
#   Every container and init container must declare the resource requests
#   and limits the scheduler and the kubelet need (by default requests for
#   cpu and memory and a memory limit). A limit also counts as the request
#   of that resource, because the API server defaults a missing request to
#   the limit, and pod-level spec.resources covers every container.
#   Ephemeral containers are not checked: the API forbids resources on them.
# custom:
#   id: workloads.resources
#   severity: medium
#   parameters:
#     - name: requests
#       data: gitgate.parameters.workloads.resources.requests
#       type: array of strings
#       default: ["cpu", "memory"]
#       description: resources every container must request
#     - name: limits
#       data: gitgate.parameters.workloads.resources.limits
#       type: array of strings
#       default: ["memory"]
#       description: resources every container must limit
package gitgate.workloads.resources

import data.gitgate.lib.kubernetes as k8s

policy := {"id": "workloads.resources", "severity": "medium"}

default required_requests := ["cpu", "memory"]

required_requests := data.gitgate.parameters.workloads.resources.requests if data.gitgate.parameters.workloads.resources.requests != null

default required_limits := ["memory"]

required_limits := data.gitgate.parameters.workloads.resources.limits if data.gitgate.parameters.workloads.resources.limits != null

default pod_resources := {}

pod_resources := k8s.pod_spec.resources if is_object(k8s.pod_spec.resources)

# A request is met by the container's request or limit, or by the pod's
# (spec.resources); a limit by the container's or the pod's limit.
deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": null}) if {
	some c in k8s.containers
	c.type != "ephemeralContainers"
	some resource in required_requests
	object.get(c.container, ["resources", "requests", resource], null) == null
	object.get(c.container, ["resources", "limits", resource], null) == null
	object.get(pod_resources, ["requests", resource], null) == null
	object.get(pod_resources, ["limits", resource], null) == null
	name := k8s.container_name(c)
	field := sprintf("%s.resources.requests.%s", [k8s.container_path(c), resource])
	msg := sprintf("container %q must request %s (%s)", [name, resource, field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": null}) if {
	some c in k8s.containers
	c.type != "ephemeralContainers"
	some resource in required_limits
	object.get(c.container, ["resources", "limits", resource], null) == null
	object.get(pod_resources, ["limits", resource], null) == null
	name := k8s.container_name(c)
	field := sprintf("%s.resources.limits.%s", [k8s.container_path(c), resource])
	msg := sprintf("container %q must set a %s limit (%s)", [name, resource, field])
}
