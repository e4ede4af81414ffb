package gitgate.pss.restricted.seccomp_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.restricted.seccomp as policy

test_allowed_pod_level_profile[case] if {
	some variant, profile in {
		"RuntimeDefault": {"type": "RuntimeDefault"},
		"Localhost": {"type": "Localhost", "localhostProfile": "p.json"},
	}
	spec := fixtures.restricted_spec({"securityContext": {"seccompProfile": profile}})
	some kind, obj in fixtures.workloads({}, spec)
	case := sprintf("%s %s", [variant, kind])
	count(policy.deny) == 0 with input as obj
}

test_allowed_every_container_sets_one[case] if {
	spec := fixtures.with_container_security(
		fixtures.with_container_security(
			json.remove(fixtures.restricted_spec({}), ["securityContext/seccompProfile"]),
			"containers", 0, {"seccompProfile": {"type": "RuntimeDefault"}},
		),
		"initContainers", 0, {"seccompProfile": {"type": "Localhost", "localhostProfile": "p"}},
	)
	some case, obj in fixtures.workloads({}, spec)
	count(policy.deny) == 0 with input as obj
}

test_allowed_windows_pods[case] if {
	spec := {"os": {"name": "windows"}, "containers": [fixtures.container("app", {})]}
	some case, obj in fixtures.workloads({}, spec)
	count(policy.deny) == 0 with input as obj
}

test_denied_missing[case] if {
	spec := json.remove(fixtures.restricted_spec({}), ["securityContext/seccompProfile"])
	some case, obj in fixtures.workloads({}, spec)
	results := policy.deny with input as obj
	{r.details.container | some r in results} == {"app", "init"}
}

test_denied_one_container_missing[case] if {
	spec := fixtures.with_container_security(
		json.remove(fixtures.restricted_spec({}), ["securityContext/seccompProfile"]),
		"containers", 0, {"seccompProfile": {"type": "RuntimeDefault"}},
	)
	some case, obj in fixtures.workloads({}, spec)
	results := policy.deny with input as obj
	{r.details.container | some r in results} == {"init"}
}

test_denied_unconfined[case] if {
	some variant, spec in {
		"pod": fixtures.restricted_spec({"securityContext": {"seccompProfile": {"type": "Unconfined"}}}),
		"container": fixtures.with_container_security(fixtures.restricted_spec({}), "containers", 0, {"seccompProfile": {"type": "Unconfined"}}),
	}
	some kind, obj in fixtures.workloads({}, spec)
	case := sprintf("%s %s", [variant, kind])
	results := policy.deny with input as obj
	some r in results
	r.details.value == "Unconfined"
}

test_allowed_other_kinds[case] if {
	some case, obj in fixtures.non_workloads
	count(policy.deny) == 0 with input as obj
}
