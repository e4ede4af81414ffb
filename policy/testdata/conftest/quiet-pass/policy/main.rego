package main

deny contains msg if {
	input.kind == "Deployment"
	msg := sprintf("%s: containers must set resource limits", [input.metadata.name])
}

deny_latest contains {"msg": "image uses the latest tag\nsecond line", "_loc": {"file": "deploy.yaml", "line": 16}} if {
	input.kind == "Deployment"
}

warn contains msg if {
	input.kind == "Service"
	msg := sprintf("%s: type %s exposes a port on every node", [input.metadata.name, input.spec.type])
}

exception contains rules if {
	input.metadata.name == "web"
	input.kind == "Service"
	rules := ["latest"]
}
