package k8s.apps

deny contains concat("", ["apps: ", input.kind]) if input.kind == "Deployment"

warn_replicas contains "apps: replicas" if input.spec.replicas > 1
