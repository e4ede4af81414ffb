# METADATA
# title: Seccomp profile (restricted)
# description: >-
#   Pod Security Standards, restricted. A seccomp profile must be set:
#   spec.securityContext.seccompProfile.type must be RuntimeDefault or
#   Localhost, or every container must set its own to one of those; no pod or
#   container may set another type. Windows pods (spec.os.name windows) are
#   exempt, as seccomp does not exist there.
# custom:
#   id: pss.restricted.seccomp
#   severity: medium
#   level: restricted
#   parameters: []
package gitgate.pss.restricted.seccomp

import data.gitgate.lib.kubernetes as k8s

policy := {"id": "pss.restricted.seccomp", "severity": "medium"}

allowed_types := {"RuntimeDefault", "Localhost"}

default pod_profile_set := false

pod_profile_set if {
	k8s.pod_security_context.seccompProfile != null
	k8s.string_field(k8s.pod_security_context.seccompProfile, "type") in allowed_types
}

deny contains k8s.violation(policy, msg, {"field": field, "value": type}) if {
	not k8s.windows
	k8s.pod_security_context.seccompProfile != null
	type := k8s.string_field(k8s.pod_security_context.seccompProfile, "type")
	not type in allowed_types
	field := sprintf("%s.securityContext.seccompProfile.type", [k8s.pod_path])
	msg := sprintf("the pod must not set the seccomp profile type to %q (%s); use RuntimeDefault or Localhost", [type, field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": c.name, "value": type}) if {
	not k8s.windows
	some c in k8s.containers
	sc := c.sc
	sc.seccompProfile != null
	type := k8s.string_field(sc.seccompProfile, "type")
	not type in allowed_types
	field := sprintf("%s.securityContext.seccompProfile.type", [c.path])
	msg := sprintf("container %q must not set the seccomp profile type to %q (%s); use RuntimeDefault or Localhost", [c.name, type, field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": c.name, "value": null}) if {
	not k8s.windows
	not pod_profile_set
	some c in k8s.containers
	object.get(c.sc, "seccompProfile", null) == null
	field := sprintf("%s.securityContext.seccompProfile.type", [c.path])
	msg := sprintf("container %q must run with a seccomp profile: set securityContext.seccompProfile.type to RuntimeDefault or Localhost on the pod or the container (%s)", [c.name, field])
}
