package receiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Kind is the kind of sender a source's receiver expects.
type Kind string

// The kinds of sender.
const (
	// GitHub signs the body: X-Hub-Signature-256: sha256=<hex HMAC-SHA256>.
	GitHub Kind = "github"
	// GitLab sends the secret itself: X-Gitlab-Token: <secret>.
	GitLab Kind = "gitlab"
	// Generic signs the body: X-Signature: sha256=<hex HMAC-SHA256>.
	Generic Kind = "generic"
)

// Headers the receiver reads.
const (
	GitHubSignatureHeader = "X-Hub-Signature-256"
	GitHubEventHeader     = "X-GitHub-Event"
	GitLabTokenHeader     = "X-Gitlab-Token" //nolint:gosec // the name of a header, not a credential
	SignatureHeader       = "X-Signature"
)

// PathPrefix is the path under which the receiver answers: PathPrefix +
// the GitSource's name.
const PathPrefix = "/hook/"

// maxNameLength is the longest GitSource name: the CRD allows at most 63
// characters, as the name is the value of the gitgate.dev/source label.
const maxNameLength = 63

// DefaultMaxBodyBytes caps a request body. The payload is only a trigger
// and is never parsed, but the HMAC covers all of it, so it must be read
// whole; the cap bounds what an unauthenticated sender can make gitgate
// read and hash before it is refused. Push payloads are small: GitHub's
// push event lists at most 20 commits, which is a few to a few hundred
// KiB even with long file lists, and GitLab's is smaller. A push whose
// payload is larger is answered 413 and the source is still fetched at its
// next interval; Options.MaxBodyBytes raises the cap.
const DefaultMaxBodyBytes int64 = 1 << 20

// ErrNotFound is returned by a Lookup (wrapped) when the source does not
// exist or has no receiver. The handler answers 404.
var ErrNotFound = errors.New("no receiver for this source")

// Config is the receiver of one source.
type Config struct {
	// Kind is the sender.
	Kind Kind
	// Secret is the shared secret: the HMAC key, or the GitLab token. It
	// must not be empty.
	Secret []byte
}

// Options configure the handler. Lookup and Trigger are required.
type Options struct {
	// Lookup returns the receiver config of GitSource name (spec.receiver
	// and the Secret's "token"); an error wrapping ErrNotFound when the
	// source does not exist or has no receiver. SecretLookup builds one.
	// It is called for every request with a valid path, authenticated or
	// not, before the signature is checked, so it should be cheap.
	Lookup func(ctx context.Context, name string) (Config, error)
	// Trigger asks for an immediate fetch of GitSource name. It is called
	// once per accepted request and must not block.
	Trigger func(name string)
	// MaxBodyBytes caps a request body (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// Logger is the base logger; each request gets a child with the
	// source's name. Rejections are logged at V(1), so that unauthenticated
	// senders cannot flood the log.
	Logger logr.Logger
	// Registerer registers gitgate_receiver_requests_total. Nil leaves it
	// unregistered; it is counted all the same.
	Registerer prometheus.Registerer
}

// handler is the receiver's http.Handler.
type handler struct {
	lookup   func(ctx context.Context, name string) (Config, error)
	trigger  func(name string)
	maxBytes int64
	log      logr.Logger
	requests *prometheus.CounterVec
}

var _ http.Handler = (*handler)(nil)

// NewHandler returns the receiver's handler: POST /hook/<name>. It fails
// when Lookup or Trigger is missing or the metric cannot be registered.
func NewHandler(opts Options) (http.Handler, error) {
	if opts.Lookup == nil || opts.Trigger == nil {
		return nil, errors.New("receiver: Options.Lookup and Options.Trigger are required")
	}
	requests, err := newRequestsMetric(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("receiver: register metrics: %w", err)
	}
	h := &handler{lookup: opts.Lookup, trigger: opts.Trigger, maxBytes: opts.MaxBodyBytes, log: opts.Logger, requests: requests}
	if h.maxBytes <= 0 {
		h.maxBytes = DefaultMaxBodyBytes
	}
	if h.log.GetSink() == nil {
		h.log = logr.Discard()
	}
	return h, nil
}

// answer is what the handler replies and counts.
type answer struct {
	code   int
	result string
	// why is logged, never sent: it may name the source's configuration.
	why string
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a := h.safeServe(w, r)
	h.requests.WithLabelValues(a.result).Inc()
	if a.code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(a.code)
	_, _ = io.WriteString(w, messages[a.result]+"\n")
}

// messages are the response bodies, one per result: fixed text, so that a
// response says nothing about the source's configuration.
var messages = map[string]string{
	resultAccepted:         "accepted",
	resultPing:             "pong",
	resultUnauthorized:     "unauthorized",
	resultNotFound:         "not found",
	resultMethodNotAllowed: "method not allowed",
	resultTooLarge:         "request body too large",
	resultBadRequest:       "bad request",
	resultError:            "internal error",
}

// safeServe is serve with the panics of Lookup and Trigger recovered: a
// sender gets 500, never a dropped connection, and the log says where.
func (h *handler) safeServe(w http.ResponseWriter, r *http.Request) (a answer) {
	defer func() {
		if p := recover(); p != nil {
			h.log.Error(fmt.Errorf("panic: %v", p), "recovered a panic in the push receiver", "stack", string(debug.Stack()))
			a = answer{code: http.StatusInternalServerError, result: resultError}
		}
	}()
	return h.serve(w, r)
}

// serve checks one request and triggers the fetch. It writes nothing to w:
// w is only there for http.MaxBytesReader, which closes the connection of
// an oversized request.
func (h *handler) serve(w http.ResponseWriter, r *http.Request) answer {
	if r.Method != http.MethodPost {
		return answer{code: http.StatusMethodNotAllowed, result: resultMethodNotAllowed}
	}
	name, ok := sourceName(r.URL.Path)
	if !ok {
		return answer{code: http.StatusNotFound, result: resultNotFound}
	}
	log := h.log.WithValues("source", name)
	a := h.check(w, r, name)
	switch a.result {
	case resultAccepted:
		h.trigger(name)
		log.Info("push received, fetch triggered")
	case resultPing:
		log.Info("ping received")
	case resultError:
		log.Error(errors.New(a.why), "push receiver failed")
	default:
		log.V(1).Info("push refused", "result", a.result, "why", a.why)
	}
	return a
}

// check authenticates a request for source name.
func (h *handler) check(w http.ResponseWriter, r *http.Request, name string) answer {
	if r.ContentLength > h.maxBytes {
		return answer{code: http.StatusRequestEntityTooLarge, result: resultTooLarge, why: fmt.Sprintf("content length %d over the cap of %d bytes", r.ContentLength, h.maxBytes)}
	}
	cfg, err := h.lookup(r.Context(), name)
	switch {
	case errors.Is(err, ErrNotFound):
		return answer{code: http.StatusNotFound, result: resultNotFound, why: err.Error()}
	case err != nil && r.Context().Err() != nil:
		// The sender hung up during the lookup: its fault, not worth an
		// error in the log (nor a way to fill it).
		return answer{code: http.StatusBadRequest, result: resultBadRequest, why: "the request ended during the lookup: " + err.Error()}
	case err != nil:
		return answer{code: http.StatusInternalServerError, result: resultError, why: "look up the receiver: " + err.Error()}
	}
	v, err := newVerifier(cfg)
	if err != nil {
		return answer{code: http.StatusInternalServerError, result: resultError, why: err.Error()}
	}
	// The body goes straight into the verifier: it is hashed, never kept,
	// so memory stays constant whatever the cap.
	body := http.MaxBytesReader(w, r.Body, h.maxBytes)
	if _, err := io.Copy(v, body); err != nil {
		if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return answer{code: http.StatusRequestEntityTooLarge, result: resultTooLarge, why: fmt.Sprintf("body over the cap of %d bytes", mbe.Limit)}
		}
		return answer{code: http.StatusBadRequest, result: resultBadRequest, why: "read the body: " + err.Error()}
	}
	if why, ok := v.verify(r.Header); !ok {
		return answer{code: http.StatusUnauthorized, result: resultUnauthorized, why: why}
	}
	if cfg.Kind == GitHub && r.Header.Get(GitHubEventHeader) == "ping" {
		return answer{code: http.StatusOK, result: resultPing}
	}
	return answer{code: http.StatusAccepted, result: resultAccepted}
}

// sourceName returns the GitSource name in path /hook/<name>: a DNS-1123
// subdomain of at most 63 characters, so nothing else (no slash, no
// upper case, no dot segment) reaches Lookup or the log.
func sourceName(path string) (string, bool) {
	name, ok := strings.CutPrefix(path, PathPrefix)
	if !ok || name == "" || len(name) > maxNameLength {
		return "", false
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return "", false
	}
	return name, true
}
