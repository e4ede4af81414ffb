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

handlers := [
	["livenessProbe"],
	["readinessProbe"],
	["startupProbe"],
	["lifecycle", "postStart"],
	["lifecycle", "preStop"],
]

deny contains k8s.violation(policy, msg, {"field": field, "container": c.name, "value": host}) if {
	some c in k8s.containers
	some handler in handlers
	some action in ["httpGet", "tcpSocket"]
	host := object.get(c.container, array.concat(handler, [action, "host"]), "")
	host != ""
	host != null
	field := concat(".", array.concat(array.concat([c.path], handler), [action, "host"]))
	msg := sprintf("container %q must not point a probe or lifecycle handler at host %q (%s); leave host unset so the pod's own IP is used", [c.name, host, field])
}
