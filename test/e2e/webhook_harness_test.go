package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/record"

	"gitgate.dev/gitgate/provenance/index"
	"gitgate.dev/gitgate/test/e2e/testenv"
	"gitgate.dev/gitgate/webhook"
	"gitgate.dev/gitgate/webhook/certs"
	"gitgate.dev/gitgate/webhook/config"
)

// configName names both webhook configurations the suite registers.
const configName = "gitgate-e2e"

// admissionCall is what the suite's server saw of one AdmissionReview.
type admissionCall struct {
	Path        string
	UID         string
	Operation   string
	Kind        metav1.GroupVersionKind
	Resource    metav1.GroupVersionResource
	SubResource string
	Namespace   string
	Name        string
	DryRun      bool
	// Handled is how long the server's handler took (TLS, the network
	// and reading the body excluded); zero until it has answered.
	Handled time.Duration
}

func (c admissionCall) String() string {
	return fmt.Sprintf("%s %s %s/%s %s %s/%s sub=%q dryRun=%v", c.Path, c.Operation, c.Resource.Group, c.Resource.Resource,
		c.Kind.Version, c.Namespace, c.Name, c.SubResource, c.DryRun)
}

// callRecorder counts the reviews that reach the server, in front of the
// real handler. It keeps each body and decodes it when a test reads the
// calls, not while the API server waits for the answer: decoding there
// took about a fifth of the handler's time, which the benchmark would
// have counted as gitgate's.
type callRecorder struct {
	mu    sync.Mutex
	calls []recordedCall
}

// recordedCall is one review as it arrived; call is decoded from body on
// the first read (ok false: the body is no review with a request).
type recordedCall struct {
	body    []byte
	path    string
	handled time.Duration
	decoded bool
	ok      bool
	call    admissionCall
}

// maxRecordedBody is more than the server accepts, so that the server, not
// the recorder, answers oversized bodies.
const maxRecordedBody = 16 << 20

func (r *callRecorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, hr *http.Request) {
		body, err := readRecordedBody(hr)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// Recorded before the server answers, so that a caller who sees
		// the API server's response sees the call too.
		r.mu.Lock()
		i := len(r.calls)
		r.calls = append(r.calls, recordedCall{body: body, path: hr.URL.Path})
		r.mu.Unlock()
		hr.Body = io.NopCloser(bytes.NewReader(body))
		start := time.Now()
		next.ServeHTTP(w, hr)
		r.mu.Lock()
		r.calls[i].handled = time.Since(start)
		r.mu.Unlock()
	})
}

// readRecordedBody reads the body into a buffer of its announced size
// (io.ReadAll would grow one from 512 bytes).
func readRecordedBody(hr *http.Request) ([]byte, error) {
	lr := io.LimitReader(hr.Body, maxRecordedBody)
	if hr.ContentLength <= 0 || hr.ContentLength > maxRecordedBody {
		return io.ReadAll(lr)
	}
	buf := bytes.NewBuffer(make([]byte, 0, hr.ContentLength+bytes.MinRead))
	_, err := buf.ReadFrom(lr)
	return buf.Bytes(), err
}

// decode fills c.call from c.body once.
func (c *recordedCall) decode() {
	if c.decoded {
		return
	}
	c.decoded = true
	var review struct {
		Request *struct {
			UID         string                      `json:"uid"`
			Operation   string                      `json:"operation"`
			Kind        metav1.GroupVersionKind     `json:"kind"`
			Resource    metav1.GroupVersionResource `json:"resource"`
			SubResource string                      `json:"subResource"`
			Namespace   string                      `json:"namespace"`
			Name        string                      `json:"name"`
			DryRun      *bool                       `json:"dryRun"`
		} `json:"request"`
	}
	if json.Unmarshal(c.body, &review) != nil || review.Request == nil {
		return
	}
	q := review.Request
	c.ok = true
	c.call = admissionCall{
		Path: c.path, UID: q.UID, Operation: q.Operation, Kind: q.Kind, Resource: q.Resource,
		SubResource: q.SubResource, Namespace: q.Namespace, Name: q.Name, DryRun: q.DryRun != nil && *q.DryRun,
	}
	c.body = nil
}

// mark returns a position; since returns the calls after it.
func (r *callRecorder) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

func (r *callRecorder) since(mark int) []admissionCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []admissionCall
	for i := mark; i < len(r.calls); i++ {
		c := &r.calls[i]
		c.decode()
		if c.ok {
			call := c.call
			call.Handled = c.handled
			out = append(out, call)
		}
	}
	return out
}

// syncBuffer collects the server's audit lines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// webhookSuite is gitgate's admission server running in the test process
// over TLS on 127.0.0.1, registered with the real API server through the
// configurations webhook/config generates, with the caBundle that
// webhook/certs makes and injects.
type webhookSuite struct {
	env    *testenv.Env
	client kubernetes.Interface
	store  *index.Store
	server *webhook.Server
	certs  *certs.Manager
	rec    *callRecorder
	audit  *syncBuffer
	gvks   []schema.GroupVersionKind
	repo   string // a checkout of the repository

	mu         sync.Mutex
	addr       string       // 127.0.0.1:port, kept across restarts
	stopServer func() error // ends the serving started last
}

// newWebhookSuite starts the admission server with repo as the desired
// state (not registered yet: see register), serving the certificates of a
// manager made with certOpts (127.0.0.1 added; the zero value takes the
// defaults).
func newWebhookSuite(t testing.TB, repo gitRepo, certOpts certs.Options) *webhookSuite {
	t.Helper()
	env := testenv.Require(t)
	client, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	ix := buildIndex(t, repo.objs)
	s := &webhookSuite{
		env: env, client: client, store: index.NewStore(), rec: &callRecorder{}, audit: &syncBuffer{},
		gvks: config.KindsOf(ix), repo: t.TempDir(),
	}
	if err := s.store.Publish(gitSource, ix); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, s.repo, repo.files)

	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	t.Cleanup(broadcaster.Shutdown)
	s.server, err = webhook.NewServer(webhook.Options{
		Desired:   s.store,
		Scope:     webhook.Scope{Sources: []webhook.SourceScope{{Name: gitSource, Repository: gitRepository}}},
		Namespace: gitgateNamespace,
		Events:    broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "gitgate"}),
		AuditLog:  s.audit,
		Logger:    testr.NewWithInterface(t, testr.Options{Verbosity: 0}),
	})
	if err != nil {
		t.Fatal(err)
	}
	certOpts.IPAddresses = append(certOpts.IPAddresses, net.IPv4(127, 0, 0, 1))
	s.certs, err = certs.New(t.Context(), certOpts)
	if err != nil {
		t.Fatal(err)
	}
	s.start(t)
	t.Cleanup(func() { s.unregister(t) })
	return s
}

// start serves the admission server on the suite's address (a new port the
// first time).
func (s *webhookSuite) start(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	addr := s.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	// The port of a server just stopped can take a moment to be free.
	for range 50 {
		var lc net.ListenConfig
		if ln, err = lc.Listen(t.Context(), "tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	// Served as gitgate serve serves it (HTTP/1.1 only, its timeouts and
	// shutdown), with the recorder in front. Not t's context: the server
	// outlives the test until unregister stops it.
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	served := make(chan error, 1)
	go func() { served <- s.server.ServeHandler(ctx, ln, s.certs.TLSConfig(), s.rec.wrap(s.server.Handler())) }()
	s.stopServer = func() error {
		cancel()
		return <-served
	}
}

// stop shuts the admission server down; the API server then gets
// "connection refused".
func (s *webhookSuite) stop(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopServer == nil {
		return
	}
	if err := s.stopServer(); err != nil {
		t.Fatal(err)
	}
	s.stopServer = nil
}

// scope is the webhook configurations' scope as discovery serves the
// repository's kinds now.
func (s *webhookSuite) scope(t testing.TB, caBundle []byte) (config.Scope, []schema.GroupVersionKind) {
	t.Helper()
	rs, missing, err := config.ResourcesFor(s.env.Discovery, s.gvks)
	if err != nil {
		t.Fatal(err)
	}
	return config.Scope{
		Name:      configName,
		Namespace: gitgateNamespace,
		Resources: rs,
		URL:       "https://" + s.addr,
		CABundle:  caBundle,
	}, missing
}

// register creates or updates both configurations from the current scope
// and returns the kinds not served yet. New configurations are created
// without a caBundle, which the certificate manager then injects.
func (s *webhookSuite) register(t testing.TB) []schema.GroupVersionKind {
	t.Helper()
	ctx := t.Context()
	api := s.client.AdmissionregistrationV1()
	sc, missing := s.scope(t, nil)
	vwc, err := sc.Validating()
	if err != nil {
		t.Fatal(err)
	}
	mwc, err := sc.Mutating()
	if err != nil {
		t.Fatal(err)
	}
	cur, err := api.ValidatingWebhookConfigurations().Get(ctx, configName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		if _, err := api.ValidatingWebhookConfigurations().Create(ctx, vwc, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create validating configuration: %v", err)
		}
	case err != nil:
		t.Fatal(err)
	default:
		vwc.ResourceVersion = cur.ResourceVersion
		if _, err := api.ValidatingWebhookConfigurations().Update(ctx, vwc, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("update validating configuration: %v", err)
		}
	}
	curM, err := api.MutatingWebhookConfigurations().Get(ctx, configName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		if _, err := api.MutatingWebhookConfigurations().Create(ctx, mwc, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create mutating configuration: %v", err)
		}
	case err != nil:
		t.Fatal(err)
	default:
		mwc.ResourceVersion = curM.ResourceVersion
		if _, err := api.MutatingWebhookConfigurations().Update(ctx, mwc, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("update mutating configuration: %v", err)
		}
	}
	s.inject(t)
	return missing
}

// inject runs one round of the certificate manager against the API server.
func (s *webhookSuite) inject(t testing.TB) {
	t.Helper()
	inj := &certs.WebhookInjector{Client: s.client.AdmissionregistrationV1(), Validating: configName, Mutating: configName}
	if err := s.certs.Sync(t.Context(), inj); err != nil {
		t.Fatal(err)
	}
}

// unregister deletes the configurations, stops the server and waits until
// the API server no longer calls it, so that later tests of the package
// run against a plain API server.
func (s *webhookSuite) unregister(t testing.TB) {
	ctx := context.WithoutCancel(t.Context())
	api := s.client.AdmissionregistrationV1()
	if err := api.ValidatingWebhookConfigurations().Delete(ctx, configName, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("delete validating configuration: %v", err)
	}
	if err := api.MutatingWebhookConfigurations().Delete(ctx, configName, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("delete mutating configuration: %v", err)
	}
	s.stop(t)
	err := poll(ctx, 30*time.Second, func() (bool, error) {
		_, err := s.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "gg-probe-"}},
			metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err == nil, nil
	})
	if err != nil {
		t.Errorf("the API server still calls the removed webhook: %v", err)
	}
}

// poll calls f every 100 ms until it reports done or timeout passes.
func poll(ctx context.Context, timeout time.Duration, f func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		done, err := f()
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gave up after %s: %w", timeout, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitCalled sends probe until the server has seen a matching review on
// both /validate and /mutate: the API server picks configuration changes
// up through a watch, a moment after they are made.
func (s *webhookSuite) waitCalled(t testing.TB, what string, probe func() error, match func(admissionCall) bool) {
	t.Helper()
	var last error
	err := poll(t.Context(), 30*time.Second, func() (bool, error) {
		mark := s.rec.mark()
		last = probe()
		paths := map[string]bool{}
		for _, c := range s.rec.since(mark) {
			if match(c) {
				paths[c.Path] = true
			}
		}
		return paths[webhook.ValidatePath] && paths[webhook.MutatePath], nil
	})
	if err != nil {
		t.Fatalf("%s never reached the webhook (last probe: %v): %v", what, last, err)
	}
}

// kubectlResult is one kubectl run.
type kubectlResult struct {
	args           []string
	stdout, stderr string
	err            error
}

func (r kubectlResult) String() string {
	return fmt.Sprintf("kubectl %s: err=%v\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.err, r.stdout, r.stderr)
}

// kubectl runs the kubectl built with the API server, as the admin, with
// extra environment variables.
func (s *webhookSuite) kubectl(t testing.TB, env []string, args ...string) kubectlResult {
	t.Helper()
	cmd := s.env.KubectlCmd(t.Context(), args...)
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return kubectlResult{args: args, stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// mustKubectl runs kubectl and fails t when it fails.
func (s *webhookSuite) mustKubectl(t testing.TB, args ...string) kubectlResult {
	t.Helper()
	r := s.kubectl(t, nil, args...)
	if r.err != nil {
		t.Fatal(r)
	}
	return r
}

// deniedBy checks that r failed because gitgate's validating webhook
// denied it, with a message holding every want.
func deniedBy(t testing.TB, r kubectlResult, want ...string) {
	t.Helper()
	var exit interface{ ExitCode() int }
	if r.err == nil || !errors.As(r.err, &exit) {
		t.Fatalf("not denied:\n%s", r)
	}
	if !strings.Contains(r.stderr, "validate.gitgate.dev\" denied the request") {
		t.Fatalf("not denied by gitgate's validating webhook:\n%s", r)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("denial does not mention %q:\n%s", w, r)
		}
	}
}

// shortCommit is the commit as denials name it.
var shortCommit = gitCommit[:12]

// registeredConfigurations returns both configurations as the API server
// stores them.
func (s *webhookSuite) registeredConfigurations(t testing.TB) (*admissionregistrationv1.ValidatingWebhookConfiguration, *admissionregistrationv1.MutatingWebhookConfiguration) {
	t.Helper()
	api := s.client.AdmissionregistrationV1()
	v, err := api.ValidatingWebhookConfigurations().Get(t.Context(), configName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := api.MutatingWebhookConfigurations().Get(t.Context(), configName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return v, m
}

// mapper maps kinds to resources as discovery serves them now.
func (s *webhookSuite) mapper(t testing.TB) meta.RESTMapper {
	t.Helper()
	groups, err := restmapper.GetAPIGroupResources(s.env.Discovery)
	if err != nil {
		t.Fatal(err)
	}
	return restmapper.NewDiscoveryRESTMapper(groups)
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
