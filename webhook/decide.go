package webhook

import (
	"context"
	"slices"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"gitgate.dev/gitgate/provenance/conform"
	"gitgate.dev/gitgate/provenance/index"
)

// ExemptLabel, set to ExemptValue on an object or on a Namespace that Git
// declares, exempts it from gitgate. Only Git may add it: a request that
// gives an object the label is denied unless the object's manifest in Git
// carries it.
const (
	ExemptLabel = "gitgate.dev/exempt"
	ExemptValue = "true"
)

// decision is the verdict of the validating pipeline on one request.
type decision struct {
	allowed  bool
	reason   Reason
	message  string
	warnings []string
	diffs    []conform.Diff
	// origin is the provenance of the object when Git declares it (or
	// declared it, for a prune).
	origin *index.Origin
	// source manages the object or its namespace; scopeOrigin is the
	// origin of the managed Namespace object, when Git declares it.
	source      string
	scopeOrigin *index.Origin
	// existing: the request is on an object that exists and Git declares,
	// so a denial is worth an Event on it.
	existing bool
	// policy: the request is in scope, so Rego judges it too.
	policy bool
}

func allow(reason Reason) decision { return decision{allowed: true, reason: reason} }

// decide runs the validating pipeline of DESIGN.md §2 on a parsed request.
func (s *Server) decide(ctx context.Context, r *review, ix *index.Index) decision {
	req := r.req
	switch {
	case req.Operation == admissionv1.Connect:
		return allow(ReasonNotWrite)
	case isSourceStatus(req) && !s.statusWriter(req.UserInfo):
		d := decision{reason: ReasonSourceStatus}
		d.message = s.denialMessage(r, d, s.scope.Load())
		return d
	case s.exemptUser(req.UserInfo):
		return allow(ReasonExemptUser)
	case exemptKind(req):
		return allow(ReasonExemptKind)
	case s.exemptNamespace(r.key):
		return allow(ReasonExemptNamespace)
	}
	sc := s.scope.Load()
	entry, declared := ix.Lookup(r.key)
	if d, done := s.exemptLabel(r, ix, entry, declared, sc); done {
		return d
	}
	var d decision
	if declared {
		d = s.decideDeclared(r, entry)
	} else {
		d = s.decideUndeclared(r, ix, sc)
	}
	if !d.allowed {
		d.message = s.denialMessage(r, d, sc)
		return d
	}
	if d.policy {
		d = s.evaluatePolicy(ctx, r, d, sc)
	}
	return d
}

func (s *Server) exemptUser(u authenticationv1.UserInfo) bool {
	if s.exemptUsers[u.Username] {
		return true
	}
	return slices.ContainsFunc(u.Groups, func(g string) bool { return s.exemptGroups[g] })
}

// The GitSource resource, as the API server names it in a request.
const (
	sourceGroup    = "gitgate.dev"
	sourceResource = "gitsources"
)

// isSourceStatus reports whether req writes the status of a GitSource. The
// resource, not the kind, is what the API server routes on; any version
// counts, as every version reaches the same stored status.
func isSourceStatus(req *admissionv1.AdmissionRequest) bool {
	return req.SubResource == "status" && req.Resource.Group == sourceGroup && req.Resource.Resource == sourceResource
}

// statusWriter reports whether u may write a GitSource's status: a status
// writer, a configured exempt user, or a member of a configured exempt
// group. SystemUsers are exempt from everything else but not from this:
// they have no business with the ledger.
func (s *Server) statusWriter(u authenticationv1.UserInfo) bool {
	if s.statusWriters[u.Username] {
		return true
	}
	return slices.ContainsFunc(u.Groups, func(g string) bool { return s.exemptGroups[g] })
}

// exemptKind: Events and Leases are written by the control plane all the
// time and never come from Git; the configuration does not send them.
func exemptKind(req *admissionv1.AdmissionRequest) bool {
	switch req.Kind.Group + "/" + req.Kind.Kind {
	case "/Event", "events.k8s.io/Event", "coordination.k8s.io/Lease":
		return req.SubResource == ""
	}
	return false
}

// exemptNamespace covers objects in an exempt namespace and the exempt
// Namespace objects themselves.
func (s *Server) exemptNamespace(k index.Key) bool {
	if k.Group == "" && k.Kind == "Namespace" {
		return s.exemptNamespaces[k.Name]
	}
	return k.Namespace != "" && s.exemptNamespaces[k.Namespace]
}

func isExempt(obj map[string]any) bool {
	v, ok := labelValue(obj, ExemptLabel)
	return ok && v == ExemptValue
}

// exemptLabel applies the exemption label: giving an object the label is
// denied unless Git declares it; an object that has it (as Git declares
// it, or before the request when Git does not declare the object) is
// exempt.
func (s *Server) exemptLabel(r *review, ix *index.Index, entry index.Entry, declared bool, sc *compiledScope) (decision, bool) {
	gitExempt := declared && isExempt(entry.Object.Object)
	gains := r.object != nil && isExempt(r.object) && (r.old == nil || !isExempt(r.old))
	switch {
	case gains && !gitExempt:
		d := decision{reason: ReasonExemptLabelChange, existing: declared && r.old != nil}
		if declared {
			d.origin = &entry.Origin
			d.source = entry.Origin.Source
		} else {
			d.source, _, _, _ = sc.managedNamespace(ix, r.key.Namespace)
		}
		d.message = s.denialMessage(r, d, sc)
		return d, true
	case gitExempt, !declared && r.old != nil && isExempt(r.old):
		return allow(ReasonExemptLabel), true
	}
	return decision{}, false
}

// decideDeclared judges a request on an object that Git declares.
func (s *Server) decideDeclared(r *review, e index.Entry) decision {
	d := decision{origin: &e.Origin, source: e.Origin.Source, existing: r.old != nil || r.req.SubResource != "", policy: true}
	req := r.req
	switch req.SubResource {
	case "":
		if req.Operation == admissionv1.Delete {
			d.reason = ReasonManagedDelete
			return d
		}
		return conformity(d, e.Object.Object, r.object)
	case "status":
		d.allowed, d.reason = true, ReasonStatus
		return d
	case "scale":
		// The Scale object carries spec.replicas of its parent; the rest
		// of the parent is not in the request.
		replicas, ok := nested(e.Object.Object, "spec", "replicas")
		if !ok || replicas == nil {
			d.allowed, d.reason = true, ReasonConforms
			return d
		}
		return conformity(d, map[string]any{"spec": map[string]any{"replicas": replicas}}, r.object)
	case "ephemeralcontainers":
		if list, _ := nested(e.Object.Object, "spec", "ephemeralContainers"); isNonEmptyList(list) {
			return conformity(d, e.Object.Object, r.object)
		}
		added, _ := nested(r.object, "spec", "ephemeralContainers")
		if !isNonEmptyList(added) {
			d.allowed, d.reason = true, ReasonConforms
			return d
		}
		d.reason = ReasonEphemeralContainers
		d.diffs = []conform.Diff{{Path: "spec.ephemeralContainers", Kind: conform.Extra, Live: containerNames(added)}}
		return d
	}
	// Another subresource that carries the object itself (pods/resize) is
	// checked like an update; one that does not (binding, eviction) holds
	// no field Git sets.
	if carriesObject(r, e.Key.GroupKind()) {
		return conformity(d, e.Object.Object, r.object)
	}
	d.allowed, d.reason = true, ReasonSubresource
	return d
}

// carriesObject reports whether a subresource request's object is the
// parent object itself, of group/kind gk (status, ephemeralcontainers,
// resize), rather than another kind (Scale, Binding, Eviction).
func carriesObject(r *review, gk schema.GroupKind) bool {
	return r.object != nil && sameKind(r.object, gk)
}

// conformity allows d when live conforms to desired and denies it with the
// differences otherwise.
func conformity(d decision, desired, live map[string]any) decision {
	if d.diffs = conform.Compare(desired, live); len(d.diffs) > 0 {
		d.reason = ReasonNotConforming
		return d
	}
	d.allowed, d.reason = true, ReasonConforms
	return d
}

// decideUndeclared judges a request on an object that Git does not declare.
func (s *Server) decideUndeclared(r *review, ix *index.Index, sc *compiledScope) decision {
	req := r.req
	if w, ok := ix.Withdrawn(r.key); ok {
		switch {
		case req.Operation == admissionv1.Delete && req.SubResource == "":
			return decision{allowed: true, reason: ReasonPrune, origin: &w.Origin, source: w.Origin.Source, policy: true}
		case req.Operation == admissionv1.Update && deleting(r.old):
			return decision{allowed: true, reason: ReasonFinalizing, origin: &w.Origin, source: w.Origin.Source, policy: true}
		}
	}
	source, nsEntry, nsDeclared, managed := sc.managedNamespace(ix, r.key.Namespace)
	if !managed {
		return allow(ReasonOutOfScope)
	}
	d := decision{source: source, policy: true}
	if nsDeclared {
		d.scopeOrigin = &nsEntry.Origin
		if isExempt(nsEntry.Object.Object) {
			return allow(ReasonExemptLabel)
		}
	}
	gk := r.key.GroupKind()
	switch {
	case gk.Kind == "":
		// A subresource whose parent cannot be named might be one of a
		// managed object: fail closed rather than let it through.
		d.reason = ReasonUnknownKind
	case !sc.managedKind(ix, source, gk):
		d.allowed, d.reason = true, ReasonUnmanagedKind
	case controllerChild(r):
		d.allowed, d.reason = true, ReasonControllerChild
	case req.SubResource == "status":
		d.allowed, d.reason = true, ReasonStatus
	case req.SubResource != "" && req.SubResource != "scale" && !carriesObject(r, gk):
		d.allowed, d.reason = true, ReasonSubresource
	default:
		d.reason = ReasonNotDeclared
	}
	return d
}

// controllerChild reports whether the request is on an object a controller
// made for its owner (a ReplicaSet of a Deployment, a Pod of a ReplicaSet):
// Git declares the owner, not the child, and the child must not be blocked.
// The mark is a controller ownerReference on the object as it is before
// the request (on the new object for CREATE), so an update cannot make an
// object a child to escape the check.
func controllerChild(r *review) bool {
	if r.req.Operation == admissionv1.Create {
		return hasControllerRef(r.object)
	}
	return hasControllerRef(r.old)
}

// sameKind reports whether obj is of group/kind gk.
func sameKind(obj map[string]any, gk schema.GroupKind) bool {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	gv, err := schema.ParseGroupVersion(apiVersion)
	return err == nil && gv.Group == gk.Group && kind == gk.Kind
}

func isNonEmptyList(v any) bool {
	l, ok := v.([]any)
	return ok && len(l) > 0
}

// containerNames lists the names of a container list, for a message.
func containerNames(v any) []any {
	l, _ := v.([]any)
	names := make([]any, 0, len(l))
	for _, c := range l {
		m, _ := c.(map[string]any)
		if n, ok := m["name"].(string); ok {
			names = append(names, n)
		}
	}
	return names
}
