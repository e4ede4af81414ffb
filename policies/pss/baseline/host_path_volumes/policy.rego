# METADATA
# title: HostPath volumes
# description: >-
#   Pod Security Standards, baseline. HostPath volumes must be forbidden:
#   spec.volumes[*].hostPath must be unset.
# custom:
#   id: pss.baseline.host_path_volumes
#   severity: high
#   level: baseline
#   parameters: []
package gitgate.pss.baseline.host_path_volumes

import data.gitgate.lib.kubernetes as k8s

policy := {"id": "pss.baseline.host_path_volumes", "severity": "high"}

deny contains k8s.violation(policy, msg, {"field": field, "volume": name, "value": v.volume.hostPath}) if {
	some v in k8s.volumes
	v.volume.hostPath != null
	name := k8s.volume_name(v)
	field := sprintf("%s.hostPath", [k8s.volume_path(v)])
	msg := sprintf("volume %q must not use hostPath (%s); use a persistentVolumeClaim, emptyDir, configMap or secret", [name, field])
}
