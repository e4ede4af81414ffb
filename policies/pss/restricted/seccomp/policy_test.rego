package gitgate.pss.restricted.seccomp_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.restricted.seccomp as policy

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

without_pod_profile := json.remove(fixtures.restricted_spec({}), ["securityContext/seccompProfile"])

test_allowed_pod_level_profile if {
	fixtures.all_pass({case: allows(obj) |
		some variant, profile in {
			"RuntimeDefault": {"type": "RuntimeDefault"},
			"Localhost": {"type": "Localhost", "localhostProfile": "p.json"},
		}
		spec := fixtures.restricted_spec({"securityContext": {"seccompProfile": profile}})
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [variant, kind])
	})
}

test_allowed_every_container_sets_one if {
	spec := fixtures.with_container_security(
		fixtures.with_container_security(without_pod_profile, "containers", 0, {"seccompProfile": {"type": "RuntimeDefault"}}),
		"initContainers", 0, {"seccompProfile": {"type": "Localhost", "localhostProfile": "p"}},
	)
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.workloads({}, spec)})
}

test_allowed_windows_pods if {
	spec := {"os": {"name": "windows"}, "containers": [fixtures.container("app", {})]}
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.workloads({}, spec)})
}

test_denied_missing if {
	fixtures.all_pass({case: denies_containers(obj, {"app", "init"}) | some case, obj in fixtures.workloads({}, without_pod_profile)})
}

test_denied_one_container_missing if {
	spec := fixtures.with_container_security(without_pod_profile, "containers", 0, {"seccompProfile": {"type": "RuntimeDefault"}})
	fixtures.all_pass({case: denies_containers(obj, {"init"}) | some case, obj in fixtures.workloads({}, spec)})
}

denies_containers(obj, names) if {
	results := policy.deny with input as obj
	{r.details.container | some r in results} == names
} else := false

test_denied_unconfined if {
	fixtures.all_pass({case: denies_unconfined(obj) |
		some variant, spec in {
			"pod": fixtures.restricted_spec({"securityContext": {"seccompProfile": {"type": "Unconfined"}}}),
			"container": fixtures.with_container_security(fixtures.restricted_spec({}), "containers", 0, {"seccompProfile": {"type": "Unconfined"}}),
		}
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [variant, kind])
	})
}

denies_unconfined(obj) if {
	results := policy.deny with input as obj
	some r in results
	r.details.value == "Unconfined"
} else := false

test_allowed_other_kinds if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.non_workloads})
}
