package main

deny[msg] {
	input.kind == "Deployment"
	msg := sprintf("v0 rule fired for %s", [input.metadata.name])
}

warn["v0 warning"] {
	input.kind == "Service"
}
