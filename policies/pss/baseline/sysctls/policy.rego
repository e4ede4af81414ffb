# METADATA
# title: Sysctls
# description: >-
#   Pod Security Standards, baseline (policy version v1.37). Sysctls can
#   disable security mechanisms or affect every container on a node:
#   spec.securityContext.sysctls[*].name may only name the safe set
#   kernel.shm_rmid_forced, net.ipv4.ip_local_port_range,
#   net.ipv4.ip_local_reserved_ports, net.ipv4.tcp_syncookies,
#   net.ipv4.ping_group_range, net.ipv4.ip_unprivileged_port_start,
#   net.ipv4.tcp_keepalive_time, net.ipv4.tcp_fin_timeout,
#   net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes,
#   net.ipv4.tcp_rmem, net.ipv4.tcp_wmem, net.ipv4.tcp_slow_start_after_idle
#   and net.ipv4.tcp_notsent_lowat.
# custom:
#   id: pss.baseline.sysctls
#   severity: high
#   level: baseline
#   parameters: []
package gitgate.pss.baseline.sysctls

import data.gitgate.lib.kubernetes as k8s

policy := {"id": "pss.baseline.sysctls", "severity": "high"}

# The sysctls Kubernetes v1.37 considers namespaced and isolated per pod.
safe := {
	"kernel.shm_rmid_forced",
	"net.ipv4.ip_local_port_range",
	"net.ipv4.ip_local_reserved_ports",
	"net.ipv4.tcp_syncookies",
	"net.ipv4.ping_group_range",
	"net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_fin_timeout",
	"net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes",
	"net.ipv4.tcp_rmem",
	"net.ipv4.tcp_wmem",
	"net.ipv4.tcp_slow_start_after_idle",
	"net.ipv4.tcp_notsent_lowat",
}

deny contains k8s.violation(policy, msg, {"field": field, "value": name}) if {
	sysctls := k8s.pod_security_context.sysctls
	is_array(sysctls)
	some i, sysctl in sysctls
	name := k8s.string_field(sysctl, "name")
	not name in safe
	field := sprintf("%s.securityContext.sysctls[%d].name", [k8s.pod_path, i])
	msg := sprintf("sysctl %q is not in the safe set (%s)", [name, field])
}
