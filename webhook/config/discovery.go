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
)

// ResourcesFor looks the kinds up in the API server's discovery and returns
// them as Resources: plural name, every served version, scope and the
// served WriteSubresources. Kinds the API server does not serve are
// returned in missing (a CRD not installed yet), sorted; they are not an
// error. A group whose discovery failed (an unavailable aggregated API) is
// an error only when one of the kinds is in it.
func ResourcesFor(d discovery.ServerResourcesInterface, kinds []schema.GroupKind) (resources []Resource, missing []schema.GroupKind, err error) {
	_, lists, err := d.ServerGroupsAndResources()
	var failed map[schema.GroupVersion]error
	if err != nil {
		var gdf *discovery.ErrGroupDiscoveryFailed
		if !errors.As(err, &gdf) {
			return nil, nil, fmt.Errorf("discovery: %w", err)
		}
		failed = gdf.Groups
	}
	want := map[schema.GroupKind]*Resource{}
	for _, gk := range kinds {
		want[gk] = nil
	}
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			return nil, nil, fmt.Errorf("discovery: group version %q: %w", list.GroupVersion, err)
		}
		collect(want, gv, list.APIResources)
	}
	for gv, gerr := range failed {
		for gk := range want {
			if gk.Group == gv.Group {
				return nil, nil, fmt.Errorf("discovery of %s, which serves %s: %w", gv, gk, gerr)
			}
		}
	}
	for gk, r := range want {
		if r == nil {
			missing = append(missing, gk)
			continue
		}
		slices.SortFunc(r.Versions, func(a, b string) int { return -version.CompareKubeAwareVersionStrings(a, b) })
		slices.Sort(r.Subresources)
		resources = append(resources, *r)
	}
	slices.SortFunc(resources, func(a, b Resource) int {
		return cmp.Or(strings.Compare(a.Group, b.Group), strings.Compare(a.Resource, b.Resource))
	})
	slices.SortFunc(missing, func(a, b schema.GroupKind) int {
		return cmp.Or(strings.Compare(a.Group, b.Group), strings.Compare(a.Kind, b.Kind))
	})
	return resources, missing, nil
}

// collect adds what one group version serves for the wanted kinds.
func collect(want map[schema.GroupKind]*Resource, gv schema.GroupVersion, ars []metav1.APIResource) {
	plurals := map[string]*Resource{}
	for _, ar := range ars {
		if strings.Contains(ar.Name, "/") {
			continue
		}
		gk := schema.GroupKind{Group: gv.Group, Kind: ar.Kind}
		r, ok := want[gk]
		if !ok {
			continue
		}
		if r == nil {
			r = &Resource{Group: gv.Group, Kind: ar.Kind, Resource: ar.Name, Namespaced: ar.Namespaced}
			want[gk] = r
		}
		if r.Resource != ar.Name {
			// A kind served under two plurals in one group does not
			// exist in Kubernetes; keep the first.
			continue
		}
		if !slices.Contains(r.Versions, gv.Version) {
			r.Versions = append(r.Versions, gv.Version)
		}
		plurals[ar.Name] = r
	}
	for _, ar := range ars {
		parent, sub, ok := strings.Cut(ar.Name, "/")
		if !ok || !slices.Contains(WriteSubresources, sub) {
			continue
		}
		if r := plurals[parent]; r != nil && !slices.Contains(r.Subresources, sub) {
			r.Subresources = append(r.Subresources, sub)
		}
	}
}
