package gctune

import (
	"context"
	"math"
	"runtime/debug"
	"testing"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

// current reads the GC percent and the memory limit without changing them.
func current() (percent int, limit int64) {
	percent = debug.SetGCPercent(-1)
	debug.SetGCPercent(percent)
	return percent, debug.SetMemoryLimit(-1)
}

func TestTune(t *testing.T) {
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
	for _, tc := range []struct {
		name    string
		vars    map[string]string
		percent int
		limit   int64
	}{
		{"nothing set", nil, Percent, Floor},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "200MiB"}, Percent, math.MaxInt64},
		{"GOGC set", map[string]string{"GOGC": "100"}, 100, math.MaxInt64},
		{"both set", map[string]string{"GOGC": "100", "GOMEMLIMIT": "200MiB"}, 100, math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			restore := Tune(context.Background(), env(tc.vars))
			percent, limit := current()
			restore()
			if percent != tc.percent || limit != tc.limit {
				t.Errorf("GOGC %d, limit %d; want %d, %d", percent, limit, tc.percent, tc.limit)
			}
			if percent, limit := current(); percent != 100 || limit != math.MaxInt64 {
				t.Errorf("after restore: GOGC %d, limit %d; want 100 and no limit", percent, limit)
			}
		})
	}
}
