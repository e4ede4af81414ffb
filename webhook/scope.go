package webhook

import (
	"k8s.io/apimachinery/pkg/runtime/schema"

	"gitgate.dev/gitgate/provenance/index"
)

// compiledScope is a Scope turned into lookup tables, swapped atomically by
// SetScope.
type compiledScope struct {
	sources    map[string]*sourceScope
	namespaces map[string]*sourceScope // first source listing the namespace
}

type sourceScope struct {
	name       string
	repository string
	kinds      map[schema.GroupKind]bool
}

func compileScope(sc Scope) *compiledScope {
	c := &compiledScope{sources: map[string]*sourceScope{}, namespaces: map[string]*sourceScope{}}
	for _, src := range sc.Sources {
		s := &sourceScope{name: src.Name, repository: src.Repository, kinds: map[schema.GroupKind]bool{}}
		for _, gk := range src.Kinds {
			s.kinds[gk] = true
		}
		if _, dup := c.sources[src.Name]; !dup {
			c.sources[src.Name] = s
		}
		for _, ns := range src.Namespaces {
			if _, dup := c.namespaces[ns]; !dup {
				c.namespaces[ns] = s
			}
		}
	}
	return c
}

// repository returns the URL of source's repository, "" when unknown.
func (c *compiledScope) repository(source string) string {
	if s := c.sources[source]; s != nil {
		return s.repository
	}
	return ""
}

// namespaceKey is the Index key of Namespace ns.
func namespaceKey(ns string) index.Key { return index.Key{Kind: "Namespace", Name: ns} }

// managedNamespace tells whether namespace ns is managed: the scope lists
// it, or Git declares its Namespace object. It returns the managing
// source's name and the Namespace's entry when Git declares it.
func (c *compiledScope) managedNamespace(ix *index.Index, ns string) (source string, nsEntry index.Entry, declared, managed bool) {
	if ns == "" {
		return "", index.Entry{}, false, false
	}
	if e, ok := ix.Lookup(namespaceKey(ns)); ok {
		return e.Origin.Source, e, true, true
	}
	if s := c.namespaces[ns]; s != nil {
		return s.name, index.Entry{}, false, true
	}
	return "", index.Entry{}, false, false
}

// managedKind tells whether objects of gk are managed in source's
// namespaces: the source lists the kind, or Git declares objects of it.
func (c *compiledScope) managedKind(ix *index.Index, source string, gk schema.GroupKind) bool {
	if ix.Count(gk) > 0 {
		return true
	}
	s := c.sources[source]
	return s != nil && s.kinds[gk]
}
