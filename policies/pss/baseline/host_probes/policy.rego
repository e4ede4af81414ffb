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

actions := ["httpGet", "tcpSocket"]

# hosts lists the probe and lifecycle handlers that name a host, as
# [<containers entry>, <field path of the handler>, <action>, <host>].
hosts contains [c, sprintf("%s.%s", [k8s.container_path(c), probe]), action, host] if {
	some c in k8s.containers
	some probe in probes
	handler := c.container[probe]
	is_object(handler)
	some action in actions
	host := handler[action].host
	host != ""
	host != null
}

hosts contains [c, sprintf("%s.lifecycle.%s", [k8s.container_path(c), phase]), action, host] if {
	some c in k8s.containers
	some phase in lifecycle_handlers
	handler := c.container.lifecycle[phase]
	is_object(handler)
	some action in actions
	host := handler[action].host
	host != ""
	host != null
}

deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": host}) if {
	some [c, path, action, host] in hosts
	name := k8s.container_name(c)
	field := sprintf("%s.%s.host", [path, action])
	msg := sprintf("container %q must not point a probe or lifecycle handler at host %v (%s); leave host unset so the pod's own IP is used", [name, host, field])
}
