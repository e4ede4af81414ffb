package policy_test

import (
	"context"
	"fmt"
	"testing/fstest"

	"gitgate.dev/gitgate/policy"
)

// A webhook compiles its policies once, in the admission profile, and
// evaluates every request against them.
func ExampleEngine_Evaluate() {
	ctx := context.Background()
	snapshot := fstest.MapFS{
		"policies/pods.rego": {Data: []byte(`package k8s.pods

deny contains msg if {
	some c in input.request.object.spec.containers
	c.securityContext.privileged
	msg := sprintf("container %s must not be privileged", [c.name])
}
`)},
	}
	mods, err := policy.ReadModulesFS(snapshot, "policies")
	if err != nil {
		panic(err)
	}
	engine, err := policy.Compile(ctx, policy.Source{Modules: mods},
		policy.WithProfile(policy.ProfileAdmission), policy.WithNamespaces("k8s.*"))
	if err != nil {
		panic(err)
	}
	review := map[string]any{"request": map[string]any{"object": map[string]any{
		"spec": map[string]any{"containers": []any{
			map[string]any{"name": "app", "securityContext": map[string]any{"privileged": true}},
		}},
	}}}
	result, err := engine.Evaluate(ctx, review)
	if err != nil {
		// result.Denied() is true here too: errors never pass.
		panic(err)
	}
	fmt.Println(result.Denied(), result.Failures[0].Msg)
	// Output: true container app must not be privileged
}

// CI checks parsed files with conftest's conventions.
func ExampleEngine_Check() {
	ctx := context.Background()
	engine, err := policy.Compile(ctx, policy.Source{Modules: map[string][]byte{
		"policy/main.rego": []byte(`package main

warn contains "NodePort exposes every node" if input.spec.type == "NodePort"
`),
	}})
	if err != nil {
		panic(err)
	}
	in, err := policy.ParseInput("svc.yaml", []byte("kind: Service\nspec:\n  type: NodePort\n"))
	if err != nil {
		panic(err)
	}
	results, err := engine.Check(ctx, in)
	if err != nil {
		panic(err)
	}
	fmt.Println(results[0].Warnings[0].Msg, "-", policy.CheckResults(results).Totals())
	// Output: NodePort exposes every node - 1 test, 0 passed, 1 warning, 0 failures, 0 exceptions
}
