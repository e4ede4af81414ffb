# METADATA
# title: Volume types
# description: >-
#   Pod Security Standards, restricted. Besides forbidding hostPath, the
#   restricted standard limits inline volume sources to configMap, csi,
#   downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected
#   and secret. A volume that names no source at all is allowed: the API
#   server defaults it to emptyDir.
# custom:
#   id: pss.restricted.volume_types
#   severity: medium
#   level: restricted
#   parameters: []
package gitgate.pss.restricted.volume_types

import data.gitgate.lib.kubernetes as k8s

policy := {"id": "pss.restricted.volume_types", "severity": "medium"}

allowed := {
	"configMap",
	"csi",
	"downwardAPI",
	"emptyDir",
	"ephemeral",
	"image",
	"persistentVolumeClaim",
	"projected",
	"secret",
}

deny contains k8s.violation(policy, msg, {"field": path, "volume": name, "value": sort(sources)}) if {
	some v in k8s.volumes
	sources := {key | some key, value in v.volume; key != "name"; value != null}
	count(sources) > 0
	count(sources & allowed) == 0
	name := k8s.volume_name(v)
	path := k8s.volume_path(v)
	msg := sprintf("volume %q uses the restricted volume type %s (%s); allowed are %s", [name, k8s.quote_list(sort(sources)), path, k8s.quote_list(sort(allowed))])
}
