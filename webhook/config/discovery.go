package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/discovery"

	"gitgate.dev/gitgate/provenance/index"
)

// ResourcesFor looks the kinds up in the API server's discovery and returns
// them as Resources: plural name, scope, the version the rules will name
// and the WriteSubresources served in it. The version is the one a kind
// names (the version Git declares it in); for a kind without a version it
// is the group's preferred version, or the newest served one. A kind named
// in several versions keeps the first. Kinds the API server does not serve
// in the version asked for are returned in missing (a CRD not installed
// yet), sorted; they are not an error. A group whose discovery failed (an
// unavailable aggregated API) is an error only when one of the kinds is in
// it.
func ResourcesFor(d discovery.ServerResourcesInterface, kinds []schema.GroupVersionKind) (resources []Resource, missing []schema.GroupVersionKind, err error) {
	groups, lists, err := d.ServerGroupsAndResources()
	if err != nil {
		var gdf *discovery.ErrGroupDiscoveryFailed
		if !errors.As(err, &gdf) {
			return nil, nil, fmt.Errorf("discovery: %w", err)
		}
		for gv, gerr := range gdf.Groups {
			for _, k := range kinds {
				if k.Group == gv.Group {
					return nil, nil, fmt.Errorf("discovery of %s, which serves %s: %w", gv, k.GroupKind(), gerr)
				}
			}
		}
	}
	served, err := servedKinds(lists)
	if err != nil {
		return nil, nil, err
	}
	preferred := map[string]string{}
	for _, g := range groups {
		preferred[g.Name] = g.PreferredVersion.Version
	}
	seen := map[schema.GroupKind]bool{}
	for _, k := range kinds {
		gk := k.GroupKind()
		if seen[gk] {
			continue
		}
		seen[gk] = true
		byVersion := served[gk]
		v := k.Version
		if v == "" {
			v = pickVersion(byVersion, preferred[k.Group])
		}
		r, ok := byVersion[v]
		if !ok {
			missing = append(missing, k)
			continue
		}
		resources = append(resources, r)
	}
	slices.SortFunc(resources, func(a, b Resource) int {
		return cmp.Or(strings.Compare(a.Group, b.Group), strings.Compare(a.Resource, b.Resource))
	})
	slices.SortFunc(missing, func(a, b schema.GroupVersionKind) int {
		return cmp.Or(strings.Compare(a.Group, b.Group), strings.Compare(a.Kind, b.Kind), strings.Compare(a.Version, b.Version))
	})
	return resources, missing, nil
}

// pickVersion returns the group's preferred version when the kind is served
// in it, otherwise the newest served version ("" when none is).
func pickVersion(byVersion map[string]Resource, preferred string) string {
	if _, ok := byVersion[preferred]; ok {
		return preferred
	}
	versions := make([]string, 0, len(byVersion))
	for v := range byVersion {
		versions = append(versions, v)
	}
	slices.SortFunc(versions, func(a, b string) int { return -version.CompareKubeAwareVersionStrings(a, b) })
	if len(versions) == 0 {
		return ""
	}
	return versions[0]
}

// servedKinds indexes discovery by group/kind and version.
func servedKinds(lists []*metav1.APIResourceList) (map[schema.GroupKind]map[string]Resource, error) {
	out := map[schema.GroupKind]map[string]Resource{}
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			return nil, fmt.Errorf("discovery: group version %q: %w", list.GroupVersion, err)
		}
		subs := map[string][]string{}
		for _, ar := range list.APIResources {
			if parent, sub, ok := strings.Cut(ar.Name, "/"); ok && slices.Contains(WriteSubresources, sub) {
				subs[parent] = append(subs[parent], sub)
			}
		}
		for _, ar := range list.APIResources {
			if strings.Contains(ar.Name, "/") {
				continue
			}
			gk := schema.GroupKind{Group: gv.Group, Kind: ar.Kind}
			if out[gk] == nil {
				out[gk] = map[string]Resource{}
			}
			s := slices.Clone(subs[ar.Name])
			slices.Sort(s)
			out[gk][gv.Version] = Resource{
				Group: gv.Group, Kind: ar.Kind, Resource: ar.Name, Version: gv.Version,
				Namespaced: ar.Namespaced, Subresources: s,
			}
		}
	}
	return out, nil
}

// KindsOf returns what ResourcesFor needs for a desired state: every
// group/kind the Index declares, in the version its manifests name (the
// first in key order when manifests of one kind name several), then the
// extra kinds a scope manages without declaring objects of them (version
// left to the API server's preference).
func KindsOf(ix *index.Index, extra ...schema.GroupKind) []schema.GroupVersionKind {
	var out []schema.GroupVersionKind
	seen := map[schema.GroupKind]bool{}
	for e := range ix.All() {
		gk := e.Key.GroupKind()
		if seen[gk] {
			continue
		}
		seen[gk] = true
		gv, err := schema.ParseGroupVersion(e.Object.GetAPIVersion())
		if err != nil {
			// The Index refuses objects without a valid apiVersion.
			continue
		}
		out = append(out, gk.WithVersion(gv.Version))
	}
	for _, gk := range extra {
		if !seen[gk] {
			seen[gk] = true
			out = append(out, gk.WithVersion(""))
		}
	}
	return out
}
