# METADATA
# title: Host ports
# description: >-
#   Pod Security Standards, baseline. HostPorts should be disallowed:
#   ports[*].hostPort of every container may only be 0 or unset.
# custom:
#   id: pss.baseline.host_ports
#   severity: high
#   level: baseline
#   parameters: []
package gitgate.pss.baseline.host_ports

import data.gitgate.lib.kubernetes as k8s

policy := {"id": "pss.baseline.host_ports", "severity": "high"}

deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": port.hostPort}) if {
	some c in k8s.containers
	is_array(c.container.ports)
	some i, port in c.container.ports
	port.hostPort != null
	port.hostPort != 0
	name := k8s.container_name(c)
	field := sprintf("%s.ports[%d].hostPort", [k8s.container_path(c), i])
	msg := sprintf("container %q must not use hostPort %v (%s); expose it through a Service", [name, port.hostPort, field])
}
