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

deny contains k8s.violation(policy, msg, {"field": field, "container": c.name, "value": value}) if {
	not k8s.user_namespace
	some c in k8s.containers
	sc := c.sc
	sc.procMount != null
	value := sc.procMount
	value != "Default"
	field := sprintf("%s.securityContext.procMount", [c.path])
	msg := sprintf("container %q must not set securityContext.procMount to %q (%s) unless the pod sets hostUsers: false", [c.name, value, field])
}
