package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"gitgate.dev/gitgate/internal/benchobj"
	"gitgate.dev/gitgate/internal/profile"
	"gitgate.dev/gitgate/policies"
	"gitgate.dev/gitgate/policy"
	"gitgate.dev/gitgate/webhook"
	"gitgate.dev/gitgate/webhook/certs"
)

// config is what the flags select.
type config struct {
	concurrency int
	duration    time.Duration
	warmup      time.Duration
	namespaces  int
	path        string
	policy      bool
	json        bool
	cpuProfile  string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("webhookload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.concurrency, "c", 16, "concurrent clients, each with its own kept-alive connection")
	fs.DurationVar(&c.duration, "d", 20*time.Second, "how long to measure")
	fs.DurationVar(&c.warmup, "warmup", 3*time.Second, "load before measuring (connections, caches, heap)")
	fs.IntVar(&c.namespaces, "namespaces", 250, "namespaces of the synthetic repository (4 objects each) in the Index")
	fs.StringVar(&c.path, "path", "validate", "webhook to call: validate or mutate")
	fs.BoolVar(&c.policy, "policy", true, "evaluate the policy library (validate only)")
	fs.BoolVar(&c.json, "json", false, "write the report as JSON")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the measured window to this file")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		err := fmt.Errorf("unexpected arguments %q", fs.Args())
		fmt.Fprintln(stderr, err)
		return c, err
	case c.concurrency < 1, c.duration <= 0, c.warmup < 0, c.namespaces < 0:
		err := errors.New("-c and -d must be positive, -warmup and -namespaces not negative")
		fmt.Fprintln(stderr, err)
		return c, err
	case c.path != "validate" && c.path != "mutate":
		err := fmt.Errorf("-path %q: want validate or mutate", c.path)
		fmt.Fprintln(stderr, err)
		return c, err
	}
	return c, nil
}

// failedError is a run whose answers were wrong, not a setup problem.
type failedError struct{ err error }

func (e *failedError) Error() string { return e.err.Error() }
func (e *failedError) Unwrap() error { return e.err }

// benchmark sets up the server and the clients, checks one answer, warms up
// and measures.
func benchmark(ctx context.Context, cfg config) (*report, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	addr, pool, served, err := startServer(ctx, cfg)
	if err != nil {
		return nil, err
	}
	bodies, objectBytes, err := reviewBodies(64)
	if err != nil {
		return nil, err
	}
	reqs := make([][]byte, len(bodies))
	for i, b := range bodies {
		reqs[i] = request(addr, "/"+cfg.path, b)
	}
	config := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	clients := make([]*client, cfg.concurrency)
	for i := range clients {
		clients[i] = newClient(addr, config)
	}
	defer func() {
		for _, c := range clients {
			c.close()
		}
	}()
	warnings, err := review(clients[0], reqs[0], "bench-0")
	if err != nil {
		return nil, &failedError{fmt.Errorf("first review: %w", err)}
	}
	if cfg.path == "validate" && cfg.policy && warnings == 0 {
		return nil, &failedError{errors.New("first review: no warnings, so the policy library did not run")}
	}
	if cfg.warmup > 0 {
		drive(ctx, clients, reqs, cfg.warmup)
	}
	stopProfile := func() {}
	if cfg.cpuProfile != "" {
		if stopProfile, err = profile.StartCPU(cfg.cpuProfile); err != nil {
			return nil, err
		}
	}
	load0 := loadAverage()
	cpu0 := profile.CPUTime()
	start := time.Now()
	res := drive(ctx, clients, reqs, cfg.duration)
	elapsed := time.Since(start)
	cpu := profile.CPUTime() - cpu0
	stopProfile()
	cancel()
	if err := <-served; err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	return newReport(cfg, res, elapsed, cpu, objectBytes, load0, loadAverage()), nil
}

// startServer serves webhook.Server on 127.0.0.1 with a fresh certificate;
// it returns the address, the CA pool to trust, and a channel that yields
// Serve's error once ctx ends.
func startServer(ctx context.Context, cfg config) (string, *x509.CertPool, <-chan error, error) {
	store, err := buildIndex(cfg.namespaces)
	if err != nil {
		return "", nil, nil, err
	}
	opts := webhook.Options{
		Desired: store,
		Scope: webhook.Scope{Sources: []webhook.SourceScope{{
			Name:       sourceName,
			Repository: repoURL,
			Kinds:      []schema.GroupKind{{Kind: "Secret"}},
		}}},
		Exempt:    webhook.Exemptions{Users: []string{"system:serviceaccount:gitgate-system:gitgate"}, Groups: []string{"system:masters"}},
		Namespace: "gitgate-system",
		AuditLog:  io.Discard,
	}
	if cfg.policy {
		mods, err := policy.ReadModulesFS(policies.FS())
		if err != nil {
			return "", nil, nil, fmt.Errorf("read policy library: %w", err)
		}
		engine, err := policy.Compile(ctx, policy.Source{Modules: mods}, policy.WithProfile(policy.ProfileAdmission), policy.WithAllNamespaces(), policy.WithMessagesOnly())
		if err != nil {
			return "", nil, nil, fmt.Errorf("compile policy library: %w", err)
		}
		opts.Policy = engine
	}
	srv, err := webhook.NewServer(opts)
	if err != nil {
		return "", nil, nil, err
	}
	cm, err := certs.New(ctx, certs.Options{IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		return "", nil, nil, fmt.Errorf("certificates: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(cm.CABundle()) {
		return "", nil, nil, errors.New("certificates: the CA bundle holds no certificate")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, nil, fmt.Errorf("listen: %w", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln, cm.TLSConfig()) }()
	return ln.Addr().String(), pool, served, nil
}

// reviewBodies encodes n AdmissionReviews of the same UPDATE of the big
// Deployment, with UIDs bench-0 ... bench-<n-1>, and returns the size of
// the object as the API server sends it.
func reviewBodies(n int) ([][]byte, int, error) {
	var raw [2][]byte
	for i, generation := range []int{8, 7} {
		live := benchobj.Live(bigNS, int64(generation), fmt.Sprint(981273+generation))
		var err error
		if raw[i], err = json.Marshal(live); err != nil {
			return nil, 0, fmt.Errorf("encode object: %w", err)
		}
	}
	obj, old := raw[0], raw[1]
	var err error
	bodies := make([][]byte, n)
	for i := range bodies {
		r := admissionv1.AdmissionReview{
			TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
			Request: &admissionv1.AdmissionRequest{
				UID:       types.UID(fmt.Sprintf("bench-%d", i)),
				Kind:      metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"},
				Resource:  metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"},
				Name:      benchobj.Name,
				Namespace: bigNS,
				Operation: admissionv1.Update,
				UserInfo:  authenticationv1.UserInfo{Username: "alice@example.com", Groups: []string{"developers", "system:authenticated"}},
				Object:    runtimeRaw(obj),
				OldObject: runtimeRaw(old),
				Options:   runtimeRaw([]byte(`{"kind":"UpdateOptions","apiVersion":"meta.k8s.io/v1","fieldManager":"kubectl-edit"}`)),
			},
		}
		if bodies[i], err = json.Marshal(r); err != nil {
			return nil, 0, fmt.Errorf("encode review: %w", err)
		}
	}
	return bodies, len(obj), nil
}

func runtimeRaw(b []byte) k8sruntime.RawExtension { return k8sruntime.RawExtension{Raw: b} }

// answer is the part of the AdmissionReview response the client checks.
type answer struct {
	Response *struct {
		UID      string   `json:"uid"`
		Allowed  bool     `json:"allowed"`
		Warnings []string `json:"warnings"`
		Status   *struct {
			Message string `json:"message"`
		} `json:"status"`
	} `json:"response"`
}

// review sends one prepared AdmissionReview and checks that the answer
// allows it; it returns the number of warnings.
func review(c *client, req []byte, uid string) (int, error) {
	status, data, err := c.do(req)
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("status %d: %s", status, truncate(data))
	}
	var a answer
	if err := json.Unmarshal(data, &a); err != nil {
		return 0, fmt.Errorf("decode answer: %w", err)
	}
	switch {
	case a.Response == nil:
		return 0, errors.New("answer without a response")
	case a.Response.UID != uid:
		return 0, fmt.Errorf("answer for uid %q, want %q", a.Response.UID, uid)
	case !a.Response.Allowed:
		msg := ""
		if a.Response.Status != nil {
			msg = a.Response.Status.Message
		}
		return 0, fmt.Errorf("denied: %s", msg)
	}
	return len(a.Response.Warnings), nil
}

func truncate(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// result is what the clients saw during one drive.
type result struct {
	latencies []time.Duration
	errors    int
	firstErr  error
}

// drive runs the clients for d, each sending the requests in turn, and
// returns the latency of every review that succeeded.
func drive(ctx context.Context, clients []*client, reqs [][]byte, d time.Duration) result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	n := len(clients)
	uids := make([]string, len(reqs))
	for k := range uids {
		uids[k] = fmt.Sprintf("bench-%d", k)
	}
	per := make([]result, n)
	var wg sync.WaitGroup
	for w, c := range clients {
		wg.Go(func() {
			r := &per[w]
			r.latencies = make([]time.Duration, 0, 1<<14)
			for i := w; ctx.Err() == nil; i += n {
				k := i % len(reqs)
				start := time.Now()
				_, err := review(c, reqs[k], uids[k])
				took := time.Since(start)
				switch {
				case err == nil:
					r.latencies = append(r.latencies, took)
				case ctx.Err() != nil:
					// The window closed during the request: neither a
					// success nor a failure.
				default:
					r.errors++
					if r.firstErr == nil {
						r.firstErr = err
					}
				}
			}
		})
	}
	wg.Wait()
	var all result
	for _, r := range per {
		all.latencies = append(all.latencies, r.latencies...)
		all.errors += r.errors
		if all.firstErr == nil {
			all.firstErr = r.firstErr
		}
	}
	slices.Sort(all.latencies)
	return all
}

// loadAverage is the first three fields of /proc/loadavg, "" elsewhere.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// report is the benchmark's outcome.
type report struct {
	Path          string  `json:"path"`
	Policy        bool    `json:"policy"`
	Concurrency   int     `json:"concurrency"`
	GOMAXPROCS    int     `json:"gomaxprocs"`
	CPUs          int     `json:"cpus"`
	ObjectBytes   int     `json:"objectBytes"`
	IndexObjects  int     `json:"indexObjects"`
	Seconds       float64 `json:"seconds"`
	Requests      int     `json:"requests"`
	Errors        int     `json:"errors"`
	FirstError    string  `json:"firstError,omitempty"`
	ReviewsPerSec float64 `json:"reviewsPerSecond"`
	CPUPerReview  float64 `json:"cpuMicrosecondsPerReview"`
	MeanMs        float64 `json:"meanMs"`
	P50Ms         float64 `json:"p50Ms"`
	P90Ms         float64 `json:"p90Ms"`
	P99Ms         float64 `json:"p99Ms"`
	P999Ms        float64 `json:"p999Ms"`
	MaxMs         float64 `json:"maxMs"`
	LoadBefore    string  `json:"loadAverageBefore"`
	LoadAfter     string  `json:"loadAverageAfter"`
}

func newReport(cfg config, res result, elapsed, cpu time.Duration, objectBytes int, load0, load1 string) *report {
	r := &report{
		Path: cfg.path, Policy: cfg.policy, Concurrency: cfg.concurrency,
		GOMAXPROCS: runtime.GOMAXPROCS(0), CPUs: runtime.NumCPU(),
		ObjectBytes: objectBytes, IndexObjects: len(repository(cfg.namespaces)),
		Seconds: elapsed.Seconds(), Requests: len(res.latencies), Errors: res.errors,
		LoadBefore: load0, LoadAfter: load1,
	}
	if res.firstErr != nil {
		r.FirstError = res.firstErr.Error()
	}
	n := len(res.latencies)
	if n == 0 {
		return r
	}
	r.ReviewsPerSec = float64(n) / elapsed.Seconds()
	r.CPUPerReview = float64(cpu.Microseconds()) / float64(n)
	var sum time.Duration
	for _, l := range res.latencies {
		sum += l
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	at := func(q float64) float64 { return ms(res.latencies[min(n-1, int(q*float64(n)))]) }
	r.MeanMs = ms(sum / time.Duration(n))
	r.P50Ms, r.P90Ms, r.P99Ms, r.P999Ms = at(0.50), at(0.90), at(0.99), at(0.999)
	r.MaxMs = ms(res.latencies[n-1])
	return r
}

func (r *report) write(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	_, err := fmt.Fprintf(w, `webhook /%s, policy library %v, %d clients, GOMAXPROCS %d (%d CPUs)
object %d bytes, Index of %d objects
%d reviews in %.1f s: %.0f reviews/s, %.0f µs CPU per review (server and clients)
latency ms: mean %.2f  p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f
errors: %d
load average: %s before, %s after
`, r.Path, r.Policy, r.Concurrency, r.GOMAXPROCS, r.CPUs, r.ObjectBytes, r.IndexObjects,
		r.Requests, r.Seconds, r.ReviewsPerSec, r.CPUPerReview,
		r.MeanMs, r.P50Ms, r.P90Ms, r.P99Ms, r.P999Ms, r.MaxMs, r.Errors, r.LoadBefore, r.LoadAfter)
	return err
}
