# METADATA
# title: Running as non-root
# description: >-
#   Pod Security Standards, restricted. Containers must run as non-root
#   users: spec.securityContext.runAsNonRoot must be true, or every container
#   must set securityContext.runAsNonRoot true; no container may set it to
#   false. Pods in a user namespace (spec.hostUsers false) are exempt.
# custom:
#   id: pss.restricted.run_as_non_root
#   severity: medium
#   level: restricted
#   parameters: []
package gitgate.pss.restricted.run_as_non_root

import data.gitgate.lib.kubernetes as k8s

policy := {"id": "pss.restricted.run_as_non_root", "severity": "medium"}

default pod_non_root := false

pod_non_root if k8s.pod_security_context.runAsNonRoot == true

# non_root_values are the values of a container's runAsNonRoot that keep it
# off root: true, and unset (null) when the pod sets runAsNonRoot.
non_root_values := {true, null} if {
	pod_non_root
} else := {true}

deny contains k8s.violation(policy, msg, {"field": field, "value": false}) if {
	k8s.pod_security_context.runAsNonRoot == false
	not k8s.user_namespace
	field := sprintf("%s.securityContext.runAsNonRoot", [k8s.pod_path])
	msg := sprintf("the pod must not set securityContext.runAsNonRoot=false (%s)", [field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": value}) if {
	some c in k8s.containers
	value := object.get(c.sc, "runAsNonRoot", null)
	not value in non_root_values
	not k8s.user_namespace
	name := k8s.container_name(c)
	field := sprintf("%s.securityContext.runAsNonRoot", [k8s.container_path(c)])
	msg := sprintf("container %q must run as non-root: set securityContext.runAsNonRoot=true on the pod or the container (%s)", [name, field])
}
