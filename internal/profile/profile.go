// Package profile writes Go CPU profiles for the commands that offer a
// --cpuprofile flag (gitgate check and the webhook load benchmark), so both
// start and stop a profile the same way, and reads the process's CPU time
// for the benchmarks that report CPU per operation.
package profile

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// StartCPU profiles the process into the file name for `go tool pprof`; the
// returned function stops the profile and closes the file.
func StartCPU(name string) (stop func(), err error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close() // a truncated profile is the only loss
	}, nil
}
