package gitgate.services.exposure_test

import data.gitgate.lib.fixtures
import data.gitgate.services.exposure as policy

service(namespace, spec) := {
	"apiVersion": "v1",
	"kind": "Service",
	"metadata": {"name": "web", "namespace": namespace},
	"spec": object.union({"ports": [{"port": 80}]}, spec),
}

test_allowed_cluster_ip_services[case] if {
	some variant, spec in {"default": {}, "ClusterIP": {"type": "ClusterIP"}, "headless": {"clusterIP": "None"}, "ExternalName": {"type": "ExternalName", "externalName": "db.example.com"}}
	some shape, obj in fixtures.shapes(service("apps", spec))
	case := sprintf("%s %s", [variant, shape])
	count(policy.deny) == 0 with input as obj
}

test_denied_exposed_services[case] if {
	some variant, spec in {
		"NodePort": {"type": "NodePort"},
		"LoadBalancer": {"type": "LoadBalancer"},
		"externalIPs": {"externalIPs": ["203.0.113.7"]},
	}
	some shape, obj in fixtures.shapes(service("apps", spec))
	case := sprintf("%s %s", [variant, shape])
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.namespace == "apps"
	contains(r.msg, `namespace "apps"`)
}

test_allowed_exposed_services_in_allowed_namespaces[case] if {
	some variant, spec in {"NodePort": {"type": "NodePort"}, "LoadBalancer": {"type": "LoadBalancer", "externalIPs": ["203.0.113.7"]}}
	some shape, obj in fixtures.shapes(service("ingress", spec))
	case := sprintf("%s %s", [variant, shape])
	count(policy.deny) == 0 with input as obj with data.gitgate.parameters.services.exposure.allowed_namespaces as ["ingress"]
}

test_denied_unknown_namespace_in_ci if {
	obj := json.remove(service("ingress", {"type": "LoadBalancer"}), ["metadata/namespace"])
	results := policy.deny with input as obj with data.gitgate.parameters.services.exposure.allowed_namespaces as ["ingress"]
	count(results) == 1
	some r in results
	contains(r.msg, "without metadata.namespace")
}

test_allowed_admission_uses_the_request_namespace if {
	svc := json.remove(service("ingress", {"type": "LoadBalancer"}), ["metadata/namespace"])
	obj := fixtures.admission_request(svc, {"namespace": "ingress"})
	count(policy.deny) == 0 with input as obj with data.gitgate.parameters.services.exposure.allowed_namespaces as ["ingress"]
}

test_allowed_other_kinds[case] if {
	some case, obj in fixtures.workloads({}, {"containers": [{"name": "app", "image": "x", "ports": [{"containerPort": 80, "hostPort": 80}]}]})
	count(policy.deny) == 0 with input as obj
}

test_allowed_services_of_other_groups if {
	obj := object.union(service("apps", {"type": "LoadBalancer"}), {"apiVersion": "serving.knative.dev/v1"})
	count(policy.deny) == 0 with input as obj
}
