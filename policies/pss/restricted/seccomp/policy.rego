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
	profile := k8s.pod_security_context.seccompProfile
	profile != null
	object.get(profile, "type", "") in allowed_types
}

deny contains k8s.violation(policy, msg, {"field": field, "value": type}) if {
	profile := k8s.pod_security_context.seccompProfile
	profile != null
	not object.get(profile, "type", "") in allowed_types
	not k8s.windows
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
	not k8s.windows
	type := k8s.string_field(profile, "type")
	not type in allowed_types
	name := k8s.container_name(c)
	field := sprintf("%s.securityContext.seccompProfile.type", [k8s.container_path(c)])
	msg := sprintf("container %q must not set the seccomp profile type to %q (%s); use RuntimeDefault or Localhost", [name, type, field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": null}) if {
	not pod_profile_set
	some c in k8s.containers
	object.get(c.sc, "seccompProfile", null) == null
	not k8s.windows
	name := k8s.container_name(c)
	field := sprintf("%s.securityContext.seccompProfile.type", [k8s.container_path(c)])
	msg := sprintf("container %q must run with a seccomp profile: set securityContext.seccompProfile.type to RuntimeDefault or Localhost on the pod or the container (%s)", [name, field])
}
