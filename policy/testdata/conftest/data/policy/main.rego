package main

import data.registries

deny contains msg if {
	input.kind == "Deployment"
	some c in input.spec.template.spec.containers
	not allowed(c.image)
	msg := sprintf("image %s is not from an allowed registry %v", [c.image, registries.allowed])
}

allowed(image) if {
	some r in registries.allowed
	startswith(image, r)
}

warn contains msg if {
	input.kind == "Service"
	not input.spec.type in data.services.types
	msg := sprintf("service type %s not in %v", [input.spec.type, data.services.types])
}
