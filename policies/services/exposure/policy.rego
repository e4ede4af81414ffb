# METADATA
# title: Exposed Services
# description: >-
#   A Service of type NodePort or LoadBalancer, or one with spec.externalIPs,
#   exposes workloads outside the cluster; it is allowed only in the
#   namespaces listed in allowed_namespaces (none by default). In CI a
#   manifest without metadata.namespace cannot be shown to be in an allowed
#   namespace and is denied.
# custom:
#   id: services.exposure
#   severity: high
#   parameters:
#     - name: allowed_namespaces
#       data: gitgate.parameters.services.exposure.allowed_namespaces
#       type: array of strings
#       default: []
#       description: namespaces where exposed Services are allowed
package gitgate.services.exposure

import data.gitgate.lib.kubernetes as k8s

policy := {"id": "services.exposure", "severity": "high"}

default allowed_namespaces := []

allowed_namespaces := data.gitgate.parameters.services.exposure.allowed_namespaces if data.gitgate.parameters.services.exposure.allowed_namespaces != null

service if {
	k8s.kind == "Service"
	k8s.api_group == ""
}

service if {
	k8s.kind == "Service"
	not k8s.resource.apiVersion
}

namespace_allowed if k8s.namespace in allowed_namespaces

default where := "a manifest without metadata.namespace"

where := sprintf("namespace %q", [k8s.namespace]) if is_string(k8s.namespace)

deny contains k8s.violation(policy, msg, {"field": "spec.type", "value": type, "allowed_namespaces": allowed_namespaces}) if {
	service
	type := k8s.resource.spec.type
	type in {"NodePort", "LoadBalancer"}
	not namespace_allowed
	msg := sprintf("Services of type %s are not allowed in %s; allowed namespaces: [%s]", [type, where, k8s.quote_list(allowed_namespaces)])
}

deny contains k8s.violation(policy, msg, {"field": "spec.externalIPs", "value": ips, "allowed_namespaces": allowed_namespaces}) if {
	service
	ips := k8s.resource.spec.externalIPs
	is_array(ips)
	count(ips) > 0
	not namespace_allowed
	msg := sprintf("Services with spec.externalIPs are not allowed in %s; allowed namespaces: [%s]", [where, k8s.quote_list(allowed_namespaces)])
}
