package gitgate.pss.restricted.volume_types_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.restricted.volume_types as policy

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

test_allowed_volume_types if {
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
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.workloads({}, spec)})
}

restricted_types := [
	"hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi",
	"glusterfs", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "fc", "azureFile",
	"vsphereVolume", "quobyte", "azureDisk", "portworxVolume", "photonPersistentDisk",
	"scaleIO", "storageos", "someFutureType",
]

test_denied_restricted_volume_types if {
	# Each type in one kind and shape, in turn: 22 cases cover all six.
	fixtures.all_pass({case: denies_bad(obj, type) |
		some i, type in restricted_types
		spec := fixtures.restricted_spec({"volumes": [{"name": "ok", "emptyDir": {}}, {"name": "bad", type: {}}]})
		[kind, obj] := fixtures.workload(i, {}, spec)
		case := sprintf("%s %s", [type, kind])
	})
}

test_denied_host_path_in_every_shape if {
	spec := fixtures.restricted_spec({"volumes": [{"name": "ok", "emptyDir": {}}, {"name": "bad", "hostPath": {"path": "/"}}]})
	fixtures.all_pass({case: denies_bad(obj, "hostPath") | some case, obj in fixtures.workloads({}, spec)})
}

denies_bad(obj, type) if {
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.volume == "bad"
	r.details.value == [type]
	endswith(r.details.field, "volumes[1]")
} else := false

test_allowed_other_kinds if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.non_workloads})
}
