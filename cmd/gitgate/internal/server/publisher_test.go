package server

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/open-policy-agent/opa/v1/ast"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"gitgate.dev/gitgate/policy"
	"gitgate.dev/gitgate/provenance/index"
	"gitgate.dev/gitgate/webhook"
)

// fakeTarget records what the Publisher hands the webhook.
type fakeTarget struct {
	mu     sync.Mutex
	scope  webhook.Scope
	policy webhook.PolicyEngine
	calls  int
}

func (f *fakeTarget) SetScope(sc webhook.Scope) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scope = sc
	f.calls++
}

func (f *fakeTarget) SetPolicy(p webhook.PolicyEngine) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.policy = p
}

// fakeEngine answers with fixed messages and records the inputs it saw.
type fakeEngine struct {
	name      string
	deny      []string
	warn      []string
	err       error
	mu        sync.Mutex
	evaluated int
}

func (e *fakeEngine) EvaluateValue(_ context.Context, _ ast.Value) (policy.Result, error) {
	e.mu.Lock()
	e.evaluated++
	e.mu.Unlock()
	if e.err != nil {
		return policy.Result{}, e.err
	}
	var r policy.Result
	for _, m := range e.deny {
		r.Failures = append(r.Failures, policy.Message{Msg: m})
	}
	for _, m := range e.warn {
		r.Warnings = append(r.Warnings, policy.Message{Msg: m})
	}
	r.Successes = 1
	return r, nil
}

func (e *fakeEngine) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.evaluated
}

// input builds the webhook's policy input for a request in namespace ns,
// with the provenance of source when it is not empty.
func input(t *testing.T, ns, source string) ast.Value {
	t.Helper()
	in := map[string]any{
		"request":    map[string]any{"namespace": ns, "operation": "CREATE", "object": map[string]any{"kind": "Pod"}},
		"provenance": nil,
	}
	if source != "" {
		in["provenance"] = map[string]any{"source": source, "commit": "abc", "path": "p.yaml", "signers": []string{"alice"}, "repository": "file:///r"}
	}
	v, err := ast.InterfaceToValue(in)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func messages(ms []policy.Message) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Msg)
	}
	return out
}

// storeDeclaring returns a Store where source declares Namespace ns.
func storeDeclaring(t *testing.T, source, ns string) *index.Store {
	t.Helper()
	b := index.NewBuilder()
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns},
	}}
	if _, err := b.Add(obj, index.Origin{Source: source, Commit: "abc", Path: "ns.yaml"}); err != nil {
		t.Fatal(err)
	}
	st := index.NewStore()
	if err := st.Publish(source, b.Build()); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestPublisherScope(t *testing.T) {
	target := &fakeTarget{}
	p := NewPublisher(target, index.NewStore())
	kinds := []schema.GroupKind{{Group: "apps", Kind: "Deployment"}}
	nss := []string{"b-ns"}
	p.publish("zeta", sourceState{repository: "https://z", namespaces: []string{"z-ns"}})
	p.publish("alpha", sourceState{repository: "https://a", namespaces: nss, kinds: kinds})
	// The caller's slices are copied: changing them later changes nothing.
	nss[0] = "mutated"

	want := webhook.Scope{Sources: []webhook.SourceScope{
		{Name: "alpha", Repository: "https://a", Namespaces: []string{"b-ns"}, Kinds: kinds},
		{Name: "zeta", Repository: "https://z", Namespaces: []string{"z-ns"}},
	}}
	if diff := cmp.Diff(want, target.scope); diff != "" {
		t.Errorf("scope (-want +got):\n%s", diff)
	}
	if target.policy != nil {
		t.Errorf("policy = %T, want nil without engines (evaluation skipped)", target.policy)
	}

	p.Withdraw("alpha")
	want.Sources = want.Sources[1:]
	if diff := cmp.Diff(want, target.scope); diff != "" {
		t.Errorf("scope after withdraw (-want +got):\n%s", diff)
	}
	calls := target.calls
	p.Withdraw("unknown")
	if target.calls != calls {
		t.Error("withdrawing an unknown source updated the webhook")
	}
}

func TestPublisherPolicyLifecycle(t *testing.T) {
	target := &fakeTarget{}
	p := NewPublisher(target, index.NewStore())
	e := &fakeEngine{name: "a", deny: []string{"no"}}
	p.publish("a", sourceState{namespaces: []string{"ns"}, engine: e})
	if target.policy == nil {
		t.Fatal("no policy set after publishing a source with an engine")
	}
	// Republishing without an engine turns evaluation off again.
	p.publish("a", sourceState{namespaces: []string{"ns"}})
	if target.policy != nil {
		t.Fatalf("policy = %T after the source dropped its engine, want nil", target.policy)
	}
	p.publish("a", sourceState{namespaces: []string{"ns"}, engine: e})
	p.Withdraw("a")
	if target.policy != nil {
		t.Fatalf("policy = %T after the only source was withdrawn, want nil", target.policy)
	}
}

func TestRouter(t *testing.T) {
	engines := map[string]*fakeEngine{
		"a":      {name: "a", deny: []string{"a denies"}, warn: []string{"a warns"}},
		"b":      {name: "b", warn: []string{"b warns"}},
		"c":      {name: "c", deny: []string{"c denies"}},
		"broken": {name: "broken", err: errors.New("timeout")},
	}
	tests := []struct {
		name string
		// desired declares Namespace declaredNS in source declaredBy.
		declaredBy, declaredNS string
		ns, provenance         string
		wantRun                []string
		wantDeny, wantWarn     []string
		wantErr                bool
	}{
		{name: "provenance picks the declaring source only", ns: "shared", provenance: "b",
			wantRun: []string{"b"}, wantWarn: []string{"b warns"}},
		{name: "provenance of a source without policy runs nothing", ns: "shared", provenance: "nopolicy"},
		{name: "one source lists the namespace", ns: "only-a",
			wantRun: []string{"a"}, wantDeny: []string{"a denies"}, wantWarn: []string{"a warns"}},
		{name: "several sources list it: all run, deny wins, warnings concatenated", ns: "shared",
			wantRun: []string{"a", "b"}, wantDeny: []string{"a denies"}, wantWarn: []string{"a warns", "b warns"}},
		{name: "a source that declares the Namespace in Git", declaredBy: "c", declaredNS: "git-ns", ns: "git-ns",
			wantRun: []string{"c"}, wantDeny: []string{"c denies"}},
		{name: "declared and listed by different sources", declaredBy: "c", declaredNS: "only-a", ns: "only-a",
			wantRun: []string{"a", "c"}, wantDeny: []string{"a denies", "c denies"}, wantWarn: []string{"a warns"}},
		{name: "namespace in nobody's scope", ns: "elsewhere"},
		{name: "cluster-scoped request without provenance", ns: ""},
		{name: "an engine that fails makes the evaluation fail", ns: "fragile",
			wantRun: []string{"a", "broken"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := &fakeTarget{}
			store := index.NewStore()
			if tt.declaredBy != "" {
				store = storeDeclaring(t, tt.declaredBy, tt.declaredNS)
			}
			p := NewPublisher(target, store)
			fresh := map[string]*fakeEngine{}
			for name, e := range engines {
				c := &fakeEngine{name: e.name, deny: e.deny, warn: e.warn, err: e.err}
				fresh[name] = c
			}
			p.publish("a", sourceState{namespaces: []string{"only-a", "shared", "fragile"}, engine: fresh["a"]})
			p.publish("b", sourceState{namespaces: []string{"shared"}, engine: fresh["b"]})
			p.publish("c", sourceState{engine: fresh["c"]})
			p.publish("broken", sourceState{namespaces: []string{"fragile"}, engine: fresh["broken"]})
			p.publish("nopolicy", sourceState{namespaces: []string{"shared"}})

			res, err := target.policy.EvaluateValue(t.Context(), input(t, tt.ns, tt.provenance))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			var ran []string
			for name, e := range fresh {
				switch e.count() {
				case 0:
				case 1:
					ran = append(ran, name)
				default:
					t.Errorf("engine %s ran %d times", name, e.count())
				}
			}
			slices.Sort(ran)
			if diff := cmp.Diff(tt.wantRun, ran); diff != "" {
				t.Errorf("engines run (-want +got):\n%s", diff)
			}
			if tt.wantErr {
				return
			}
			if diff := cmp.Diff(tt.wantDeny, messages(res.Failures), cmp.Comparer(emptyEqual)); diff != "" {
				t.Errorf("failures (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantWarn, messages(res.Warnings), cmp.Comparer(emptyEqual)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if got, want := res.Denied(), len(tt.wantDeny) > 0; got != want {
				t.Errorf("Denied() = %v, want %v", got, want)
			}
		})
	}
}

// emptyEqual treats nil and empty string slices alike.
func emptyEqual(a, b []string) bool {
	return slices.Equal(a, b)
}

func TestRouterMalformedInput(t *testing.T) {
	target := &fakeTarget{}
	p := NewPublisher(target, index.NewStore())
	p.publish("a", sourceState{namespaces: []string{"ns"}, engine: &fakeEngine{}})
	bad := []struct {
		name string
		in   any
	}{
		{"not an object", []any{1, 2}},
		{"no request", map[string]any{"provenance": nil}},
		{"request not an object", map[string]any{"request": "x", "provenance": nil}},
		{"provenance without source", map[string]any{"request": map[string]any{}, "provenance": map[string]any{"commit": "x"}}},
		{"provenance source not a string", map[string]any{"request": map[string]any{}, "provenance": map[string]any{"source": 3}}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			v, err := ast.InterfaceToValue(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := target.policy.EvaluateValue(t.Context(), v); !errors.Is(err, errBadInput) {
				t.Errorf("err = %v, want errBadInput (a malformed input must deny)", err)
			}
		})
	}
}

// TestRouterRealEngine runs the router over engines compiled from Rego in
// the admission profile, as the reconciler publishes them.
func TestRouterRealEngine(t *testing.T) {
	compile := func(t *testing.T, module string) *policy.Engine {
		t.Helper()
		e, err := policy.Compile(t.Context(), policy.Source{Modules: map[string][]byte{"p.rego": []byte(module)}},
			policy.WithProfile(policy.ProfileAdmission), policy.WithAllNamespaces())
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	denyPods := compile(t, `package main
deny contains msg if {
	input.request.object.kind == "Pod"
	msg := sprintf("pods are not allowed in %s", [input.request.namespace])
}`)
	warnAll := compile(t, `package main
warn contains "every request is watched"`)
	target := &fakeTarget{}
	p := NewPublisher(target, index.NewStore())
	p.publish("strict", sourceState{namespaces: []string{"prod"}, engine: denyPods})
	p.publish("watch", sourceState{namespaces: []string{"prod", "dev"}, engine: warnAll})

	res, err := target.policy.EvaluateValue(t.Context(), input(t, "prod", ""))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := messages(res.Failures), []string{"pods are not allowed in prod"}; !slices.Equal(got, want) {
		t.Errorf("failures = %q, want %q", got, want)
	}
	if got, want := messages(res.Warnings), []string{"every request is watched"}; !slices.Equal(got, want) {
		t.Errorf("warnings = %q, want %q", got, want)
	}
	res, err = target.policy.EvaluateValue(t.Context(), input(t, "dev", ""))
	if err != nil {
		t.Fatal(err)
	}
	if res.Denied() {
		t.Errorf("dev is only in the scope of the warning source, got failures %q", messages(res.Failures))
	}
}
