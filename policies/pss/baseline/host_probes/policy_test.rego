package gitgate.pss.baseline.host_probes_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.baseline.host_probes as policy

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

test_allowed_probes_without_host if {
	spec := fixtures.pod_spec([fixtures.container("app", {
		"livenessProbe": {"httpGet": {"port": 8080, "path": "/healthz"}},
		"readinessProbe": {"tcpSocket": {"port": 8080, "host": ""}},
		"startupProbe": {"exec": {"command": ["true"]}},
		"lifecycle": {"preStop": {"httpGet": {"port": 8080}}, "postStart": {"exec": {"command": ["true"]}}},
	})])
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.workloads({}, spec)})
}

host_handlers := {
	"livenessProbe httpGet": {"livenessProbe": {"httpGet": {"host": "bad.host", "port": 8080}}},
	"readinessProbe tcpSocket": {"readinessProbe": {"tcpSocket": {"host": "8.8.8.8", "port": 8080}}},
	"startupProbe httpGet": {"startupProbe": {"httpGet": {"host": "127.0.0.1", "port": 8080}}},
	"postStart httpGet": {"lifecycle": {"postStart": {"httpGet": {"host": "bad.host", "port": 8080}}}},
	"preStop tcpSocket": {"lifecycle": {"preStop": {"tcpSocket": {"host": "::1", "port": 8080}}}},
}

test_denied_probe_and_lifecycle_hosts if {
	fixtures.all_pass({case: denies_bad(obj) |
		some handler, fields in host_handlers
		some field in ["containers", "initContainers"]
		spec := {"containers": [fixtures.container("app", {})], field: [fixtures.container("bad", fields)]}
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s %s", [handler, field, kind])
	})
}

denies_bad(obj) if {
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	r.details.container == "bad"
	endswith(r.details.field, ".host")
} else := false

test_allowed_other_kinds if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.non_workloads})
}
