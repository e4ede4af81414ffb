package gitgate.services.exposure_test

import data.gitgate.lib.fixtures
import data.gitgate.services.exposure as policy

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

service(namespace, spec) := {
	"apiVersion": "v1",
	"kind": "Service",
	"metadata": {"name": "web", "namespace": namespace},
	"spec": object.union({"ports": [{"port": 80}]}, spec),
}

test_allowed_cluster_ip_services if {
	fixtures.all_pass({case: allows(obj) |
		some variant, spec in {"default": {}, "ClusterIP": {"type": "ClusterIP"}, "headless": {"clusterIP": "None"}, "ExternalName": {"type": "ExternalName", "externalName": "db.example.com"}}
		some shape, obj in fixtures.shapes(service("apps", spec))
		case := sprintf("%s %s", [variant, shape])
	})
}

test_denied_exposed_services if {
	fixtures.all_pass({case: denies_in_apps(obj) |
		some variant, spec in {
			"NodePort": {"type": "NodePort"},
			"LoadBalancer": {"type": "LoadBalancer"},
			"externalIPs": {"externalIPs": ["203.0.113.7"]},
		}
		some shape, obj in fixtures.shapes(service("apps", spec))
		case := sprintf("%s %s", [variant, shape])
	})
}

denies_in_apps(obj) if {
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.namespace == "apps"
	contains(r.msg, `namespace "apps"`)
} else := false

test_allowed_exposed_services_in_allowed_namespaces if {
	fixtures.all_pass({case: allows_in_ingress(obj) |
		some variant, spec in {"NodePort": {"type": "NodePort"}, "LoadBalancer": {"type": "LoadBalancer", "externalIPs": ["203.0.113.7"]}}
		some shape, obj in fixtures.shapes(service("ingress", spec))
		case := sprintf("%s %s", [variant, shape])
	})
}

allows_in_ingress(obj) if {
	count(policy.deny) == 0 with input as obj with data.gitgate.parameters.services.exposure.allowed_namespaces as ["ingress"]
} else := false

test_denied_unknown_namespace_in_ci if {
	obj := json.remove(service("ingress", {"type": "LoadBalancer"}), ["metadata/namespace"])
	results := policy.deny with input as obj with data.gitgate.parameters.services.exposure.allowed_namespaces as ["ingress"]
	count(results) == 1
	some r in results
	contains(r.msg, "without metadata.namespace")
}

test_allowed_admission_uses_the_request_namespace if {
	svc := json.remove(service("ingress", {"type": "LoadBalancer"}), ["metadata/namespace"])
	allows_in_ingress(fixtures.admission_request(svc, {"namespace": "ingress"}))
}

test_allowed_other_kinds if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.workloads({}, {"containers": [{"name": "app", "image": "x", "ports": [{"containerPort": 80, "hostPort": 80}]}]})})
}

test_allowed_services_of_other_groups if {
	allows(object.union(service("apps", {"type": "LoadBalancer"}), {"apiVersion": "serving.knative.dev/v1"}))
}
