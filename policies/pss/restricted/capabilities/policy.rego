# METADATA
# title: Capabilities (restricted)
# description: >-
#   Pod Security Standards, restricted. Containers must drop ALL
#   capabilities and may add back only NET_BIND_SERVICE:
#   securityContext.capabilities.drop of every container must include "ALL",
#   and capabilities.add may only name NET_BIND_SERVICE. Windows pods
#   (spec.os.name windows) are exempt, as Linux capabilities do not exist
#   there.
# custom:
#   id: pss.restricted.capabilities
#   severity: medium
#   level: restricted
#   parameters: []
package gitgate.pss.restricted.capabilities

import data.gitgate.lib.kubernetes as k8s

policy := {"id": "pss.restricted.capabilities", "severity": "medium"}

deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": dropped}) if {
	some c in k8s.containers
	dropped := object.get(c.sc, ["capabilities", "drop"], null)

	# Only a list can drop ALL; a check inline costs the evaluator less
	# than a function call.
	not "ALL" in {true: dropped, false: []}[is_array(dropped)]
	not k8s.windows
	name := k8s.container_name(c)
	field := sprintf("%s.securityContext.capabilities.drop", [k8s.container_path(c)])
	msg := sprintf("container %q must set securityContext.capabilities.drop=[\"ALL\"] (%s)", [name, field])
}

deny contains k8s.violation(policy, msg, {"field": field, "container": name, "value": sort(forbidden)}) if {
	some c in k8s.containers
	added := c.sc.capabilities.add
	is_array(added)
	forbidden := {cap | some cap in added; cap != "NET_BIND_SERVICE"}
	count(forbidden) > 0
	not k8s.windows
	name := k8s.container_name(c)
	field := sprintf("%s.securityContext.capabilities.add", [k8s.container_path(c)])
	msg := sprintf("container %q must not add capabilities %s (%s); only NET_BIND_SERVICE may be added", [name, k8s.quote_list(sort(forbidden)), field])
}
