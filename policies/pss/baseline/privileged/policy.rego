# METADATA
# title: Privileged containers
# description: >-
#   Pod Security Standards, baseline. Privileged containers disable most
#   security mechanisms: securityContext.privileged of every container,
#   init container and ephemeral container may only be false or unset.
# custom:
#   id: pss.baseline.privileged
#   severity: high
#   level: baseline
#   parameters: []
package gitgate.pss.baseline.privileged

import data.gitgate.lib.kubernetes as k8s

policy := {"id": "pss.baseline.privileged", "severity": "high"}

deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": true}) if {
	some c in k8s.containers
	c.sc.privileged == true
	name := k8s.container_name(c)
	field := sprintf("%s.securityContext.privileged", [k8s.container_path(c)])
	msg := sprintf("container %q must not set securityContext.privileged=true (%s)", [name, field])
}
