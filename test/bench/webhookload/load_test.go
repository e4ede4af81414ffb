package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestRun drives the server briefly and checks the report: reviews were
// answered, none failed, the percentiles are ordered. It proves the
// generator measures allowed answers (every answer is checked), not what
// the numbers are.
func TestRun(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"validate with the library", []string{"-c", "2", "-d", "300ms", "-warmup", "0", "-namespaces", "3", "-json"}},
		{"mutate", []string{"-c", "2", "-d", "200ms", "-warmup", "0", "-namespaces", "3", "-path", "mutate", "-json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(t.Context(), tt.args, &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			var r report
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				t.Fatalf("report %q: %v", out.String(), err)
			}
			if r.Requests == 0 || r.Errors != 0 || r.ReviewsPerSec <= 0 {
				t.Errorf("report %+v: want answered reviews and no errors", r)
			}
			if !(r.P50Ms <= r.P90Ms && r.P90Ms <= r.P99Ms && r.P99Ms <= r.MaxMs) {
				t.Errorf("percentiles out of order: %+v", r)
			}
			if r.ObjectBytes < 8000 || r.IndexObjects != 2+4*3 {
				t.Errorf("object %d bytes, Index of %d objects: want about 10 KB and 14", r.ObjectBytes, r.IndexObjects)
			}
		})
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown path", []string{"-path", "other"}, "want validate or mutate"},
		{"no clients", []string{"-c", "0"}, "must be positive"},
		{"argument", []string{"extra"}, "unexpected arguments"},
		{"unknown flag", []string{"-x"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(t.Context(), tt.args, &out, &errOut); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("stderr %q, want %q", errOut.String(), tt.want)
			}
		})
	}
}
