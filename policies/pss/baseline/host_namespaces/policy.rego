# METADATA
# title: Host namespaces
# description: >-
#   Pod Security Standards, baseline. Sharing the host's network, PID or IPC
#   namespace must be disallowed: spec.hostNetwork, spec.hostPID and
#   spec.hostIPC may only be false or unset.
# custom:
#   id: pss.baseline.host_namespaces
#   severity: high
#   level: baseline
#   parameters: []
package gitgate.pss.baseline.host_namespaces

import data.gitgate.lib.kubernetes as k8s

policy := {"id": "pss.baseline.host_namespaces", "severity": "high"}

deny contains k8s.violation(policy, msg, {"field": field, "value": true}) if {
	some host_namespace in ["hostNetwork", "hostPID", "hostIPC"]
	k8s.pod_spec[host_namespace] == true
	field := sprintf("%s.%s", [k8s.pod_path, host_namespace])
	msg := sprintf("%s=true shares a host namespace; remove it or set it to false", [field])
}
