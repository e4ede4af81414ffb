package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"gitgate.dev/gitgate/provenance/index"
)

// octopusMapper knows the one irregular plural of the test.
type octopusMapper struct{}

func (octopusMapper) KindFor(r schema.GroupVersionResource) (schema.GroupVersionKind, error) {
	if r.Group == "sea.example.com" && r.Resource == "octopodes" {
		return schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: "Octopus"}, nil
	}
	return schema.GroupVersionKind{}, errors.New("no such resource")
}

// TestSubresourceParentKind: the scale subresource of a custom resource
// whose plural is irregular is resolved to its kind through the Mapper.
func TestSubresourceParentKind(t *testing.T) {
	octopus := map[string]any{
		"apiVersion": "sea.example.com/v1", "kind": "Octopus",
		"metadata": map[string]any{"name": "inky", "namespace": "demo"},
		"spec":     map[string]any{"replicas": int64(8)},
	}
	scale := func() admission.Request {
		s := map[string]any{"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": map[string]any{"name": "inky", "namespace": "demo"}, "spec": map[string]any{"replicas": int64(3)}}
		req := newRequest(t, admissionv1.Update, s, s)
		req.Kind = metav1.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}
		req.Resource = metav1.GroupVersionResource{Group: "sea.example.com", Version: "v1", Resource: "octopodes"}
		req.SubResource = "scale"
		return req
	}
	for _, tc := range []struct {
		name   string
		mapper KindMapper
		reason Reason
	}{
		// Without a mapper the guess (octopuses) misses, and the request
		// is denied rather than let through.
		{"guess", nil, ReasonUnknownKind},
		{"mapper", octopusMapper{}, ReasonNotConforming},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(o *Options) { o.Mapper = tc.mapper })
			b := index.NewBuilder()
			for _, name := range gitFiles {
				if _, err := b.Add(gitObject(t, name), origin(name)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := b.Add(&unstructured.Unstructured{Object: octopus}, origin("octopus")); err != nil {
				t.Fatal(err)
			}
			if err := f.store.Publish(testSource, b.Build()); err != nil {
				t.Fatal(err)
			}
			d := f.decideRequest(t, scale())
			if d.reason != tc.reason {
				t.Fatalf("reason %s, want %s: %s", d.reason, tc.reason, d.message)
			}
			want := map[Reason]string{
				ReasonNotConforming: "Octopus.sea.example.com demo/inky (subresource scale) does not match Git",
				ReasonUnknownKind:   "sea.example.com/octopodes demo/inky (subresource scale): gitgate cannot tell the kind of this resource in managed namespace demo",
			}[tc.reason]
			if !strings.Contains(d.message, want) || (tc.reason == ReasonUnknownKind && strings.Contains(d.message, "pull request")) {
				t.Errorf("message %q, want %q", d.message, want)
			}
		})
	}
}

func TestStart(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Addr = "127.0.0.1:0"; o.ShutdownTimeout = time.Second })
	cert, _ := selfSigned(t)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if err := f.s.Start(ctx, &tls.Config{Certificates: []tls.Certificate{cert}}); err != nil {
		t.Fatalf("Start: %v", err)
	}
	f2 := newFixture(t, func(o *Options) { o.Addr = "256.0.0.1:1" })
	if err := f2.s.Start(t.Context(), &tls.Config{Certificates: []tls.Certificate{cert}}); err == nil {
		t.Fatal("Start on an impossible address succeeded")
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdefghij", 8, "abcde…"},
		{"ééééé", 6, "é…"}, // é is two bytes; the cut never splits it
	} {
		got := truncate(tc.in, tc.n)
		if got != tc.want || len(got) > tc.n || !utf8.ValidString(got) {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
