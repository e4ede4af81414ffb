# METADATA
# title: Privilege escalation
# description: >-
#   Pod Security Standards, restricted. Privilege escalation (through
#   set-user-ID or set-group-ID files) must not be allowed: every container
#   must set securityContext.allowPrivilegeEscalation to false. Windows pods
#   (spec.os.name windows) are exempt, as the field does not exist there.
# custom:
#   id: pss.restricted.privilege_escalation
#   severity: medium
#   level: restricted
#   parameters: []
package gitgate.pss.restricted.privilege_escalation

import data.gitgate.lib.kubernetes as k8s

policy := {"id": "pss.restricted.privilege_escalation", "severity": "medium"}

deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": value}) if {
	some c in k8s.containers
	value := object.get(c.sc, "allowPrivilegeEscalation", null)
	value != false
	not k8s.windows
	name := k8s.container_name(c)
	field := sprintf("%s.securityContext.allowPrivilegeEscalation", [k8s.container_path(c)])
	msg := sprintf("container %q must set securityContext.allowPrivilegeEscalation=false (%s)", [name, field])
}
