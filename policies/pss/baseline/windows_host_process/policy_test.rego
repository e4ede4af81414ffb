package gitgate.pss.baseline.windows_host_process_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.baseline.windows_host_process as policy

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

test_allowed_unset_or_false if {
	fixtures.all_pass({case: allows(obj) |
		some variant, opts in {"unset": {}, "empty": {"windowsOptions": {}}, "false": {"windowsOptions": {"hostProcess": false}}}
		spec := object.union(
			fixtures.pod_spec([fixtures.container("app", {"securityContext": opts})]),
			{"securityContext": opts, "os": {"name": "windows"}},
		)
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [variant, kind])
	})
}

test_denied_host_process if {
	fixtures.all_pass({case: denies_field(obj, v[2]) |
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
	})
}

denies_field(obj, field) if {
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	endswith(r.details.field, field)
} else := false

test_allowed_other_kinds if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.non_workloads})
}
