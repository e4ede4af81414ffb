# METADATA
# title: Running as user 0
# description: >-
#   Pod Security Standards, restricted. Containers must not set runAsUser
#   to 0: spec.securityContext.runAsUser and securityContext.runAsUser of
#   every container may only be non-zero or unset. Pods in a user namespace
#   (spec.hostUsers false) are exempt.
# custom:
#   id: pss.restricted.run_as_user
#   severity: medium
#   level: restricted
#   parameters: []
package gitgate.pss.restricted.run_as_user

import data.gitgate.lib.kubernetes as k8s

policy := {"id": "pss.restricted.run_as_user", "severity": "medium"}

deny contains k8s.violation(policy, msg, {"field": field, "value": 0}) if {
	k8s.pod_security_context.runAsUser == 0
	not k8s.user_namespace
	field := sprintf("%s.securityContext.runAsUser", [k8s.pod_path])
	msg := sprintf("the pod must not set securityContext.runAsUser=0 (%s); use a non-zero user ID", [field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": 0}) if {
	some c in k8s.containers
	c.sc.runAsUser == 0
	not k8s.user_namespace
	name := k8s.container_name(c)
	field := sprintf("%s.securityContext.runAsUser", [k8s.container_path(c)])
	msg := sprintf("container %q must not set securityContext.runAsUser=0 (%s); use a non-zero user ID", [name, field])
}
