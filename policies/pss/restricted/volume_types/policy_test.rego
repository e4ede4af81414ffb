package gitgate.pss.restricted.volume_types_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.restricted.volume_types as policy

test_allowed_volume_types[case] if {
	spec := fixtures.restricted_spec({"volumes": [
		{"name": "defaulted-to-emptydir"},
		{"name": "a", "configMap": {"name": "cm"}},
		{"name": "b", "csi": {"driver": "x"}},
		{"name": "c", "downwardAPI": {"items": []}},
		{"name": "d", "emptyDir": {}},
		{"name": "e", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
		{"name": "f", "image": {"reference": "registry.example.com/data:1"}},
		{"name": "g", "persistentVolumeClaim": {"claimName": "pvc"}},
		{"name": "h", "projected": {"sources": []}},
		{"name": "i", "secret": {"secretName": "s"}},
		{"name": "j", "secret": {"secretName": "s"}, "hostPath": null},
	]})
	some case, obj in fixtures.workloads({}, spec)
	count(policy.deny) == 0 with input as obj
}

test_denied_restricted_volume_types[case] if {
	some type in [
		"hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi",
		"glusterfs", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "fc", "azureFile",
		"vsphereVolume", "quobyte", "azureDisk", "portworxVolume", "photonPersistentDisk",
		"scaleIO", "storageos", "someFutureType",
	]
	spec := fixtures.restricted_spec({"volumes": [{"name": "ok", "emptyDir": {}}, {"name": "bad", type: {}}]})
	some kind, obj in fixtures.workloads({}, spec)
	case := sprintf("%s %s", [type, kind])
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.volume == "bad"
	r.details.value == [type]
	endswith(r.details.field, "volumes[1]")
}

test_allowed_other_kinds[case] if {
	some case, obj in fixtures.non_workloads
	count(policy.deny) == 0 with input as obj
}
