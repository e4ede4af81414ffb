package main

deny_latest contains msg if {
	input.kind == "Deployment"
	some c in input.spec.template.spec.containers
	endswith(c.image, ":latest")
	msg := sprintf("%s uses latest", [c.name])
}

deny_root contains msg if {
	input.kind == "Deployment"
	msg := "runs as root"
}

violation_ports contains "ports are open" if input.kind == "Service"

warn_nodeport contains "NodePort service" if input.spec.type == "NodePort"

deny contains "plain deny" if input.kind == "Service"

# Except deny_latest for the web Deployment, and warn_nodeport everywhere.
exception contains rules if {
	input.kind == "Deployment"
	input.metadata.name == "web"
	rules := ["latest"]
}

exception contains rules if {
	rules := ["nodeport", "nosuchrule"]
}

# Listed twice: conftest reports one exception per listing.
exception contains rules if {
	input.kind == "Service"
	rules := ["ports", "ports"]
}
