package e2ereconcile

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/internal/profile"
)

// benchRepo writes n ConfigMaps (and their Namespace) with value v, one
// file each, as a real repository of generated configuration would hold
// them.
func benchRepo(r *signedRepo, ns string, n, v int) {
	r.WriteFile("apps/namespace.yaml", fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", ns))
	for i := range n {
		r.WriteFile(fmt.Sprintf("apps/cm-%05d.yaml", i), configMapYAML(ns, fmt.Sprintf("cm-%05d", i), strconv.Itoa(v)))
	}
}

// waitApplied polls (every 20 ms, so the poll adds little to a
// measurement of seconds) until commit is applied.
func (c *cluster) waitApplied(b *testing.B, name, commit string, timeout time.Duration) {
	b.Helper()
	err := poll20(b.Context(), timeout, func() (bool, error) {
		gs := &v1alpha1.GitSource{}
		if err := c.client.Get(b.Context(), client.ObjectKey{Name: name}, gs); err != nil {
			return false, err
		}
		return appliedAt(commit)(gs), nil
	})
	if err != nil {
		b.Fatalf("commit %s not applied: %v\n%s", short(commit), err, describeStatus(c.source(b, name)))
	}
}

func poll20(ctx context.Context, timeout time.Duration, f func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		ok, err := f()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// BenchmarkVerifiedCommitTo1000Applied measures issue 5's first benchmark:
// from a push (Trigger) of a signed commit that changes 1,000 ConfigMaps
// to the GitSource reporting that commit applied: fetch, verification of
// the new commit, render, Index, publish, 1,000 server-side applies through
// the envtest API server, prune check and status. Target: 10 s. Each
// iteration commits a new value into every object (outside the timer).
func BenchmarkVerifiedCommitTo1000Applied(b *testing.B) {
	const objects, name, ns = 1000, "bench-apply", "bench-apply"
	c := newCluster(b)
	repo := newSignedRepo(b)
	benchRepo(repo, ns, objects, 0)
	head := repo.Commit("v0", repo.alice)
	ctl := c.startController(b, b.TempDir())
	start := time.Now()
	c.createSource(b, name, repo, func(gs *v1alpha1.GitSource) { gs.Spec.Interval = metav1.Duration{Duration: time.Hour} })
	c.waitApplied(b, name, head, 5*time.Minute)
	firstSync := time.Since(start)

	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		benchRepo(repo, ns, objects, i+1)
		head = repo.Commit(fmt.Sprintf("v%d", i+1), repo.alice)
		b.StartTimer()
		ctl.rec.Trigger(name)
		c.waitApplied(b, name, head, 5*time.Minute)
	}
	b.StopTimer()
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/commit")
	b.ReportMetric(firstSync.Seconds(), "s-first-sync")
}

// BenchmarkIdleControllerWith5000Objects measures the controller at rest
// with 5,000 managed objects: the CPU the whole test process uses over an
// idle window that contains interval syncs (every 10 s, of an unchanged
// head) and the drift watches, and its memory after a GC. Run it with
// -benchtime 1x; each iteration is one 30 s window.
func BenchmarkIdleControllerWith5000Objects(b *testing.B) {
	const objects, name, ns = 5000, "bench-idle", "bench-idle"
	const window = 30 * time.Second
	c := newCluster(b)
	repo := newSignedRepo(b)
	benchRepo(repo, ns, objects, 0)
	head := repo.Commit("v0", repo.alice)
	_ = c.startController(b, b.TempDir())
	start := time.Now()
	c.createSource(b, name, repo, func(gs *v1alpha1.GitSource) { gs.Spec.Interval = metav1.Duration{Duration: 10 * time.Second} })
	c.waitApplied(b, name, head, 10*time.Minute)
	firstSync := time.Since(start)
	// Let the drift watches list and settle before the window opens.
	time.Sleep(5 * time.Second)

	b.ResetTimer()
	var cpu time.Duration
	for range b.N {
		before := profile.CPUTime()
		time.Sleep(window)
		cpu += profile.CPUTime() - before
	}
	b.StopTimer()
	idle := time.Duration(b.N) * window
	b.ReportMetric(float64(cpu.Milliseconds())/idle.Seconds(), "cpu-ms/s")
	heap, rss := memoryAfterGC(b)
	b.ReportMetric(float64(heap)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(rss)/(1<<20), "rss-MiB")
	b.ReportMetric(firstSync.Seconds(), "s-first-sync")
}

// memoryAfterGC returns the live heap (runtime/metrics) and the resident
// set (/proc/self/status VmRSS) after a GC that returns free memory to the
// OS.
func memoryAfterGC(b *testing.B) (heap, rss uint64) {
	b.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	heap = s[0].Value.Uint64()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return heap, kb << 10
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0, 0
}
