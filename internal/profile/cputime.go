package profile

import (
	"syscall"
	"time"
)

// CPUTime is the user and system CPU time this process has used, for
// benchmarks that report CPU per operation: on a shared machine the wall
// time of an operation includes waiting for a core, its CPU time does not.
// It is 0 where getrusage fails, which it does not for the calling process.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
