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
	profile := k8s.pod_security_context.seccompProfile
	profile != null
	not object.get(profile, "type", "") in allowed_types
	type := k8s.string_field(profile, "type")
	not type in allowed_types
	field := sprintf("%s.securityContext.seccompProfile.type", [k8s.pod_path])
	msg := sprintf("the pod must not set the seccomp profile type to %q (%s); use RuntimeDefault or Localhost", [type, field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": type}) if {
	some c in k8s.containers
	profile := c.sc.seccompProfile
	profile != null
	not object.get(profile, "type", "") in allowed_types
	type := k8s.string_field(profile, "type")
	not type in allowed_types
	name := k8s.container_name(c)
	field := sprintf("%s.securityContext.seccompProfile.type", [k8s.container_path(c)])
	msg := sprintf("container %q must not set the seccomp profile type to %q (%s); use RuntimeDefault or Localhost", [name, type, field])
}
