# METADATA
# title: Windows HostProcess containers
# description: >-
#   Pod Security Standards, baseline. Windows HostProcess containers have
#   privileged access to the Windows node:
#   securityContext.windowsOptions.hostProcess of the pod and of every
#   container may only be false or unset.
# custom:
#   id: pss.baseline.windows_host_process
#   severity: high
#   level: baseline
#   parameters: []
package gitgate.pss.baseline.windows_host_process

import data.gitgate.lib.kubernetes as k8s

policy := {"id": "pss.baseline.windows_host_process", "severity": "high"}

deny contains k8s.violation(policy, msg, {"field": field, "value": true}) if {
	object.get(k8s.pod_security_context, ["windowsOptions", "hostProcess"], false) == true
	field := sprintf("%s.securityContext.windowsOptions.hostProcess", [k8s.pod_path])
	msg := sprintf("the pod must not run as a Windows HostProcess pod (%s=true)", [field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": c.name, "value": true}) if {
	some c in k8s.containers
	object.get(c.sc, ["windowsOptions", "hostProcess"], false) == true
	field := sprintf("%s.securityContext.windowsOptions.hostProcess", [c.path])
	msg := sprintf("container %q must not run as a Windows HostProcess container (%s=true)", [c.name, field])
}
