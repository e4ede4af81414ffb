package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"gitgate.dev/gitgate/policy"
	"gitgate.dev/gitgate/provenance/index"
	"gitgate.dev/gitgate/reconcile"
	"gitgate.dev/gitgate/webhook"
)

// admissionTarget is the part of *webhook.Server the Publisher drives.
type admissionTarget interface {
	SetScope(sc webhook.Scope)
	SetPolicy(p webhook.PolicyEngine)
}

var _ admissionTarget = (*webhook.Server)(nil)

// Publisher hands what the reconciler learns about each source to the
// admission webhook: the scope of every source (SetScope) and a policy
// router over their Rego engines (SetPolicy). It implements
// reconcile.Publisher and is safe for concurrent use.
type Publisher struct {
	target  admissionTarget
	desired webhook.Desired

	mu      sync.Mutex
	sources map[string]sourceState
}

// sourceState is what admission needs about one published source.
type sourceState struct {
	repository string
	namespaces []string
	kinds      []schema.GroupKind
	engine     webhook.PolicyEngine // nil when the source has no policy
}

// NewPublisher returns a Publisher that updates target. desired is the
// shared desired state, where the router finds which source declares a
// Namespace.
func NewPublisher(target admissionTarget, desired webhook.Desired) *Publisher {
	return &Publisher{target: target, desired: desired, sources: map[string]sourceState{}}
}

// publish records source's state and updates the webhook.
func (p *Publisher) publish(source string, st sourceState) {
	st.namespaces = slices.Clone(st.namespaces)
	st.kinds = slices.Clone(st.kinds)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sources[source] = st
	p.update()
}

// Publish implements reconcile.Publisher: it records the source's scope
// and policy engine and updates the webhook.
func (p *Publisher) Publish(pub reconcile.Published) {
	st := sourceState{repository: pub.Repository, namespaces: pub.Namespaces, kinds: pub.Kinds}
	// A nil *policy.Engine must not become a non-nil interface.
	if pub.Policy != nil {
		st.engine = pub.Policy
	}
	p.publish(pub.Source, st)
}

var _ reconcile.Publisher = (*Publisher)(nil)

// Withdraw forgets source (its GitSource is gone) and updates the webhook.
func (p *Publisher) Withdraw(source string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.sources[source]; !ok {
		return
	}
	delete(p.sources, source)
	p.update()
}

// update pushes the current sources to the webhook; p.mu is held, so that
// two publishes cannot hand the webhook their states in the wrong order.
func (p *Publisher) update() {
	names := make([]string, 0, len(p.sources))
	for name := range p.sources {
		names = append(names, name)
	}
	slices.Sort(names)
	sc := webhook.Scope{Sources: make([]webhook.SourceScope, 0, len(names))}
	r := &router{desired: p.desired, engines: map[string]webhook.PolicyEngine{}, namespaces: map[string][]string{}}
	for _, name := range names {
		st := p.sources[name]
		sc.Sources = append(sc.Sources, webhook.SourceScope{
			Name: name, Repository: st.repository, Namespaces: st.namespaces, Kinds: st.kinds,
		})
		if st.engine == nil {
			continue
		}
		r.engines[name] = st.engine
		for _, ns := range st.namespaces {
			if !slices.Contains(r.namespaces[ns], name) {
				r.namespaces[ns] = append(r.namespaces[ns], name)
			}
		}
	}
	p.target.SetScope(sc)
	if len(r.engines) == 0 {
		// No policies at all: the webhook skips evaluation entirely.
		p.target.SetPolicy(nil)
		return
	}
	p.target.SetPolicy(r)
}

// router is the webhook's PolicyEngine when sources bring their own Rego:
// each request is judged by the engines of the sources whose scope the
// object falls in. It is immutable; the Publisher replaces it whole.
type router struct {
	desired webhook.Desired
	// engines holds the sources that have a policy.
	engines map[string]webhook.PolicyEngine
	// namespaces maps a namespace to the sources with a policy that list
	// it in their scope, in name order.
	namespaces map[string][]string
}

var _ webhook.PolicyEngine = (*router)(nil)

var errBadInput = errors.New("policy input is not an admission input")

// EvaluateValue runs the engines of the sources the request belongs to and
// combines their verdicts: every failure and warning is kept, so any deny
// denies and warnings are concatenated in source name order. An engine
// that fails makes the whole evaluation fail, which denies.
func (r *router) EvaluateValue(ctx context.Context, input ast.Value) (policy.Result, error) {
	sources, err := r.route(input)
	if err != nil {
		return policy.Result{}, err
	}
	var res policy.Result
	var errs []error
	for _, name := range sources {
		e := r.engines[name]
		if e == nil {
			continue
		}
		out, err := e.EvaluateValue(ctx, input)
		if err != nil {
			errs = append(errs, fmt.Errorf("policy of source %s: %w", name, err))
			continue
		}
		res.Failures = append(res.Failures, out.Failures...)
		res.Warnings = append(res.Warnings, out.Warnings...)
		res.Exceptions = append(res.Exceptions, out.Exceptions...)
		res.Successes += out.Successes
	}
	return res, errors.Join(errs...)
}

// route names the sources whose policies judge input: the source Git holds
// the object in (input.provenance.source) when Git declares it, else every
// source that manages the request's namespace, by its scope or by
// declaring the Namespace in Git.
func (r *router) route(input ast.Value) ([]string, error) {
	obj, ok := input.(ast.Object)
	if !ok {
		return nil, errBadInput
	}
	if prov := obj.Get(ast.InternedTerm("provenance")); prov != nil {
		if p, ok := prov.Value.(ast.Object); ok {
			src, ok := stringAt(p, "source")
			if !ok {
				return nil, fmt.Errorf("%w: provenance without a source", errBadInput)
			}
			return []string{src}, nil
		}
	}
	req := obj.Get(ast.InternedTerm("request"))
	if req == nil {
		return nil, fmt.Errorf("%w: no request", errBadInput)
	}
	reqObj, ok := req.Value.(ast.Object)
	if !ok {
		return nil, fmt.Errorf("%w: request is not an object", errBadInput)
	}
	ns, _ := stringAt(reqObj, "namespace")
	if ns == "" {
		return nil, nil
	}
	sources := r.namespaces[ns]
	if r.desired != nil {
		if e, ok := r.desired.Current().Lookup(index.Key{Kind: "Namespace", Name: ns}); ok && !slices.Contains(sources, e.Origin.Source) {
			sources = append(slices.Clone(sources), e.Origin.Source)
			slices.Sort(sources)
		}
	}
	return sources, nil
}

// stringAt returns the string at key of obj.
func stringAt(obj ast.Object, key string) (string, bool) {
	t := obj.Get(ast.InternedTerm(key))
	if t == nil {
		return "", false
	}
	s, ok := t.Value.(ast.String)
	return string(s), ok
}
