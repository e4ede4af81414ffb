package vm

import (
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// TestPutStateReleasesFrames: an evaluation that ends in an error returns
// without popping the frames of the calls it was in; the state goes back
// to the pool with its stack empty, holding no values.
func TestPutStateReleasesFrames(t *testing.T) {
	s := getState(&Program{})
	f := s.push(8)
	f[3] = ast.StringTerm("input")
	g := s.push(4)
	g[0] = ast.StringTerm("document")
	putState(s)
	if s.sp != 0 {
		t.Errorf("stack pointer %d after putState, want 0", s.sp)
	}
	for i, v := range s.stack[:12] {
		if v != nil {
			t.Errorf("slot %d still holds %v", i, v)
		}
	}
}
