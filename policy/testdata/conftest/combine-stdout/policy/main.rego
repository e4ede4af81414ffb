package main

# Every Deployment needs a Service selecting its pods.
deny contains msg if {
	some d in input
	d.contents.kind == "Deployment"
	not has_service(d.contents.metadata.labels.app)
	msg := sprintf("Deployment %s (%s) has no Service", [d.contents.metadata.name, d.path])
}

has_service(app) if {
	some s in input
	s.contents.kind == "Service"
	s.contents.spec.selector.app == app
}

warn contains msg if {
	msg := sprintf("%d documents in %d files", [count(input), count({p | some x in input; p := x.path})])
}
