package provenance_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gitgate.dev/gitgate/internal/profile"
	"gitgate.dev/gitgate/provenance"
	"gitgate.dev/gitgate/provenance/internal/benchrepo"
)

// benchCommits is the history length the targets are stated for.
const benchCommits = 10_000

var (
	benchDirOnce sync.Once
	benchDir     string
	benchDirErr  error
	benchMu      sync.Mutex
	benchRepos   = map[string]*benchrepo.Repo{}
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		_ = os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// benchHistory generates (once per process and key) a signed history of
// benchCommits commits; generation is in-process and takes seconds.
func benchHistory(b *testing.B, format benchrepo.Format, key string) *benchrepo.Repo {
	b.Helper()
	benchDirOnce.Do(func() { benchDir, benchDirErr = os.MkdirTemp("", "gitgate-bench-") })
	if benchDirErr != nil {
		b.Fatal(benchDirErr)
	}
	benchMu.Lock()
	defer benchMu.Unlock()
	name := string(format) + "-" + key
	if r, ok := benchRepos[name]; ok {
		return r
	}
	r, err := benchrepo.Generate(b.Context(), benchrepo.Options{Dir: filepath.Join(benchDir, name), Commits: benchCommits, Format: format, Repack: true})
	if err != nil {
		b.Fatal(err)
	}
	benchRepos[name] = r
	return r
}

// BenchmarkVerifyFull verifies a 10,000-commit history from scratch each
// iteration: open the repository, a new Verifier (no cached verdicts), every
// commit's signature, policy and tree diff. Run with -cpu 1 for the
// one-core figure; ns/commit is the per-commit cost.
func BenchmarkVerifyFull(b *testing.B) {
	for _, format := range []benchrepo.Format{benchrepo.SSH, benchrepo.OpenPGP} {
		b.Run(string(format), func(b *testing.B) {
			r := benchHistory(b, format, "full")
			cpu0 := int64(profile.CPUTime())
			for b.Loop() {
				snap := verifyBench(b, r, nil)
				if len(snap.Commits) != benchCommits {
					b.Fatalf("%d commits checked", len(snap.Commits))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchCommits), "ns/commit")
			reportCPU(b, cpu0, benchCommits, "cpu-µs/commit")
		})
	}
}

// BenchmarkReverifyOneNewCommit is the incremental case: the ledger holds
// the previous head, one signed commit arrived (as loose objects, as a fetch
// leaves them); a new process opens the repository and verifies.
func BenchmarkReverifyOneNewCommit(b *testing.B) {
	for _, format := range []benchrepo.Format{benchrepo.SSH, benchrepo.OpenPGP} {
		b.Run(string(format), func(b *testing.B) {
			r := benchHistory(b, format, "reverify")
			prev := r.Head
			if _, err := r.Append(); err != nil {
				b.Fatal(err)
			}
			cpu0 := int64(profile.CPUTime())
			for b.Loop() {
				ledger := &provenance.MemoryLedger{}
				cp := provenance.Checkpoint{Commit: prev, TrustRoot: r.TrustRoot, Mode: provenance.ModeFull}
				if err := ledger.Record(b.Context(), "bench", cp); err != nil {
					b.Fatal(err)
				}
				snap := verifyBench(b, r, ledger)
				if len(snap.Commits) != 1 {
					b.Fatalf("%d commits checked, want 1", len(snap.Commits))
				}
			}
			reportCPU(b, cpu0, 1, "cpu-µs/op")
		})
	}
}

// reportCPU reports the process's CPU time (user + system, all threads:
// with -cpu 1 that is one core's work, GC included) since cpu0, per unit
// of work in microseconds, and the machine's one-minute load average at the
// end: on a shared machine CPU time is steadier than wall time, and the load
// says how much the figures can be trusted.
func reportCPU(b *testing.B, cpu0 int64, perOp int, unit string) {
	b.Helper()
	b.ReportMetric(float64(int64(profile.CPUTime())-cpu0)/1e3/float64(b.N*perOp), unit)
	if load, ok := loadAverage(); ok {
		b.ReportMetric(load, "load1")
	}
}

// loadAverage is the one-minute load average from /proc/loadavg (Linux).
func loadAverage() (float64, bool) {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, false
	}
	field, _, _ := strings.Cut(string(data), " ")
	load, err := strconv.ParseFloat(field, 64)
	return load, err == nil
}

// BenchmarkEd25519Baseline is one bare Ed25519 signature check (the
// primitive under both the SSH and the OpenPGP histories' signatures), as a
// yardstick measured in the same run: on a shared machine the ratio of
// cpu-ns/commit to this is steadier than either figure.
func BenchmarkEd25519Baseline(b *testing.B) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 300) // a commit object's size
	sig := ed25519.Sign(priv, msg)
	cpu0 := int64(profile.CPUTime())
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("bad signature")
		}
	}
	reportCPU(b, cpu0, 1, "cpu-µs/op")
}

func verifyBench(b *testing.B, r *benchrepo.Repo, ledger provenance.Ledger) *provenance.Snapshot {
	b.Helper()
	repo, err := provenance.Open(r.Dir)
	if err != nil {
		b.Fatal(err)
	}
	defer repo.Close()
	snap, err := provenance.NewVerifier(provenance.Options{}).Verify(b.Context(), repo, provenance.Request{
		Source: "bench", Branch: "main", TrustRoot: r.TrustRoot, Ledger: ledger,
	})
	if err != nil {
		b.Fatal(err)
	}
	if !snap.Verified {
		b.Fatalf("not verified: %s", fmt.Sprint(snap.Failures()))
	}
	return snap
}
