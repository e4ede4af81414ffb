package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"runtime/debug"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	kjson "sigs.k8s.io/json"
)

// The AdmissionReview versions the server reads. They have the same shape;
// the answer carries the version of the question.
const (
	reviewV1      = "admission.k8s.io/v1"
	reviewV1beta1 = "admission.k8s.io/v1beta1"
	reviewKind    = "AdmissionReview"
)

// reviewEnvelope is an AdmissionReview as it arrives.
type reviewEnvelope struct {
	APIVersion string                        `json:"apiVersion"`
	Kind       string                        `json:"kind"`
	Request    *admissionv1.AdmissionRequest `json:"request"`
	// objects are the request's objects when fastReview decoded them.
	objects *requestObjects
}

// serveAdmission answers AdmissionReviews for one webhook. Every answer the
// server can form is an AdmissionReview with HTTP 200, including errors
// (400 for a malformed review, 413 for an oversized one, 415 for another
// content type, 500 for a failure): the API server then rejects the
// request with that status whatever the configuration's failurePolicy
// says, where an HTTP error would let failurePolicy Ignore admit it.
func (s *Server) serveAdmission(hook webhookKind) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, hr *http.Request) {
		start := time.Now()
		apiVersion := reviewV1
		defer func() {
			if p := recover(); p != nil {
				s.metrics.panics.Inc()
				s.log.Error(fmt.Errorf("panic: %v", p), "recovered a panic while reading an admission request", "stack", string(debug.Stack()))
				s.metrics.requests.WithLabelValues(otherLabel, otherLabel, decisionErrored, string(ReasonInternal)).Inc()
				writeReview(w, apiVersion, "", admission.Errored(http.StatusInternalServerError, errors.New("internal error in gitgate's admission webhook")))
			}
			s.metrics.duration.WithLabelValues(string(hook)).Observe(time.Since(start).Seconds())
		}()
		env, code, err := s.readReview(w, hr)
		if env != nil && env.APIVersion == reviewV1beta1 {
			apiVersion = reviewV1beta1
		}
		if err != nil {
			s.log.Info("bad admission review", "webhook", string(hook), "status", code, "error", err.Error())
			s.metrics.requests.WithLabelValues(otherLabel, otherLabel, decisionErrored, string(ReasonBadRequest)).Inc()
			var uid types.UID
			if env != nil && env.Request != nil {
				uid = env.Request.UID
			}
			writeReview(w, apiVersion, uid, admission.Errored(code, err))
			return
		}
		ctx, cancel := context.WithTimeout(hr.Context(), s.requestTimeout(hr))
		defer cancel()
		resp := s.handle(ctx, hook, env.Request, env.objects)
		writeReview(w, apiVersion, env.Request.UID, resp)
	})
}

// readReview reads, caps and decodes the body. On error it returns the
// HTTP status for the error response and, when the body parsed that far,
// the envelope (so the answer can carry the request's UID and version).
func (s *Server) readReview(w http.ResponseWriter, hr *http.Request) (*reviewEnvelope, int32, error) {
	if ct := hr.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, http.StatusUnsupportedMediaType, fmt.Errorf("content type %q, want application/json", ct)
		}
	} else {
		return nil, http.StatusUnsupportedMediaType, errors.New("no content type, want application/json")
	}
	if hr.ContentLength > s.maxBytes {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("request body of %d bytes exceeds the limit of %d", hr.ContentLength, s.maxBytes)
	}
	body, err := readBody(http.MaxBytesReader(w, hr.Body, s.maxBytes), hr.ContentLength)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("request body exceeds the limit of %d bytes", s.maxBytes)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("read request body: %w", err)
	}
	env, err := decodeReview(body, s.manifest)
	if err != nil {
		return env, http.StatusBadRequest, err
	}
	return env, http.StatusOK, nil
}

// readBody reads r to its end. The API server sends a Content-Length, so
// the buffer is made once at the body's size (with room for the read that
// finds the end), where io.ReadAll would grow it from 512 bytes, copying a
// 20 KB review about ten times.
func readBody(r io.Reader, contentLength int64) ([]byte, error) {
	if contentLength <= 0 {
		return io.ReadAll(r)
	}
	buf := bytes.NewBuffer(make([]byte, 0, contentLength+bytes.MinRead))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// decodeReview decodes an AdmissionReview body. Field names are matched
// case-sensitively, as the API server does, so that a second "Request" or
// "Object" cannot shadow the real one. On a decode error it still returns
// what it could read of the envelope, for the UID. A review as the API
// server sends it takes fastReview's one pass, which decodes the objects
// too (like manifest's answer, see fastReview); anything else, malformed
// bodies included, sigs.k8s.io/json's general decoder, and the objects
// are decoded later, by parseReview.
func decodeReview(body []byte, manifest func(*admissionv1.AdmissionRequest) map[string]any) (*reviewEnvelope, error) {
	if len(body) == 0 {
		return nil, errors.New("empty request body")
	}
	env, ok := fastReview(body, manifest)
	if !ok {
		env = &reviewEnvelope{}
		if err := kjson.UnmarshalCaseSensitivePreserveInts(body, env); err != nil {
			return partialEnvelope(body), fmt.Errorf("decode AdmissionReview: %w", err)
		}
	}
	switch {
	case env.Kind != reviewKind || (env.APIVersion != reviewV1 && env.APIVersion != reviewV1beta1):
		return nil, fmt.Errorf("got apiVersion %q kind %q, want %s or %s %s", env.APIVersion, env.Kind, reviewV1, reviewV1beta1, reviewKind)
	case env.Request == nil:
		return env, errors.New("AdmissionReview without a request")
	}
	return env, nil
}

// partialEnvelope reads only the version and UID of a body that does not
// decode as a whole (a wrongly typed field deeper in), so that the error
// response can name the request.
func partialEnvelope(body []byte) *reviewEnvelope {
	var p struct {
		APIVersion string `json:"apiVersion"`
		Request    struct {
			UID types.UID `json:"uid"`
		} `json:"request"`
	}
	if kjson.UnmarshalCaseSensitivePreserveInts(body, &p) != nil {
		return nil
	}
	return &reviewEnvelope{APIVersion: p.APIVersion, Request: &admissionv1.AdmissionRequest{UID: p.Request.UID}}
}

// requestTimeout bounds the work on one request by Options.Timeout and by
// the API server's own timeout (the timeout query parameter), less a tenth
// so that a denial for running out of time still reaches the API server
// before it gives up.
func (s *Server) requestTimeout(hr *http.Request) time.Duration {
	d := s.timeout
	if q := hr.URL.Query().Get("timeout"); q != "" {
		if t, err := time.ParseDuration(q); err == nil && t > 0 && t < d {
			d = t
		}
	}
	return d - d/10
}

// writeReview writes resp as an AdmissionReview of apiVersion answering
// the request uid.
func writeReview(w http.ResponseWriter, apiVersion string, uid types.UID, resp admission.Response) {
	if err := resp.Complete(admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{UID: uid}}); err != nil {
		resp = admission.Errored(http.StatusInternalServerError, fmt.Errorf("encode patch: %w", err))
		resp.UID = uid
	}
	out := admissionv1.AdmissionReview{Response: &resp.AdmissionResponse}
	out.APIVersion, out.Kind = apiVersion, reviewKind
	body, err := json.Marshal(out)
	if err != nil {
		http.Error(w, "encode AdmissionReview response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}
