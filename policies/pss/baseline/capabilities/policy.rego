# METADATA
# title: Added capabilities (baseline)
# description: >-
#   Pod Security Standards, baseline. Adding capabilities beyond the container
#   runtime's default set must be disallowed: securityContext.capabilities.add
#   of every container may only name AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER,
#   FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID and
#   SYS_CHROOT, spelled exactly so (no CAP_ prefix, upper case).
# custom:
#   id: pss.baseline.capabilities
#   severity: high
#   level: baseline
#   parameters: []
package gitgate.pss.baseline.capabilities

import data.gitgate.lib.kubernetes as k8s

policy := {"id": "pss.baseline.capabilities", "severity": "high"}

# The runtime's default capability set, which baseline lets a container add
# back explicitly.
allowed := {
	"AUDIT_WRITE",
	"CHOWN",
	"DAC_OVERRIDE",
	"FOWNER",
	"FSETID",
	"KILL",
	"MKNOD",
	"NET_BIND_SERVICE",
	"SETFCAP",
	"SETGID",
	"SETPCAP",
	"SETUID",
	"SYS_CHROOT",
}

deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": sort(forbidden)}) if {
	some c in k8s.containers
	added := c.sc.capabilities.add
	is_array(added)
	forbidden := {cap | some cap in added; not cap in allowed}
	count(forbidden) > 0
	name := k8s.container_name(c)
	field := sprintf("%s.securityContext.capabilities.add", [k8s.container_path(c)])
	msg := sprintf("container %q must not add capabilities %s (%s); only the runtime's default set may be added", [name, k8s.quote_list(sort(forbidden)), field])
}
