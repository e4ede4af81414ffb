# Test fixtures shared by the library's Rego tests: they wrap one pod (its
# metadata and spec) in the kinds that carry a pod spec, in both input shapes,
# so that each policy test covers CI manifests, AdmissionReview requests and
# pod templates in one go.
#
# Tests build a table of cases (case name: passed?) and assert all_pass on it.
# That is OPA's tester without parameterized (partial) test rules, which trace
# every evaluation step and cost ten times as much on inputs of this size;
# all_pass prints the failing case names instead.
package gitgate.lib.fixtures

# all_pass is true when results (case name: boolean) is not empty and every
# case passed. It prints the names of the cases that did not.
all_pass(results) if {
	failed := sort([case | some case, ok in results; ok != true])
	report(failed)
	count(failed) == 0
	count(results) > 0
}

report(failed) if count(failed) == 0

report(failed) if {
	count(failed) > 0
	print("failing cases:", failed)
}

object_meta := {"name": "test", "namespace": "default"}

selector := {"matchLabels": {"app": "test"}}

# manifests wraps the pod (metadata meta, spec spec) in every kind the library
# reviews, keyed by kind.
manifests(meta, spec) := {
	"Pod": {"apiVersion": "v1", "kind": "Pod", "metadata": object.union(object_meta, meta), "spec": spec},
	"PodTemplate": {"apiVersion": "v1", "kind": "PodTemplate", "metadata": object_meta, "template": template(meta, spec)},
	"ReplicationController": {"apiVersion": "v1", "kind": "ReplicationController", "metadata": object_meta, "spec": {"selector": {"app": "test"}, "template": template(meta, spec)}},
	"ReplicaSet": {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": object_meta, "spec": {"selector": selector, "template": template(meta, spec)}},
	"Deployment": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": object_meta, "spec": {"selector": selector, "template": template(meta, spec)}},
	"DaemonSet": {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": object_meta, "spec": {"selector": selector, "template": template(meta, spec)}},
	"StatefulSet": {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": object_meta, "spec": {"selector": selector, "serviceName": "test", "template": template(meta, spec)}},
	"Job": {"apiVersion": "batch/v1", "kind": "Job", "metadata": object_meta, "spec": {"template": template(meta, spec)}},
	"CronJob": {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": object_meta, "spec": {"schedule": "@hourly", "jobTemplate": {"spec": {"template": template(meta, spec)}}}},
}

template(meta, spec) := {"metadata": meta, "spec": spec}

# shapes gives the manifest in both input shapes: as CI reads it and as the
# admission webhook receives it.
shapes(manifest) := {"manifest": manifest, "admission": review(manifest)}

# review wraps obj in an AdmissionReview CREATE request.
review(obj) := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"request": {
		"uid": "00000000-0000-0000-0000-000000000000",
		"kind": {"group": group(obj.apiVersion), "version": version(obj.apiVersion), "kind": obj.kind},
		"name": object.get(obj, ["metadata", "name"], ""),
		"namespace": object.get(obj, ["metadata", "namespace"], ""),
		"operation": "CREATE",
		"userInfo": {"username": "test"},
		"object": obj,
	},
}

group(api_version) := "" if not contains(api_version, "/")

group(api_version) := split(api_version, "/")[0] if contains(api_version, "/")

version(api_version) := api_version if not contains(api_version, "/")

version(api_version) := split(api_version, "/")[1] if contains(api_version, "/")

# workloads wraps the pod in a Pod, a Deployment and a CronJob (the three
# places a pod spec sits: spec, spec.template.spec and
# spec.jobTemplate.spec.template.spec), each in both shapes, keyed by
# "<Kind> <shape>"; a test iterates it, with one sub-result per case. The
# lib tests check with all_workloads that every other kind is found alike.
workloads(meta, spec) := {case: obj |
	all := manifests(meta, spec)
	some kind in ["Pod", "Deployment", "CronJob"]
	some shape, obj in shapes(all[kind])
	case := sprintf("%s %s", [kind, shape])
}

# workload returns [case, input] for case i of workloads, counted modulo
# their number: a table of n variants that takes case i for variant i covers
# the kinds and input shapes in turn with n cases instead of n times six.
workload(i, meta, spec) := [name, cases[name]] if {
	cases := workloads(meta, spec)
	names := sort(object.keys(cases))
	name := names[i % count(names)]
}

# all_workloads is workloads for every kind that carries a pod spec.
all_workloads(meta, spec) := {case: obj |
	some kind, manifest in manifests(meta, spec)
	some shape, obj in shapes(manifest)
	case := sprintf("%s %s", [kind, shape])
}

# objects wraps any manifest in both shapes, keyed by "<shape>".
objects(manifest) := shapes(manifest)

# pod_spec returns a pod spec with containers (and no init containers).
pod_spec(containers) := {"containers": containers}

# container returns a container named name with a pinned image, merged
# with fields.
container(name, fields) := object.union({"name": name, "image": "registry.example.com/app:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}, fields)

# restricted_container is a container that meets the restricted standard.
restricted_container(name) := container(name, {"securityContext": {
	"allowPrivilegeEscalation": false,
	"capabilities": {"drop": ["ALL"]},
}})

# restricted_spec is a pod spec that meets the restricted standard, with
# fields merged in.
restricted_spec(fields) := object.union(
	{
		"containers": [restricted_container("app")],
		"initContainers": [restricted_container("init")],
		"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
	},
	fields,
)

# with_container_security merges sc into the securityContext of the
# container at index i of list field (containers, initContainers,
# ephemeralContainers) of spec.
with_container_security(spec, field, i, sc) := object.union(spec, {field: [c |
	some j, c0 in spec[field]
	c := merged_container(c0, i == j, sc)
]})

merged_container(c, true, sc) := object.union(c, {"securityContext": object.union(object.get(c, "securityContext", {}), sc)})

merged_container(c, false, _) := c

# admission_request wraps obj in an AdmissionReview request with extra
# request fields (operation, subResource, oldObject).
admission_request(obj, fields) := {"request": object.union(review(obj).request, fields)}

# non_workload_manifests are objects without a pod spec, keyed by kind; the
# "CustomDeployment" is a CRD that reuses the name Deployment in another API
# group.
non_workload_manifests := {
	"ConfigMap": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": object_meta, "data": {"privileged": "true"}},
	"Service": {"apiVersion": "v1", "kind": "Service", "metadata": object_meta, "spec": {"ports": [{"port": 80}]}},
	"CustomDeployment": {"apiVersion": "example.com/v1", "kind": "Deployment", "metadata": object_meta, "spec": {"template": {"spec": {"hostNetwork": true, "containers": [{"name": "app", "image": "app", "securityContext": {"privileged": true}}]}}}},
}

# non_workloads are the non_workload_manifests in both shapes.
non_workloads := {case: obj |
	some kind, manifest in non_workload_manifests
	some shape, obj in shapes(manifest)
	case := sprintf("%s %s", [kind, shape])
}
