# METADATA
# title: /proc mount type (baseline)
# description: >-
#   Pod Security Standards, baseline. The default /proc masks reduce the
#   attack surface: securityContext.procMount of every container may only be
#   Default or unset, unless the pod runs in a user namespace
#   (spec.hostUsers false), where any value is allowed.
# custom:
#   id: pss.baseline.proc_mount
#   severity: high
#   level: baseline
#   parameters: []
package gitgate.pss.baseline.proc_mount

import data.gitgate.lib.kubernetes as k8s

policy := {"id": "pss.baseline.proc_mount", "severity": "high"}

deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": value}) if {
	some c in k8s.containers
	value := c.sc.procMount
	value != null
	value != "Default"
	not k8s.user_namespace
	name := k8s.container_name(c)
	field := sprintf("%s.securityContext.procMount", [k8s.container_path(c)])
	msg := sprintf("container %q must not set securityContext.procMount to %q (%s) unless the pod sets hostUsers: false", [name, value, field])
}
