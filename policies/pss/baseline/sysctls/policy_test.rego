package gitgate.pss.baseline.sysctls_test

import data.gitgate.lib.fixtures
import data.gitgate.pss.baseline.sysctls as policy

allows(obj) if {
	count(policy.deny) == 0 with input as obj
} else := false

safe := [
	{"name": "kernel.shm_rmid_forced", "value": "1"},
	{"name": "net.ipv4.ip_local_port_range", "value": "1024 65535"},
	{"name": "net.ipv4.ip_local_reserved_ports", "value": "8080"},
	{"name": "net.ipv4.tcp_syncookies", "value": "1"},
	{"name": "net.ipv4.ping_group_range", "value": "0 0"},
	{"name": "net.ipv4.ip_unprivileged_port_start", "value": "80"},
	{"name": "net.ipv4.tcp_keepalive_time", "value": "60"},
	{"name": "net.ipv4.tcp_fin_timeout", "value": "30"},
	{"name": "net.ipv4.tcp_keepalive_intvl", "value": "10"},
	{"name": "net.ipv4.tcp_keepalive_probes", "value": "3"},
	{"name": "net.ipv4.tcp_rmem", "value": "4096 87380 6291456"},
	{"name": "net.ipv4.tcp_wmem", "value": "4096 16384 4194304"},
	{"name": "net.ipv4.tcp_slow_start_after_idle", "value": "0"},
	{"name": "net.ipv4.tcp_notsent_lowat", "value": "16384"},
]

test_allowed_safe_sysctls_or_none if {
	fixtures.all_pass({case: allows(obj) |
		some variant, sc in {"safe set": {"sysctls": safe}, "none": {}, "empty": {"sysctls": []}}
		spec := object.union(fixtures.pod_spec([fixtures.container("app", {})]), {"securityContext": sc})
		some kind, obj in fixtures.workloads({}, spec)
		case := sprintf("%s %s", [variant, kind])
	})
}

test_denied_unsafe_sysctls if {
	spec := object.union(fixtures.pod_spec([fixtures.container("app", {})]), {"securityContext": {"sysctls": [
		{"name": "net.ipv4.tcp_syncookies", "value": "1"},
		{"name": "kernel.msgmax", "value": "65536"},
		{"name": "net.core.somaxconn", "value": "1024"},
	]}})
	fixtures.all_pass({case: denies_unsafe(obj) | some case, obj in fixtures.workloads({}, spec)})
}

denies_unsafe(obj) if {
	results := policy.deny with input as obj
	{r.details.value | some r in results} == {"kernel.msgmax", "net.core.somaxconn"}
	some r in results
	endswith(r.details.field, "securityContext.sysctls[1].name")
} else := false

test_allowed_other_kinds if {
	fixtures.all_pass({case: allows(obj) | some case, obj in fixtures.non_workloads})
}
