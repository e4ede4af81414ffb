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
	k8s.pod_security_context.windowsOptions.hostProcess == true
	field := sprintf("%s.securityContext.windowsOptions.hostProcess", [k8s.pod_path])
	msg := sprintf("the pod must not run as a Windows HostProcess pod (%s=true)", [field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": true}) if {
	some c in k8s.containers
	c.sc.windowsOptions.hostProcess == true
	name := k8s.container_name(c)
	field := sprintf("%s.securityContext.windowsOptions.hostProcess", [k8s.container_path(c)])
	msg := sprintf("container %q must not run as a Windows HostProcess container (%s=true)", [name, field])
}
