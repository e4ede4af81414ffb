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

# Every securityContext that may carry seLinuxOptions: the pod's and each
# container's, with a label for messages.
contexts contains {"who": "the pod", "container": null, "path": sprintf("%s.securityContext", [k8s.pod_path]), "sc": k8s.pod_security_context}

contexts contains {"who": sprintf("container %q", [c.name]), "container": c.name, "path": sprintf("%s.securityContext", [c.path]), "sc": k8s.security_context(c.container)} if {
	some c in k8s.containers
}

deny contains k8s.violation(policy, msg, {"field": field, "container": ctx.container, "value": type}) if {
	some ctx in contexts
	k8s.is_set(ctx.sc, "seLinuxOptions")
	type := k8s.string_field(ctx.sc.seLinuxOptions, "type")
	not type in allowed_types
	field := sprintf("%s.seLinuxOptions.type", [ctx.path])
	msg := sprintf("%s must not set the SELinux type %q (%s); allowed are container_t, container_init_t, container_kvm_t and container_engine_t", [ctx.who, type, field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": ctx.container, "value": value}) if {
	some ctx in contexts
	k8s.is_set(ctx.sc, "seLinuxOptions")
	some option in ["user", "role"]
	value := k8s.string_field(ctx.sc.seLinuxOptions, option)
	value != ""
	field := sprintf("%s.seLinuxOptions.%s", [ctx.path, option])
	msg := sprintf("%s must not set a custom SELinux %s (%s)", [ctx.who, option, field])
}
