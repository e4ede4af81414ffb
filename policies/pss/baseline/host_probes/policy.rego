# METADATA
# title: Probe and lifecycle hosts
# description: >-
#   Pod Security Standards, baseline (v1.34 and later). A probe or lifecycle
#   handler that names a host lets the kubelet connect to other hosts on the
#   pod's behalf: the host field of httpGet and tcpSocket in livenessProbe,
#   readinessProbe, startupProbe, lifecycle.postStart and lifecycle.preStop
#   of every container may only be empty or unset.
# custom:
#   id: pss.baseline.host_probes
#   severity: high
#   level: baseline
#   parameters: []
package gitgate.pss.baseline.host_probes

import data.gitgate.lib.kubernetes as k8s

policy := {"id": "pss.baseline.host_probes", "severity": "high"}

probes := ["livenessProbe", "readinessProbe", "startupProbe"]

lifecycle_handlers := ["postStart", "preStop"]

# handlers lists every probe and lifecycle handler a container declares, with
# its field path.
handlers contains [c, sprintf("%s.%s", [c.path, probe]), handler] if {
	some c in k8s.containers
	some probe in probes
	handler := c.container[probe]
	is_object(handler)
}

handlers contains [c, sprintf("%s.lifecycle.%s", [c.path, phase]), handler] if {
	some c in k8s.containers
	some phase in lifecycle_handlers
	handler := c.container.lifecycle[phase]
	is_object(handler)
}

deny contains k8s.violation(policy, msg, {"field": field, "container": c.name, "value": host}) if {
	some [c, path, handler] in handlers
	some action in ["httpGet", "tcpSocket"]
	host := handler[action].host
	host != ""
	host != null
	field := sprintf("%s.%s.host", [path, action])
	msg := sprintf("container %q must not point a probe or lifecycle handler at host %v (%s); leave host unset so the pod's own IP is used", [c.name, host, field])
}
