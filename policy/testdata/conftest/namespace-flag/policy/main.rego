package main

deny contains msg if {
	input.kind == "Deployment"
	not input.spec.template.spec.securityContext.runAsNonRoot
	msg := sprintf("Deployment %s: containers must not run as root", [input.metadata.name])
}

deny contains msg if {
	input.kind == "Deployment"
	some c in input.spec.template.spec.containers
	endswith(c.image, ":latest")
	msg := sprintf("Deployment %s: image %s uses the latest tag", [input.metadata.name, c.image])
}

warn contains msg if {
	input.kind == "Service"
	input.spec.type == "NodePort"
	msg := sprintf("Service %s is of type NodePort", [input.metadata.name])
}

violation contains {"msg": msg, "severity": "high", "replicas": input.spec.replicas} if {
	input.kind == "Deployment"
	input.spec.replicas > 2
	msg := sprintf("Deployment %s has %d replicas", [input.metadata.name, input.spec.replicas])
}
