package webhook

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	"sigs.k8s.io/yaml"

	"gitgate.dev/gitgate/api/v1alpha1"
)

const (
	// controllerSA is gitgate's reconciler, a status writer that is not
	// exempt.
	controllerSA   = "system:serviceaccount:gitgate-system:gitgate-controller"
	goodLedger     = "0bcde72a1f6e5d4c3b2a19087f6e5d4c3b2a1908"
	rewoundCommit  = "31ce4ff00000000000000000000000000000000a"
	sourceStatusOf = "only gitgate itself may write the status of a GitSource, which holds its rollback ledger (status.lastVerifiedCommit)"
)

// gitSourceObject is a GitSource as the API server holds it, with the
// ledger at commit.
func gitSourceObject(apiVersion, commit string) map[string]any {
	return map[string]any{
		"apiVersion": apiVersion, "kind": "GitSource",
		"metadata": map[string]any{"name": "platform", "uid": "7b2d4f60-1111-4222-8333-444455556666", "resourceVersion": "812", "generation": int64(4)},
		"spec":     map[string]any{"url": testRepo, "branch": "main", "trustRoot": testCommit},
		"status":   map[string]any{"lastVerifiedCommit": commit, "verifiedTrustRoot": testCommit, "verifiedMode": "full"},
	}
}

// ledgerWrite is an UPDATE of GitSource platform's status that sets the
// ledger back to an older commit.
func ledgerWrite(t *testing.T, opts ...reqOption) admission.Request {
	t.Helper()
	opts = append([]reqOption{subresource("status", nil)}, opts...)
	return newRequest(t, admissionv1.Update, gitSourceObject("gitgate.dev/v1alpha1", rewoundCommit), gitSourceObject("gitgate.dev/v1alpha1", goodLedger), opts...)
}

func TestDecideSourceStatus(t *testing.T) {
	f := newFixture(t) // Exempt: gitgate's service account and system:masters
	cases := []decideCase{
		{
			name: "gitgate's service account (exempt)",
			req: func(t *testing.T) admission.Request {
				return ledgerWrite(t, asUser(gitgateSA, "system:serviceaccounts"))
			},
			allowed: true, reason: ReasonExemptUser,
		},
		{
			name:    "system:masters, listed in Exempt.Groups",
			req:     func(t *testing.T) admission.Request { return ledgerWrite(t, asUser("root", "system:masters")) },
			allowed: true, reason: ReasonExemptUser,
		},
		{
			name:    "another user rewinds the ledger",
			req:     func(t *testing.T) admission.Request { return ledgerWrite(t) },
			reason:  ReasonSourceStatus,
			message: []string{"GitSource.gitgate.dev platform (subresource status)", sourceStatusOf, `user "mallory" is not one of its status writers`},
		},
		{
			name:    "dry-run gets the same verdict",
			req:     func(t *testing.T) admission.Request { return ledgerWrite(t, dryRun()) },
			reason:  ReasonSourceStatus,
			message: []string{sourceStatusOf},
		},
		{
			name: "a SystemUser, exempt from everything else",
			req: func(t *testing.T) admission.Request {
				return ledgerWrite(t, asUser("system:serviceaccount:kube-system:namespace-controller", "system:serviceaccounts"))
			},
			reason: ReasonSourceStatus,
		},
		{
			name: "another service account in gitgate's namespace",
			req: func(t *testing.T) admission.Request {
				return ledgerWrite(t, asUser("system:serviceaccount:gitgate-system:default", "system:serviceaccounts", "system:serviceaccounts:gitgate-system"))
			},
			reason: ReasonSourceStatus,
		},
		{
			name: "through another API version",
			req: func(t *testing.T) admission.Request {
				return ledgerWrite(t, func(r *admissionv1.AdmissionRequest) {
					r.Kind.Version, r.Resource.Version = "v1beta1", "v1beta1"
				})
			},
			reason: ReasonSourceStatus,
		},
		{
			name: "a status that changes nothing",
			req: func(t *testing.T) admission.Request {
				obj := gitSourceObject("gitgate.dev/v1alpha1", goodLedger)
				return newRequest(t, admissionv1.Update, obj, obj, subresource("status", nil))
			},
			reason: ReasonSourceStatus,
		},
		{
			name: "the spec is not gated",
			req: func(t *testing.T) admission.Request {
				obj := setPath(gitSourceObject("gitgate.dev/v1alpha1", goodLedger), "release", "spec", "branch")
				return newRequest(t, admissionv1.Update, obj, gitSourceObject("gitgate.dev/v1alpha1", goodLedger))
			},
			allowed: true, reason: ReasonOutOfScope,
		},
		{
			name: "creating a GitSource is not gated",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Create, gitSourceObject("gitgate.dev/v1alpha1", ""), nil)
			},
			allowed: true, reason: ReasonOutOfScope,
		},
		{
			name: "deleting a GitSource is not gated",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Delete, nil, gitSourceObject("gitgate.dev/v1alpha1", goodLedger))
			},
			allowed: true, reason: ReasonOutOfScope,
		},
		{
			name: "the status of a namesake in another group",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Update, gitSourceObject("example.com/v1", rewoundCommit), gitSourceObject("example.com/v1", goodLedger), subresource("status", nil))
			},
			allowed: true, reason: ReasonOutOfScope,
		},
	}
	runDecideCases(t, f, cases)
}

func TestDecideStatusWriters(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.StatusWriters = []string{controllerSA}
		o.Exempt = Exemptions{}
	})
	cases := []decideCase{
		{
			name: "the status writer, not exempt, goes on through the pipeline",
			req: func(t *testing.T) admission.Request {
				return ledgerWrite(t, asUser(controllerSA, "system:serviceaccounts"))
			},
			allowed: true, reason: ReasonOutOfScope,
		},
		{
			name:    "system:masters, not listed in Exempt.Groups",
			req:     func(t *testing.T) admission.Request { return ledgerWrite(t, asUser("root", "system:masters")) },
			reason:  ReasonSourceStatus,
			message: []string{`user "root" is not one of its status writers`},
		},
		{
			name:   "a user named like the group",
			req:    func(t *testing.T) admission.Request { return ledgerWrite(t, asUser(controllerSA+"-x")) },
			reason: ReasonSourceStatus,
		},
		{
			name: "a status writer gets no other privilege",
			req: func(t *testing.T) admission.Request {
				return newRequest(t, admissionv1.Update, setPath(live(t, "web"), int64(5), "spec", "replicas"), live(t, "web"), asUser(controllerSA))
			},
			reason:  ReasonNotConforming,
			message: []string{"spec.replicas: Git has 2, the object has 5"},
		},
	}
	runDecideCases(t, f, cases)

	// Without any status writer or exemption, nobody writes the ledger.
	none := newFixture(t, func(o *Options) { o.Exempt = Exemptions{} })
	if d := none.decideRequest(t, ledgerWrite(t, asUser(gitgateSA))); d.allowed {
		t.Errorf("status write allowed with no status writer configured: %s", d.reason)
	}
}

// TestSourceStatusDenialAudited runs a ledger write through the validating
// webhook: 403 with the message, one audit line, the metric, and no Event
// (the GitSource is not an object Git declares).
func TestSourceStatusDenialAudited(t *testing.T) {
	f := newFixture(t)
	req := ledgerWrite(t)
	resp := f.s.Validate(t.Context(), req)
	if resp.Allowed || resp.Result == nil || resp.Result.Code != http.StatusForbidden || resp.Result.Reason != metav1.StatusReasonForbidden {
		t.Fatalf("response %+v, want a 403 denial", resp.Result)
	}
	lines := auditLines(t, f)
	if len(lines) != 1 || lines[0].Reason != ReasonSourceStatus || lines[0].User != "mallory" || lines[0].Object.Kind != "GitSource" || lines[0].Object.Name != "platform" {
		t.Fatalf("audit lines %+v", lines)
	}
	if evs := f.events.recorded(); len(evs) != 0 {
		t.Errorf("Events %v", evs)
	}
	c := f.s.metrics.requests.WithLabelValues("UPDATE", otherLabel, decisionDenied, string(ReasonSourceStatus))
	if got := counterValue(t, c); got != 1 {
		t.Errorf("gitgate_admission_requests_total{reason=SourceStatus} = %v, want 1", got)
	}
}

// TestSourceResourceMatchesCRD keeps the resource the gate matches equal to
// the GitSource CRD that the chart installs.
func TestSourceResourceMatchesCRD(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "charts", "gitgate", "crds", "gitgate.dev_gitsources.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var crd struct {
		Spec struct {
			Group string `json:"group"`
			Names struct {
				Plural string `json:"plural"`
			} `json:"names"`
			Versions []struct {
				Subresources struct {
					Status *struct{} `json:"status"`
				} `json:"subresources"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatal(err)
	}
	if crd.Spec.Group != sourceGroup || crd.Spec.Names.Plural != sourceResource || v1alpha1.GroupVersion.Group != sourceGroup {
		t.Fatalf("CRD %s/%s, API group %s; the gate matches %s/%s", crd.Spec.Group, crd.Spec.Names.Plural, v1alpha1.GroupVersion.Group, sourceGroup, sourceResource)
	}
	// Without the status subresource, status would be written with the
	// object itself, which the gate does not see.
	for i, v := range crd.Spec.Versions {
		if v.Subresources.Status == nil {
			t.Errorf("CRD version %d has no status subresource", i)
		}
	}
}
