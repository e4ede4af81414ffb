# METADATA
# title: Liveness and readiness probes
# description: >-
#   Every regular container of a long-running workload must declare a
#   livenessProbe and a readinessProbe, so that the kubelet restarts it when
#   it hangs and Services send it traffic only when it is ready. Init
#   containers and ephemeral containers are not checked (the API forbids
#   these probes on run-to-completion init containers and on ephemeral
#   ones). Kinds in skip_kinds (by default Job and CronJob, which run to
#   completion), and Pods owned by such a kind, are not checked.
# custom:
#   id: workloads.probes
#   severity: low
#   parameters:
#     - name: probes
#       data: gitgate.parameters.workloads.probes.probes
#       type: array of strings
#       default: ["livenessProbe", "readinessProbe"]
#       description: probes every container must declare (startupProbe may be added)
#     - name: skip_kinds
#       data: gitgate.parameters.workloads.probes.skip_kinds
#       type: array of strings
#       default: ["Job", "CronJob"]
#       description: kinds (and Pods owned by them) that run to completion and are not checked
package gitgate.workloads.probes

import data.gitgate.lib.kubernetes as k8s

policy := {"id": "workloads.probes", "severity": "low"}

default required_probes := ["livenessProbe", "readinessProbe"]

required_probes := data.gitgate.parameters.workloads.probes.probes if data.gitgate.parameters.workloads.probes.probes != null

default skip_kinds := ["Job", "CronJob"]

skip_kinds := data.gitgate.parameters.workloads.probes.skip_kinds if data.gitgate.parameters.workloads.probes.skip_kinds != null

deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": null}) if {
	some c in k8s.containers
	c.type == "containers"
	some probe in required_probes
	object.get(c.container, probe, null) == null
	not skipped
	name := k8s.container_name(c)
	field := sprintf("%s.%s", [k8s.container_path(c), probe])
	msg := sprintf("container %q must declare a %s (%s)", [name, probe, field])
}

skipped if k8s.kind in skip_kinds

skipped if {
	k8s.kind == "Pod"
	some owner in object.get(k8s.resource, ["metadata", "ownerReferences"], [])
	owner.kind in skip_kinds
}
