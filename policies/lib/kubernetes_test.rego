package gitgate.lib.kubernetes_test

import data.gitgate.lib.fixtures
import data.gitgate.lib.kubernetes as k8s

spec := {
	"initContainers": [{"name": "init", "image": "a"}],
	"containers": [{"name": "app", "image": "b"}, {"image": "c"}],
	"ephemeralContainers": [{"name": "debug", "image": "d"}],
	"volumes": [{"name": "data", "emptyDir": {}}],
}

template_paths := {
	"Pod": "spec",
	"PodTemplate": "template.spec",
	"ReplicationController": "spec.template.spec",
	"ReplicaSet": "spec.template.spec",
	"Deployment": "spec.template.spec",
	"DaemonSet": "spec.template.spec",
	"StatefulSet": "spec.template.spec",
	"Job": "spec.template.spec",
	"CronJob": "spec.jobTemplate.spec.template.spec",
}

test_allowed_kinds_find_pod_spec_in_both_shapes if {
	fixtures.all_pass({case: finds_pod(obj, kind, shape) |
		some kind, manifest in fixtures.manifests({"annotations": {"a": "b"}}, spec)
		some shape, obj in fixtures.shapes(manifest)
		case := sprintf("%s %s", [kind, shape])
	})
}

finds_pod(obj, kind, shape) if {
	k8s.pod_spec == spec with input as obj
	k8s.pod_path == template_paths[kind] with input as obj
	k8s.pod_annotations == {"a": "b"} with input as obj
	is_review := shape == "admission"
	k8s.admission == is_review with input as obj
} else := false

test_allowed_containers_cover_all_three_lists if {
	fixtures.all_pass({case: covers_containers(obj) | some case, obj in fixtures.all_workloads({}, spec)})
}

covers_containers(obj) if {
	got := {[c.type, k8s.container_name(c)] | some c in k8s.containers} with input as obj
	got == {
		["initContainers", "init"],
		["containers", "app"],
		["containers", "containers[1]"],
		["ephemeralContainers", "debug"],
	}
} else := false

test_allowed_container_paths if {
	paths := {k8s.container_path(c) | some c in k8s.containers} with input as fixtures.manifests({}, spec).CronJob
	paths == {
		"spec.jobTemplate.spec.template.spec.initContainers[0]",
		"spec.jobTemplate.spec.template.spec.containers[0]",
		"spec.jobTemplate.spec.template.spec.containers[1]",
		"spec.jobTemplate.spec.template.spec.ephemeralContainers[0]",
	}
}

test_allowed_volumes if {
	deployment := fixtures.manifests({}, object.union(spec, {"volumes": [{"name": "data", "emptyDir": {}}, {"emptyDir": {}}]})).Deployment
	vols := k8s.volumes with input as deployment
	vols == [{"volume": {"name": "data", "emptyDir": {}}, "index": 0}, {"volume": {"emptyDir": {}}, "index": 1}]
	[[k8s.volume_name(v), k8s.volume_path(v)] | some v in vols] == [
		["data", "spec.template.spec.volumes[0]"],
		["volumes[1]", "spec.template.spec.volumes[1]"],
	] with input as deployment
}

# The lookup table the evaluator uses holds the same kinds, groups and
# paths as pod_template_paths.
test_allowed_pod_template_tables_agree if {
	by_kind := {[group, kind, entry.path] |
		some kind, entry in k8s.pod_template_paths
		some group in entry.groups
	}
	by_group := {[group, kind, path] |
		some group, kinds in k8s.pod_template_path_by_group
		some kind, path in kinds
	}
	by_kind == by_group
}

test_denied_no_pod_spec_for_other_kinds if {
	fixtures.all_pass({case: no_pod_spec(obj) | some case, obj in fixtures.non_workloads})
}

no_pod_spec(obj) if {
	not k8s.pod_spec with input as obj
	count(k8s.containers) == 0 with input as obj
} else := false

test_allowed_manifest_without_api_version if {
	obj := json.remove(fixtures.manifests({}, spec).Deployment, ["apiVersion"])
	k8s.pod_path == "spec.template.spec" with input as obj
}

test_allowed_old_api_groups if {
	obj := object.union(fixtures.manifests({}, spec).Deployment, {"apiVersion": "extensions/v1beta1"})
	k8s.pod_path == "spec.template.spec" with input as obj
}

test_denied_delete_request_reviews_nothing if {
	obj := fixtures.admission_request(fixtures.manifests({}, spec).Pod, {"operation": "DELETE", "object": null})
	not k8s.resource with input as obj
	count(k8s.containers) == 0 with input as obj
}

test_allowed_subresources_as_pod_security_admission_does if {
	pod := fixtures.manifests({}, spec).Pod
	deployment := fixtures.manifests({}, spec).Deployment
	fixtures.all_pass({case: reviewed_as(obj, want[1]) |
		some case, want in {
			"pods/ephemeralcontainers": [pod, true],
			"pods/resize": [pod, true],
			"pods/some-future-subresource": [pod, true],
			"pods/status": [pod, false],
			"pods/exec": [pod, false],
			"deployments/status": [deployment, false],
			"deployments/scale": [deployment, false],
		}
		obj := fixtures.admission_request(want[0], {"operation": "UPDATE", "subResource": split(case, "/")[1]})
	})
}

reviewed_as(obj, want) if {
	k8s.reviewed == want with input as obj
} else := false

test_allowed_names_and_namespaces if {
	pod := fixtures.manifests({}, spec).Pod
	k8s.name == "test" with input as pod
	k8s.namespace == "default" with input as pod
	generated := json.patch(pod, [{"op": "remove", "path": "/metadata/name"}, {"op": "add", "path": "/metadata/generateName", "value": "web-"}])
	k8s.name == "web-" with input as generated
	unnamed := json.remove(pod, ["metadata/name", "metadata/namespace"])
	k8s.name == "<unnamed>" with input as unnamed
	not k8s.namespace with input as unnamed

	# In admission the request's namespace counts, as the API server sets it
	# from the URL.
	k8s.namespace == "prod" with input as fixtures.admission_request(unnamed, {"namespace": "prod"})
}

test_allowed_string_field if {
	k8s.string_field({"a": "x"}, "a") == "x"
	k8s.string_field({}, "a") == ""
	k8s.string_field({"a": null}, "a") == ""
	k8s.string_field({"a": 1}, "a") == "1"
}

# containers computes security_context inline: the same {} for every value
# that is not an object.
test_allowed_containers_security_context if {
	fixtures.all_pass({sprintf("%v", [given]): sc_as_function(given) |
		some given in [{"privileged": true}, {}, null, "x", 1, ["a"], false]
	})
}

sc_as_function(given) if {
	pod := fixtures.manifests({}, {"containers": [{"name": "app", "securityContext": given}]}).Pod
	[c.sc | some c in k8s.containers] == [k8s.security_context({"securityContext": given})] with input as pod
} else := false

test_allowed_security_context if {
	k8s.security_context({"securityContext": {"privileged": true}}) == {"privileged": true}
	k8s.security_context({}) == {}
	k8s.security_context({"securityContext": null}) == {}
}

test_denied_violation_shape if {
	v := k8s.violation({"id": "x.y", "severity": "low"}, "bad", {"field": "spec"}) with input as fixtures.manifests({}, spec).Deployment
	v == {
		"msg": "Deployment/test: bad",
		"details": {"policy": "x.y", "severity": "low", "kind": "Deployment", "name": "test", "namespace": "default", "field": "spec"},
	}
}
