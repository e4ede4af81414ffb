package gitgate.pss.baseline.host_namespaces_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.baseline.host_namespaces as policy

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

test_allowed_when_unset_or_false if {
	fixtures.all_pass({case: allows(obj) |
		some variant, extra in {"unset": {}, "false": {"hostNetwork": false, "hostPID": false, "hostIPC": false}}
		spec := object.union(fixtures.pod_spec([fixtures.container("app", {})]), extra)
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [variant, kind])
	})
}

test_denied_each_host_namespace if {
	fixtures.all_pass({case: denies_field(obj, field) |
		some field in ["hostNetwork", "hostPID", "hostIPC"]
		spec := object.union(fixtures.pod_spec([fixtures.container("app", {})]), {field: true})
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [field, kind])
	})
}

denies_field(obj, field) if {
	results := policy.deny with input as obj
	count(results) == 1
	some r in results
	endswith(r.details.field, sprintf("spec.%s", [field]))
	r.details.policy == "pss.baseline.host_namespaces"
	r.details.value == true
} else := false

test_denied_all_three if {
	spec := object.union(fixtures.pod_spec([fixtures.container("app", {})]), {"hostNetwork": true, "hostPID": true, "hostIPC": true})
	obj := fixtures.manifests({}, spec).Deployment
	results := policy.deny with input as obj
	{r.details.field | some r in results} == {"spec.template.spec.hostNetwork", "spec.template.spec.hostPID", "spec.template.spec.hostIPC"}
}

test_allowed_other_kinds if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.non_workloads})
}
