# The five-rule policy of the `gitgate check` versus `conftest test`
# benchmark (test/bench/check.sh): conftest conventions, package main.
package main

deny contains msg if {
	input.kind == "Deployment"
	not input.spec.template.spec.securityContext.runAsNonRoot
	msg := sprintf("%s: pods must set securityContext.runAsNonRoot", [input.metadata.name])
}

deny contains msg if {
	input.kind == "Deployment"
	some c in input.spec.template.spec.containers
	endswith(c.image, ":latest")
	msg := sprintf("%s: container %s uses the latest tag", [input.metadata.name, c.name])
}

deny contains msg if {
	input.kind == "Deployment"
	some c in input.spec.template.spec.containers
	not c.resources.limits.memory
	msg := sprintf("%s: container %s has no memory limit", [input.metadata.name, c.name])
}

deny contains msg if {
	not input.metadata.labels.team
	msg := sprintf("%s %s: label team is required", [input.kind, input.metadata.name])
}

warn contains msg if {
	input.kind == "Service"
	input.spec.type in {"NodePort", "LoadBalancer"}
	msg := sprintf("%s: Service type %s exposes the workload outside the cluster", [input.metadata.name, input.spec.type])
}
