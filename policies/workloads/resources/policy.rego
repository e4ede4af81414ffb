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

# pod_resources is the pod-level spec.resources ({} when unset).
default pod_resources := {}

pod_resources := k8s.pod_spec.resources if is_object(k8s.pod_spec.resources)

deny contains k8s.violation(policy, msg, {"field": field, "container": c.name, "value": null}) if {
	some c in checked_containers
	some resource in required_requests
	not has_request(c.container, resource)
	field := sprintf("%s.resources.requests.%s", [c.path, resource])
	msg := sprintf("container %q must request %s (%s)", [c.name, resource, field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": c.name, "value": null}) if {
	some c in checked_containers
	some resource in required_limits
	not has_limit(c.container, resource)
	field := sprintf("%s.resources.limits.%s", [c.path, resource])
	msg := sprintf("container %q must set a %s limit (%s)", [c.name, resource, field])
}

checked_containers contains c if {
	some c in k8s.containers
	c.type != "ephemeralContainers"
}

has_request(container, resource) if object.get(container, ["resources", "requests", resource], null) != null

has_request(container, resource) if has_limit(container, resource)

has_request(_, resource) if object.get(pod_resources, ["requests", resource], null) != null

has_limit(container, resource) if object.get(container, ["resources", "limits", resource], null) != null

has_limit(_, resource) if object.get(pod_resources, ["limits", resource], null) != null
