// Package e2eserve runs `gitgate serve`, built from this checkout, against
// the real kube-apiserver and etcd: the webhook on 127.0.0.1 with its
// built-in certificates, registered with the API server by URL, the
// reconciler syncing a GitSource over a signed file:// repository made by
// the real git and ssh-keygen, and kubectl as the client.
package e2eserve

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/provenance/gittest"
	"gitgate.dev/gitgate/test/e2e/testenv"
	"gitgate.dev/gitgate/webhook/config"
)

func TestMain(m *testing.M) {
	root, err := testenv.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(testenv.Run(m, testenv.Options{CRDDirectoryPaths: []string{filepath.Join(root, "charts", "gitgate", "crds")}}))
}

const (
	gitgateNamespace = "gitgate-system"
	configName       = "gitgate-serve-e2e"
	leaseName        = "gitgate-leader" // serve's default --leader-election-id
	appNamespace     = "shop"
	sourceName       = "shop"
	// waitTimeout bounds every wait on the server; the steps take a second
	// or two, the bound is for a loaded CI machine.
	waitTimeout = 90 * time.Second
)

// signedRepo is a repository whose trust policy lets alice change
// everything, with the shop application signed by alice on top of an
// unsigned trust root.
type signedRepo struct {
	*gittest.Repo
	alice *gittest.Signer
	root  string
	head  string
}

func newShopRepo(t *testing.T) *signedRepo {
	t.Helper()
	r := gittest.NewRepo(t)
	alice := gittest.NewSSHSigner(t, "alice")
	r.WriteFile(".gitgate/trust.yaml", fmt.Sprintf(`version: 1
signers:
  alice:
    keys:
      - ssh: %q
rules:
  - paths: ["**"]
    signers: [alice]
`, alice.PublicKey()))
	root := r.Commit("trust root", nil)
	r.WriteFile("apps/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "+appNamespace+"\n")
	r.WriteFile("apps/deployment.yaml", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: `+appNamespace+`
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
`)
	r.WriteFile("apps/config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  namespace: "+appNamespace+"\ndata:\n  greeting: hello\n")
	head := r.Commit("shop", alice)
	return &signedRepo{Repo: r, alice: alice, root: root, head: head}
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	var lc net.ListenConfig
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// running is one `gitgate serve` process.
type running struct {
	cmd                        *exec.Cmd
	done                       chan error
	webhook, metrics, receiver string
	audit, log                 string
}

// startServer runs `gitgate serve` against env with the webhook, metrics
// and receiver on loopback ports, and returns once /healthz answers.
func startServer(t *testing.T, env *testenv.Env) *running {
	t.Helper()
	bin := testenv.GitgateBinary(t)
	dir := t.TempDir()
	r := &running{
		done: make(chan error, 1), webhook: freeAddr(t), metrics: freeAddr(t), receiver: freeAddr(t),
		audit: filepath.Join(dir, "audit.jsonl"), log: filepath.Join(dir, "gitgate.log"),
	}
	logFile, err := os.Create(r.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = logFile.Close()
		// The log on failure, or always with GITGATE_E2E_LOG set.
		if t.Failed() || os.Getenv("GITGATE_E2E_LOG") != "" {
			b, _ := os.ReadFile(r.log)
			t.Logf("gitgate serve log:\n%s", tail(string(b), 400))
		}
	})
	//nolint:noctx // stopped with SIGTERM, as the kubelet does
	r.cmd = exec.Command(bin, "serve",
		"--kubeconfig", env.Kubeconfig,
		"--namespace", gitgateNamespace,
		"--webhook-addr", r.webhook, "--metrics-addr", r.metrics, "--receiver-addr", r.receiver,
		"--cert-hosts", "127.0.0.1",
		"--webhook-config-name", configName,
		"--cache-dir", filepath.Join(dir, "cache"),
		"--audit-log", r.audit,
		"--shutdown-timeout", "15s",
		"--log-format", "console", "--log-level", "debug",
	)
	// Only what serve needs: no GITGATE_* variable of the test's own
	// environment may change its configuration.
	r.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	r.cmd.Stdout, r.cmd.Stderr = logFile, logFile
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			_ = r.cmd.Process.Kill()
			t.Logf("gitgate serve killed at cleanup: %v", <-r.done)
		}
	})
	err = poll(t.Context(), waitTimeout, func() (bool, error) {
		select {
		case err := <-r.done:
			r.done <- err
			return false, fmt.Errorf("gitgate serve exited: %w", err)
		default:
		}
		code, _ := r.get(t, "/healthz")
		return code == http.StatusOK, nil
	})
	if err != nil {
		t.Fatalf("gitgate serve never answered /healthz: %v", err)
	}
	return r
}

// stop sends SIGTERM and returns the process's exit error.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.done:
		return err
	case <-time.After(waitTimeout):
		t.Fatal("gitgate serve did not exit after SIGTERM")
		return nil
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (r *running) get(t *testing.T, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+r.metrics+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// register creates the webhook configurations for the shop's kinds (and
// Pods, so that Rego sees them), pointing at the server's URL, without a
// caBundle: the server injects its own.
func register(t *testing.T, env *testenv.Env, kube kubernetes.Interface, webhookAddr string) {
	t.Helper()
	kinds := []schema.GroupVersionKind{
		{Version: "v1", Kind: "Namespace"}, {Version: "v1", Kind: "ConfigMap"}, {Version: "v1", Kind: "Pod"},
		{Group: "apps", Version: "v1", Kind: "Deployment"},
	}
	rs, missing, err := config.ResourcesFor(env.Discovery, kinds)
	if err != nil || len(missing) > 0 {
		t.Fatalf("resources: %v (missing %v)", err, missing)
	}
	sc := config.Scope{Name: configName, Namespace: gitgateNamespace, Resources: rs, URL: "https://" + webhookAddr}
	vwc, err := sc.Validating()
	if err != nil {
		t.Fatal(err)
	}
	mwc, err := sc.Mutating()
	if err != nil {
		t.Fatal(err)
	}
	api := kube.AdmissionregistrationV1()
	if _, err := api.ValidatingWebhookConfigurations().Create(t.Context(), vwc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.MutatingWebhookConfigurations().Create(t.Context(), mwc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func unregister(t *testing.T, kube kubernetes.Interface) {
	ctx := context.Background()
	api := kube.AdmissionregistrationV1()
	if err := api.ValidatingWebhookConfigurations().Delete(ctx, configName, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("delete validating configuration: %v", err)
	}
	if err := api.MutatingWebhookConfigurations().Delete(ctx, configName, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("delete mutating configuration: %v", err)
	}
}

// poll calls f every 200 ms until it returns true, an error, or timeout.
func poll(ctx context.Context, timeout time.Duration, f func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		ok, err := f()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.New("timed out")
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func kubectl(t *testing.T, env *testenv.Env, args ...string) (string, error) {
	t.Helper()
	cmd := env.KubectlCmd(t.Context(), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func TestServe(t *testing.T) {
	env := testenv.Require(t)
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	kube, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	// gitgate's namespace holds the leader lease and the CA Secret; the
	// chart creates it in a cluster.
	if err := c.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: gitgateNamespace}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	repo := newShopRepo(t)

	srv := startServer(t, env)
	stopped := false
	t.Cleanup(func() {
		// Configurations first: a webhook that is gone fails writes closed.
		unregister(t, kube)
		if !stopped {
			_ = srv.stop(t)
		}
	})

	t.Run("healthz", func(t *testing.T) {
		if code, body := srv.get(t, "/healthz"); code != http.StatusOK {
			t.Errorf("/healthz = %d %q, want 200", code, body)
		}
	})

	// Not ready until the CA bundle is in the configurations, which do not
	// exist yet.
	waitReady := func(t *testing.T, what string) {
		t.Helper()
		var body string
		if err := poll(t.Context(), waitTimeout, func() (bool, error) {
			var code int
			code, body = srv.get(t, "/readyz")
			return code == http.StatusOK, nil
		}); err != nil {
			t.Fatalf("/readyz never turned ready %s: %v; last answer %q", what, err, body)
		}
	}
	code, body := srv.get(t, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "CA bundle") {
		t.Errorf("/readyz before the configurations exist = %d %q, want 503 naming the CA bundle", code, body)
	}
	register(t, env, kube, srv.webhook)
	waitReady(t, "after the configurations were registered")

	t.Run("leader lease", func(t *testing.T) {
		err := poll(t.Context(), waitTimeout, func() (bool, error) {
			l, err := kube.CoordinationV1().Leases(gitgateNamespace).Get(t.Context(), leaseName, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			return err == nil && l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "", err
		})
		if err != nil {
			t.Fatalf("no leader holds %s/%s: %v", gitgateNamespace, leaseName, err)
		}
	})

	gs := &v1alpha1.GitSource{
		ObjectMeta: metav1.ObjectMeta{Name: sourceName},
		Spec: v1alpha1.GitSourceSpec{
			URL: "file://" + repo.Dir, Branch: "main", TrustRoot: repo.root, Paths: []string{"apps"},
			Interval: metav1.Duration{Duration: 2 * time.Second},
			Policy:   &v1alpha1.PolicySpec{Library: []string{"pss/baseline/privileged"}},
		},
	}
	if err := c.Create(t.Context(), gs); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		cur := &v1alpha1.GitSource{}
		if c.Get(ctx, client.ObjectKey{Name: sourceName}, cur) == nil {
			base := cur.DeepCopy()
			cur.Finalizers = nil
			_ = c.Patch(ctx, cur, client.MergeFrom(base))
			_ = c.Delete(ctx, cur)
		}
	})

	t.Run("source applied", func(t *testing.T) {
		var last *v1alpha1.GitSource
		err := poll(t.Context(), waitTimeout, func() (bool, error) {
			cur := &v1alpha1.GitSource{}
			if err := c.Get(t.Context(), client.ObjectKey{Name: sourceName}, cur); err != nil {
				return false, err
			}
			last = cur
			ready := meta.FindStatusCondition(cur.Status.Conditions, v1alpha1.ConditionReady)
			return ready != nil && ready.Status == metav1.ConditionTrue && cur.Status.LastAppliedCommit == repo.head, nil
		})
		if err != nil {
			t.Fatalf("gitsource never applied %s: %v; status %+v", repo.head, err, last.Status)
		}
		var d appsv1.Deployment
		if err := c.Get(t.Context(), client.ObjectKey{Namespace: appNamespace, Name: "web"}, &d); err != nil {
			t.Fatal(err)
		}
		if *d.Spec.Replicas != 2 {
			t.Errorf("replicas = %d, want Git's 2", *d.Spec.Replicas)
		}
		if got := d.Annotations["gitgate.dev/commit"]; got != repo.head {
			t.Errorf("commit annotation = %q, want %s (stamped by the mutating webhook)", got, repo.head)
		}
		waitReady(t, "after the source synced")
	})

	t.Run("kubectl scale denied", func(t *testing.T) {
		var out string
		// The API server picks up the caBundle through a watch; until then
		// the webhook is unreachable and the (dry-run) request fails for
		// another reason.
		err := poll(t.Context(), waitTimeout, func() (bool, error) {
			out, _ = kubectl(t, env, "scale", "deployment/web", "-n", appNamespace, "--replicas=5", "--dry-run=server")
			return strings.Contains(out, "denied the request"), nil
		})
		if err != nil {
			t.Fatalf("a dry-run scale was never denied by the webhook: %v; last output:\n%s", err, out)
		}
		out, err = kubectl(t, env, "scale", "deployment/web", "-n", appNamespace, "--replicas=5")
		if err == nil {
			t.Fatalf("kubectl scale succeeded:\n%s", out)
		}
		for _, want := range []string{"spec.replicas", repo.head[:7], "alice"} {
			if !strings.Contains(out, want) {
				t.Errorf("denial does not name %q:\n%s", want, out)
			}
		}
		var d appsv1.Deployment
		if err := c.Get(t.Context(), client.ObjectKey{Namespace: appNamespace, Name: "web"}, &d); err != nil {
			t.Fatal(err)
		}
		if *d.Spec.Replicas != 2 {
			t.Errorf("replicas = %d after the denied scale, want 2", *d.Spec.Replicas)
		}
		audit, err := os.ReadFile(srv.audit)
		if err != nil || !strings.Contains(string(audit), `"NotConforming"`) {
			t.Errorf("audit log (%v) has no NotConforming line:\n%s", err, audit)
		}
	})

	t.Run("source policy judges admission", func(t *testing.T) {
		// A Pod is no kind Git manages, so only the source's Rego (routed
		// by the namespace Git declares) can deny it.
		pod := func(privileged bool) string {
			return fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"probe","namespace":%q},
"spec":{"containers":[{"name":"c","image":"busybox","securityContext":{"privileged":%v}}]}}`, appNamespace, privileged)
		}
		out, err := kubectlStdin(t, env, pod(true), "create", "--dry-run=server", "-f", "-")
		if err == nil || !strings.Contains(out, "privileged") {
			t.Errorf("a privileged Pod was not denied by the library policy (err %v):\n%s", err, out)
		}
		if out, err := kubectlStdin(t, env, pod(false), "create", "--dry-run=server", "-f", "-"); err != nil {
			t.Errorf("an unprivileged Pod was denied:\n%s", out)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		code, body := srv.get(t, "/metrics")
		if code != http.StatusOK {
			t.Fatalf("/metrics = %d", code)
		}
		for _, want := range []string{
			"gitgate_admission_requests_total", "gitgate_admission_duration_seconds",
			"gitgate_sync_total", "gitgate_source_info", "gitgate_managed_objects",
			"controller_runtime_reconcile_total", "go_goroutines",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics has no %s", want)
			}
		}
	})

	t.Run("receiver", func(t *testing.T) {
		url := "http://" + srv.receiver + "/hook/" + sourceName
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		// The source has no receiver configured.
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s = %d, want 404 for a source without receiver", url, resp.StatusCode)
		}
	})

	t.Run("push webhook", func(t *testing.T) {
		const token = "push-secret-for-e2e"
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "shop-push", Namespace: gitgateNamespace},
			StringData: map[string]string{"token": token},
		}
		if err := c.Create(t.Context(), secret); err != nil {
			t.Fatal(err)
		}
		// An hour's interval: from here on only a push makes the source sync.
		cur := &v1alpha1.GitSource{}
		if err := c.Get(t.Context(), client.ObjectKey{Name: sourceName}, cur); err != nil {
			t.Fatal(err)
		}
		base := cur.DeepCopy()
		cur.Spec.Interval = metav1.Duration{Duration: time.Hour}
		cur.Spec.Receiver = &v1alpha1.ReceiverSpec{Type: "github", SecretRef: v1alpha1.LocalObjectReference{Name: secret.Name}}
		if err := c.Patch(t.Context(), cur, client.MergeFrom(base)); err != nil {
			t.Fatal(err)
		}
		if err := poll(t.Context(), waitTimeout, func() (bool, error) {
			got := &v1alpha1.GitSource{}
			err := c.Get(t.Context(), client.ObjectKey{Name: sourceName}, got)
			return err == nil && got.Status.ObservedGeneration == cur.Generation, err
		}); err != nil {
			t.Fatalf("the receiver spec was never synced: %v", err)
		}

		repo.WriteFile("apps/config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  namespace: "+appNamespace+"\ndata:\n  greeting: pushed\n")
		pushed := repo.Commit("greeting via push", repo.alice)
		body := []byte(`{"ref":"refs/heads/main","after":"` + pushed + `"}`)
		post := func(signature string) int {
			t.Helper()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+srv.receiver+"/hook/"+sourceName, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-GitHub-Event", "push")
			req.Header.Set("X-Hub-Signature-256", signature)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		greeting := func() string {
			cm, err := kube.CoreV1().ConfigMaps(appNamespace).Get(t.Context(), "web-config", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return cm.Data["greeting"]
		}

		forged := hmac.New(sha256.New, []byte("not the secret"))
		forged.Write(body)
		if code := post("sha256=" + hex.EncodeToString(forged.Sum(nil))); code != http.StatusUnauthorized {
			t.Fatalf("a push signed with the wrong secret = %d, want 401", code)
		}
		time.Sleep(2 * time.Second)
		if g := greeting(); g != "hello" {
			t.Fatalf("after a refused push the ConfigMap says %q: the push triggered a sync", g)
		}

		mac := hmac.New(sha256.New, []byte(token))
		mac.Write(body)
		start := time.Now()
		if code := post("sha256=" + hex.EncodeToString(mac.Sum(nil))); code != http.StatusAccepted {
			t.Fatalf("a correctly signed push = %d, want 202", code)
		}
		if err := poll(t.Context(), waitTimeout, func() (bool, error) { return greeting() == "pushed", nil }); err != nil {
			t.Fatalf("the signed push never brought commit %s into the cluster: %v", pushed[:12], err)
		}
		t.Logf("push to ConfigMap updated: %s (fetch, verify, render, apply)", time.Since(start).Round(time.Millisecond))
	})

	t.Run("graceful shutdown", func(t *testing.T) {
		start := time.Now()
		err := srv.stop(t)
		stopped = true
		if err != nil {
			t.Fatalf("gitgate serve exited with %v after SIGTERM, want status 0", err)
		}
		t.Logf("shutdown took %s", time.Since(start).Round(time.Millisecond))
		l, err := kube.CoordinationV1().Leases(gitgateNamespace).Get(t.Context(), leaseName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "" {
			t.Errorf("lease still held by %s after shutdown, want it released", *l.Spec.HolderIdentity)
		}
		if code, _ := srv.get(t, "/healthz"); code != 0 {
			t.Errorf("/healthz answered %d after shutdown", code)
		}
	})
}

func kubectlStdin(t *testing.T, env *testenv.Env, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := env.KubectlCmd(t.Context(), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}
