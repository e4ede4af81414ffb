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

deny contains k8s.violation(policy, msg, {"field": field, "value": false}) if {
	not k8s.user_namespace
	k8s.pod_security_context.runAsNonRoot == false
	field := sprintf("%s.securityContext.runAsNonRoot", [k8s.pod_path])
	msg := sprintf("the pod must not set securityContext.runAsNonRoot=false (%s)", [field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": c.name, "value": value}) if {
	not k8s.user_namespace
	some c in k8s.containers
	value := object.get(c.sc, "runAsNonRoot", null)
	container_runs_as_root(value)
	field := sprintf("%s.securityContext.runAsNonRoot", [c.path])
	msg := sprintf("container %q must run as non-root: set securityContext.runAsNonRoot=true on the pod or the container (%s)", [c.name, field])
}

# A container's own setting wins; when it has none, the pod's applies.
container_runs_as_root(value) if {
	value != null
	value != true
}

container_runs_as_root(null) if not pod_non_root
