# METADATA
# title: SELinux options
# description: >-
#   Pod Security Standards, baseline. Setting the SELinux type is restricted,
#   and setting a custom SELinux user or role is forbidden:
#   securityContext.seLinuxOptions.type of the pod and of every container may
#   only be container_t, container_init_t, container_kvm_t,
#   container_engine_t, empty or unset; seLinuxOptions.user and
#   seLinuxOptions.role must be empty or unset.
# custom:
#   id: pss.baseline.selinux
#   severity: high
#   level: baseline
#   parameters: []
package gitgate.pss.baseline.selinux

import data.gitgate.lib.kubernetes as k8s

policy := {"id": "pss.baseline.selinux", "severity": "high"}

allowed_types := {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}

# contexts lists the pod and the containers that set seLinuxOptions, as
# {"container": <name, null for the pod>, "path": <field path>, "sc": <securityContext>};
# the others cannot break a rule here and cost nothing.
contexts := array.concat(
	[{"container": null, "path": k8s.pod_path, "sc": k8s.pod_security_context} | k8s.pod_security_context.seLinuxOptions != null],
	[{"container": k8s.container_name(c), "path": k8s.container_path(c), "sc": c.sc} | some c in k8s.containers; c.sc.seLinuxOptions != null],
)

who(null) := "the pod"

who(name) := sprintf("container %q", [name]) if name != null

deny contains k8s.violation(policy, msg, {"field": field, "container": ctx.container, "value": type}) if {
	some ctx in contexts
	ctx.sc.seLinuxOptions != null
	type := k8s.string_field(ctx.sc.seLinuxOptions, "type")
	not type in allowed_types
	field := sprintf("%s.securityContext.seLinuxOptions.type", [ctx.path])
	msg := sprintf("%s must not set the SELinux type %q (%s); allowed are container_t, container_init_t, container_kvm_t and container_engine_t", [who(ctx.container), type, field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": ctx.container, "value": value}) if {
	some ctx in contexts
	ctx.sc.seLinuxOptions != null
	some option in ["user", "role"]
	value := k8s.string_field(ctx.sc.seLinuxOptions, option)
	value != ""
	field := sprintf("%s.securityContext.seLinuxOptions.%s", [ctx.path, option])
	msg := sprintf("%s must not set a custom SELinux %s (%s)", [who(ctx.container), option, field])
}
