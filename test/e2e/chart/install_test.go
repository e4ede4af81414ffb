package chart

import (
	"strings"
	"testing"

	"gitgate.dev/gitgate/test/e2e/testenv"
)

// TestHelmInstallDryRun runs helm's own install path against the API
// server, `helm install --dry-run=server`: helm checks the chart's
// kubeVersion against the server's, resolves every kind through the
// server's discovery (so the cert-manager, prometheus-operator and GitSource
// kinds must be served), renders NOTES.txt, and installs nothing.
func TestHelmInstallDryRun(t *testing.T) {
	helm := requireHelm(t)
	env := testenv.Require(t)
	for _, tc := range []struct {
		name     string
		rel      release
		thirdPty bool
		want     []string
		notWant  []string
	}{
		{
			name: "defaults",
			rel:  release{name: "gitgate", namespace: "gitgate-install"},
			want: []string{
				"NOTES:",
				"Image: ghcr.io/gitgate-dev/gitgate:", // the chart's appVersion follows
				"(another build or a mirror: set\nimage.repository, and image.tag or image.digest)",
				"gitgate makes its own CA (Secret gitgate-webhook-ca)",
				"Next: create a GitSource",
				"  - Deployment.apps",
				"refused while no gitgate replica answers (failurePolicy Fail)",
				"can always heal: gitgate-install, kube-node-lease, kube-system.",
				"kubectl delete validatingwebhookconfiguration gitgate",
				"POST /hook/<GitSource name> on port 9292",
			},
		},
		{
			name:     "full",
			rel:      release{name: "gitgate", namespace: "gitgate-install-full", values: []string{testdata("values-full.yaml")}},
			thirdPty: true,
			want: []string{
				"Image: registry.example/gitgate/gitgate@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef (",
				"cert-manager issues the serving certificate into Secret\ngitgate-webhook-tls",
				`Root GitSource "platform" pulls https://git.example/platform/cluster.git.`,
				"can always heal: gitgate-install-full, kube-node-lease, kube-system, monitoring.",
			},
		},
		{
			name:     "tuned",
			rel:      release{name: "admission", namespace: "gitgate-install-tuned", values: []string{testdata("values-tuned.yaml")}},
			thirdPty: true,
			want: []string{
				"let through while no gitgate replica answers (failurePolicy Ignore)",
				"kubectl delete mutatingwebhookconfiguration gitgate-admission",
			},
			notWant: []string{"Push receiver:", "ReplicationController.core"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.thirdPty {
				requireThirdPartyCRDs(t, helm)
			}
			ensureNamespaces(t, env, tc.rel.namespace)
			args := append([]string{"install"}, tc.rel.args()...)
			args = append(args, chartDir(t), "--dry-run=server", "--kubeconfig", env.Kubeconfig)
			out, err := runHelm(t.Context(), t, helm, args...)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("helm install --dry-run output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(string(out), w) {
					t.Errorf("helm install --dry-run output has %q:\n%s", w, out)
				}
			}
		})
	}
}
