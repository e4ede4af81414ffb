package config_test

import (
	"fmt"

	"gitgate.dev/gitgate/webhook/config"
)

func ExampleScope_Validating() {
	scope := config.Scope{
		Namespace: "gitgate-system",
		Service:   &config.Service{Name: "gitgate-webhook"},
		Resources: []config.Resource{
			{Group: "apps", Kind: "Deployment", Resource: "deployments", Version: "v1", Namespaced: true, Subresources: []string{"scale", "status"}},
			{Kind: "Namespace", Resource: "namespaces", Version: "v1"},
			{Group: "coordination.k8s.io", Kind: "Lease", Resource: "leases", Version: "v1", Namespaced: true},
		},
	}
	vwc, err := scope.Validating()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, w := range vwc.Webhooks {
		for _, r := range w.Rules {
			fmt.Println(w.Name, *r.Scope, r.Operations, r.APIGroups, r.Resources)
		}
	}
	fmt.Println(vwc.Webhooks[0].NamespaceSelector.MatchExpressions[0].Values)
	// Output:
	// namespaced.validate.gitgate.dev Namespaced [CREATE UPDATE DELETE] [apps] [deployments deployments/scale]
	// cluster.validate.gitgate.dev Cluster [CREATE UPDATE DELETE] [] [namespaces]
	// cluster.validate.gitgate.dev Cluster [UPDATE] [gitgate.dev] [gitsources/status]
	// [gitgate-system kube-node-lease kube-system]
}
