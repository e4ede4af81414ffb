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

deny contains k8s.violation(policy, msg, {"field": field, "container": c.name, "value": value}) if {
	some c in k8s.containers
	sc := c.sc
	sc.procMount != null
	value := sc.procMount
	value != "Default"
	field := sprintf("%s.securityContext.procMount", [c.path])
	msg := sprintf("container %q must not set securityContext.procMount to %q (%s)", [c.name, value, field])
}
