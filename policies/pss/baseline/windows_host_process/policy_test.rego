package gitgate.pss.baseline.windows_host_process_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.baseline.windows_host_process as policy

test_allowed_unset_or_false[case] if {
	some variant, opts in {"unset": {}, "empty": {"windowsOptions": {}}, "false": {"windowsOptions": {"hostProcess": false}}}
	spec := object.union(
		fixtures.pod_spec([fixtures.container("app", {"securityContext": opts})]),
		{"securityContext": opts, "os": {"name": "windows"}},
	)
	some kind, obj in fixtures.workloads({}, spec)
	case := sprintf("%s %s", [variant, kind])
	count(policy.deny) == 0 with input as obj
}

test_denied_host_process[case] if {
	some variant, v in {
		"pod": [{"windowsOptions": {"hostProcess": true}}, {}, "spec.securityContext.windowsOptions.hostProcess"],
		"container": [{}, {"windowsOptions": {"hostProcess": true}}, "containers[0].securityContext.windowsOptions.hostProcess"],
	}
	spec := {
		"os": {"name": "windows"},
		"hostNetwork": true,
		"securityContext": v[0],
		"containers": [fixtures.container("app", {"securityContext": v[1]})],
	}
	some kind, obj in fixtures.workloads({}, spec)
	case := sprintf("%s %s", [variant, kind])
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	endswith(r.details.field, v[2])
}

test_allowed_other_kinds[case] if {
	some case, obj in fixtures.non_workloads
	count(policy.deny) == 0 with input as obj
}
