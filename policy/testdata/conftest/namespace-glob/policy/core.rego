package k8s.core

deny_nodeport contains "core: NodePort" if input.spec.type == "NodePort"
