package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"gitgate.dev/gitgate/api/v1alpha1"
	"gitgate.dev/gitgate/provenance"
)

// statusLedger is the rollback ledger of one GitSource, kept in its status
// (lastVerifiedCommit, verifiedTrustRoot, verifiedMode) so that it survives
// restarts and is shared by every replica. The leader writes it the moment
// a head is verified, before anything is applied; other replicas only read
// it and remember their own verdicts in memory.
type statusLedger struct {
	reader client.Reader
	// writer is nil on replicas that are not the leader.
	writer client.StatusClient
	name   string
	mem    *checkpointMemory

	// status is what LastVerified read; recorded what Record wrote.
	status   provenance.Checkpoint
	recorded *provenance.Checkpoint
}

var _ provenance.Ledger = (*statusLedger)(nil)

// LastVerified reads the status fresh from the API server. The source
// argument is the GitSource's name, which the ledger already knows.
func (l *statusLedger) LastVerified(ctx context.Context, _ string) (provenance.Checkpoint, error) {
	var gs v1alpha1.GitSource
	if err := l.reader.Get(ctx, client.ObjectKey{Name: l.name}, &gs); err != nil {
		return provenance.Checkpoint{}, fmt.Errorf("read status of gitsource %s: %w", l.name, err)
	}
	l.status = checkpointOf(&gs.Status)
	return l.mem.choose(l.status), nil
}

// Record writes the checkpoint to the status (leader) and remembers it.
func (l *statusLedger) Record(ctx context.Context, _ string, c provenance.Checkpoint) error {
	if c.Mode == "" {
		c.Mode = provenance.ModeFull
	}
	seen := l.status
	if l.writer != nil {
		patch, err := json.Marshal(map[string]any{"status": map[string]any{
			"lastVerifiedCommit": c.Commit,
			"verifiedTrustRoot":  c.TrustRoot,
			"verifiedMode":       string(c.Mode),
		}})
		if err != nil {
			return fmt.Errorf("encode ledger patch: %w", err)
		}
		obj := &v1alpha1.GitSource{}
		obj.Name = l.name
		if err := l.writer.Status().Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
			return fmt.Errorf("write status of gitsource %s: %w", l.name, err)
		}
		seen = c
	}
	l.mem.record(c, seen)
	l.recorded = &c
	return nil
}

func checkpointOf(st *v1alpha1.GitSourceStatus) provenance.Checkpoint {
	return provenance.Checkpoint{
		Commit:    st.LastVerifiedCommit,
		TrustRoot: st.VerifiedTrustRoot,
		Mode:      provenance.Mode(st.VerifiedMode),
	}
}

// checkpointMemory is a replica's own memory of the last head it verified,
// next to the status it saw when it did. Heads on one branch only move
// forward, so the newer of the two checkpoints is the one to hold against
// the next head: if the status changed since this replica recorded, the
// leader has verified something since and the status wins; otherwise this
// replica's own checkpoint is at least as new. An administrator who clears
// the status (to accept a deliberate rewind) changes it too, so clearing
// works on every replica.
type checkpointMemory struct {
	mu       sync.Mutex
	recorded provenance.Checkpoint
	seen     provenance.Checkpoint
}

func (m *checkpointMemory) choose(status provenance.Checkpoint) provenance.Checkpoint {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.recorded.Commit == "" || status != m.seen {
		return status
	}
	return m.recorded
}

func (m *checkpointMemory) record(c, status provenance.Checkpoint) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recorded, m.seen = c, status
}
