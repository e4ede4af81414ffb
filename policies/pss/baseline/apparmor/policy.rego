# METADATA
# title: AppArmor profile
# description: >-
#   Pod Security Standards, baseline. The default AppArmor profile must not be
#   overridden or disabled: securityContext.appArmorProfile.type of the pod
#   and of every container may only be RuntimeDefault, Localhost or unset, and
#   the annotations container.apparmor.security.beta.kubernetes.io/* may only
#   be runtime/default, localhost/*, empty or unset.
# custom:
#   id: pss.baseline.apparmor
#   severity: high
#   level: baseline
#   parameters: []
package gitgate.pss.baseline.apparmor

import data.gitgate.lib.kubernetes as k8s

policy := {"id": "pss.baseline.apparmor", "severity": "high"}

allowed_types := {"RuntimeDefault", "Localhost"}

annotation_prefix := "container.apparmor.security.beta.kubernetes.io/"

deny contains k8s.violation(policy, msg, {"field": field, "value": type}) if {
	profile := k8s.pod_security_context.appArmorProfile
	profile != null
	not object.get(profile, "type", "") in allowed_types
	type := k8s.string_field(profile, "type")
	not type in allowed_types
	field := sprintf("%s.securityContext.appArmorProfile.type", [k8s.pod_path])
	msg := sprintf("the pod must not set the AppArmor profile type to %q (%s); use RuntimeDefault or Localhost", [type, field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": type}) if {
	some c in k8s.containers
	profile := c.sc.appArmorProfile
	profile != null
	not object.get(profile, "type", "") in allowed_types
	type := k8s.string_field(profile, "type")
	not type in allowed_types
	name := k8s.container_name(c)
	field := sprintf("%s.securityContext.appArmorProfile.type", [k8s.container_path(c)])
	msg := sprintf("container %q must not set the AppArmor profile type to %q (%s); use RuntimeDefault or Localhost", [name, type, field])
}

deny contains k8s.violation(policy, msg, {"field": field, "annotation": key, "value": value}) if {
	some key, value in k8s.pod_annotations
	startswith(key, annotation_prefix)
	not allowed_annotation(value)
	field := sprintf("%s.annotations[%q]", [metadata_path, key])
	msg := sprintf("annotation %s=%q must not disable or override the default AppArmor profile; use runtime/default or localhost/<profile>", [key, value])
}

allowed_annotation("")

allowed_annotation("runtime/default")

allowed_annotation(value) if startswith(value, "localhost/")

metadata_path := concat(".", array.concat(k8s.pod_template_path, ["metadata"]))
