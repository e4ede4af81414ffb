package gitgate.pss.baseline.host_ports_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.baseline.host_ports as policy

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

test_allowed_container_ports_only if {
	spec := {
		"containers": [fixtures.container("app", {"ports": [{"containerPort": 8080}, {"containerPort": 9090, "hostPort": 0}]})],
		"initContainers": [fixtures.container("init", {"ports": [{"containerPort": 8081}]})],
	}
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.workloads({}, spec)})
}

test_denied_host_ports if {
	fixtures.all_pass({case: denies_bad(obj, field) |
		some field in ["containers", "initContainers"]
		spec := {
			"containers": [fixtures.container("app", {})],
			field: [fixtures.container("bad", {"ports": [{"containerPort": 80}, {"containerPort": 443, "hostPort": 443}]})],
		}
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [field, kind])
	})
}

denies_bad(obj, field) if {
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.container == "bad"
	r.details.value == 443
	endswith(r.details.field, sprintf("%s[0].ports[1].hostPort", [field]))
} else := false

test_allowed_other_kinds if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.non_workloads})
}
