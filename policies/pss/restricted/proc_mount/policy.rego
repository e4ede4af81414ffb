# METADATA
# title: /proc mount type (restricted)
# description: >-
#   Pod Security Standards, restricted (v1.35 and later). The default /proc
#   masks are required even in a user namespace: securityContext.procMount of
#   every container may only be Default or unset, whatever spec.hostUsers
#   says.
# custom:
#   id: pss.restricted.proc_mount
#   severity: medium
#   level: restricted
#   parameters: []
package gitgate.pss.restricted.proc_mount

import data.gitgate.lib.kubernetes as k8s

policy := {"id": "pss.restricted.proc_mount", "severity": "medium"}

deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": value}) if {
	some c in k8s.containers
	value := c.sc.procMount
	value != null
	value != "Default"
	name := k8s.container_name(c)
	field := sprintf("%s.securityContext.procMount", [k8s.container_path(c)])
	msg := sprintf("container %q must not set securityContext.procMount to %q (%s)", [name, value, field])
}
