package webhook

import (
	"fmt"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"

	"gitgate.dev/gitgate/provenance/index"
)

// maxListedDiffs bounds the differences a denial lists; the API server
// passes the message to the client whole, and a person reads it.
const maxListedDiffs = 20

// denialMessage explains a denial: what differs, what Git holds (commit,
// signers, path) and how to change it.
func (s *Server) denialMessage(r *review, d decision, sc *compiledScope) string {
	var b strings.Builder
	what := describeRequest(r)
	switch d.reason {
	case ReasonNotConforming:
		fmt.Fprintf(&b, "%s does not match Git:\n", what)
		writeDiffs(&b, d)
	case ReasonEphemeralContainers:
		fmt.Fprintf(&b, "%s: Git declares no ephemeral containers for this Pod:\n", what)
		writeDiffs(&b, d)
	case ReasonManagedDelete:
		fmt.Fprintf(&b, "%s is declared in Git and cannot be deleted by hand.\n", what)
	case ReasonExemptLabelChange:
		fmt.Fprintf(&b, "%s: only Git may set the label %s=%s, which exempts objects from gitgate.\n", what, ExemptLabel, ExemptValue)
	case ReasonUnknownKind:
		fmt.Fprintf(&b, "%s/%s %s/%s (subresource %s): gitgate cannot tell the kind of this resource in managed namespace %s, so it cannot check the request; the server needs a RESTMapper (webhook.Options.Mapper).\n",
			r.req.Resource.Group, r.req.Resource.Resource, r.req.Namespace, r.req.Name, r.req.SubResource, r.req.Namespace)
	case ReasonSourceStatus:
		fmt.Fprintf(&b, "%s: only gitgate itself may write the status of a GitSource, which holds its rollback ledger (status.lastVerifiedCommit); user %q is not one of its status writers.\n",
			what, r.req.UserInfo.Username)
	case ReasonNotDeclared:
		fmt.Fprintf(&b, "%s is not declared in Git, and namespace %s is managed by source %s", what, r.key.Namespace, d.source)
		if r.req.Operation == admissionv1.Delete {
			b.WriteString("; only objects that Git declared and has since removed may be deleted there")
		}
		b.WriteString(".\n")
	}
	writeOrigin(&b, d)
	writeHowTo(&b, r, d, sc)
	return strings.TrimRight(b.String(), "\n")
}

func writeDiffs(b *strings.Builder, d decision) {
	for i, diff := range d.diffs {
		if i == maxListedDiffs {
			fmt.Fprintf(b, "  - and %d more\n", len(d.diffs)-i)
			break
		}
		fmt.Fprintf(b, "  - %s\n", diff)
	}
}

// writeOrigin names the commit and signers Git holds for the object, or
// for its namespace when Git does not declare the object.
func writeOrigin(b *strings.Builder, d decision) {
	switch {
	case d.origin != nil:
		fmt.Fprintf(b, "Git declares it at commit %s of source %s (path %s)%s.\n",
			shortSHA(d.origin.Commit), d.origin.Source, d.origin.Path, signedBy(d.origin))
	case d.scopeOrigin != nil:
		fmt.Fprintf(b, "Git holds the namespace at commit %s of source %s%s.\n",
			shortSHA(d.scopeOrigin.Commit), d.scopeOrigin.Source, signedBy(d.scopeOrigin))
	}
}

func signedBy(o *index.Origin) string {
	if len(o.Signers) == 0 {
		return ""
	}
	return ", signed by " + strings.Join(o.Signers, ", ")
}

// writeHowTo says where to make the change instead.
func writeHowTo(b *strings.Builder, r *review, d decision, sc *compiledScope) {
	source := d.source
	if d.origin != nil {
		source = d.origin.Source
	}
	if source == "" || d.reason == ReasonUnknownKind || (d.origin == nil && d.reason == ReasonPolicyDenied) {
		// A policy denial of an object Git does not declare (a
		// controller's Pod, say) is fixed where its owner is, not by
		// declaring the object.
		return
	}
	target := repositoryOf(sc, source)
	if d.origin != nil && d.origin.Path != "" {
		target += " path " + d.origin.Path
	}
	verb := "change it"
	switch {
	case d.reason == ReasonManagedDelete:
		verb = "delete it, remove it from Git"
	case d.origin == nil && r.req.Operation == admissionv1.Create:
		verb = "create it, declare it in Git"
	case d.origin == nil:
		verb = "manage it, declare it in Git"
	}
	fmt.Fprintf(b, "To %s: open a pull request against %s.\n", verb, target)
}

func repositoryOf(sc *compiledScope, source string) string {
	if u := sc.repository(source); u != "" {
		return u
	}
	return "the repository of source " + source
}

func (s *Server) policyDeniedMessage(r *review, d decision, failures []string, sc *compiledScope) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s is denied by policy:\n", describeRequest(r))
	for _, f := range failures {
		fmt.Fprintf(&b, "  - %s\n", f)
	}
	writeOrigin(&b, d)
	writeHowTo(&b, r, d, sc)
	return strings.TrimRight(b.String(), "\n")
}

func (s *Server) policyErrorMessage(r *review, err error) string {
	return fmt.Sprintf("%s could not be judged by policy, so it is denied: %v", describeRequest(r), err)
}

// shortSHA abbreviates a commit as the Index's own messages do.
func shortSHA(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
