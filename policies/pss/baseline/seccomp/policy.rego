# METADATA
# title: Seccomp profile (baseline)
# description: >-
#   Pod Security Standards, baseline. Seccomp must not be disabled:
#   securityContext.seccompProfile.type of the pod and of every container may
#   only be RuntimeDefault, Localhost or unset (Unconfined is forbidden).
# custom:
#   id: pss.baseline.seccomp
#   severity: high
#   level: baseline
#   parameters: []
package gitgate.pss.baseline.seccomp

import data.gitgate.lib.kubernetes as k8s

policy := {"id": "pss.baseline.seccomp", "severity": "high"}

allowed_types := {"RuntimeDefault", "Localhost"}

deny contains k8s.violation(policy, msg, {"field": field, "value": type}) if {
	k8s.pod_security_context.seccompProfile != null
	type := k8s.string_field(k8s.pod_security_context.seccompProfile, "type")
	not type in allowed_types
	field := sprintf("%s.securityContext.seccompProfile.type", [k8s.pod_path])
	msg := sprintf("the pod must not set the seccomp profile type to %q (%s); use RuntimeDefault or Localhost", [type, field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": c.name, "value": type}) if {
	some c in k8s.containers
	sc := c.sc
	sc.seccompProfile != null
	type := k8s.string_field(sc.seccompProfile, "type")
	not type in allowed_types
	field := sprintf("%s.securityContext.seccompProfile.type", [c.path])
	msg := sprintf("container %q must not set the seccomp profile type to %q (%s); use RuntimeDefault or Localhost", [c.name, type, field])
}
