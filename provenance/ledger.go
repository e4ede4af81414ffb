package provenance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Checkpoint is what the ledger remembers of a source: the last verified
// head, and under which trust root and mode it was verified. The commit alone
// is enough for the rollback check; TrustRoot and Mode decide whether the
// verifier may also stop its walk there (a head verified in head mode, or from
// another trust root, says nothing about the commits below it).
type Checkpoint struct {
	Commit    string `json:"commit"`
	TrustRoot string `json:"trustRoot,omitempty"`
	Mode      Mode   `json:"mode,omitempty"`
}

// Ledger records the last verified head per source durably. LastVerified
// returns the zero Checkpoint for a source it has never seen. The CLI keeps
// it in a file (FileLedger); the reconciler keeps it in the GitSource's status.
type Ledger interface {
	LastVerified(ctx context.Context, source string) (Checkpoint, error)
	Record(ctx context.Context, source string, c Checkpoint) error
}

var (
	_ Ledger = (*FileLedger)(nil)
	_ Ledger = (*MemoryLedger)(nil)
)

// MemoryLedger is a Ledger in memory, for tests and for callers that persist
// the checkpoint themselves.
type MemoryLedger struct {
	mu sync.Mutex
	m  map[string]Checkpoint
}

func (l *MemoryLedger) LastVerified(_ context.Context, source string) (Checkpoint, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[source], nil
}

func (l *MemoryLedger) Record(_ context.Context, source string, c Checkpoint) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = make(map[string]Checkpoint)
	}
	l.m[source] = c
	return nil
}

// maxLedgerSize caps the state file read: one entry is ~200 bytes, so 4 MiB
// holds every source a CLI user could name.
const maxLedgerSize = 4 << 20

const ledgerVersion = 1

// FileLedger keeps checkpoints in a JSON file, for `gitgate verify --state`.
// Writes go to a temporary file in the same folder that is synced and renamed
// over the old one, so a crash leaves either the old or the new state, never
// a torn file; an advisory lock serializes concurrent writers.
type FileLedger struct {
	path string
	now  func() time.Time
}

// NewFileLedger returns a ledger stored at path. The file need not exist.
func NewFileLedger(path string) *FileLedger {
	return &FileLedger{path: path, now: time.Now}
}

type ledgerFile struct {
	Version int                    `json:"version"`
	Sources map[string]ledgerEntry `json:"sources"`
}

type ledgerEntry struct {
	Checkpoint
	Recorded time.Time `json:"recorded"`
}

func (l *FileLedger) LastVerified(_ context.Context, source string) (Checkpoint, error) {
	f, err := l.read()
	if err != nil {
		return Checkpoint{}, err
	}
	return f.Sources[source].Checkpoint, nil
}

func (l *FileLedger) Record(ctx context.Context, source string, c Checkpoint) error {
	unlock, err := lockDir(ctx, l.path+".lock")
	if err != nil {
		return inputErrorf(ErrLedger, "lock %s: %v", l.path, err)
	}
	defer unlock()
	f, err := l.read()
	if err != nil {
		return err
	}
	f.Sources[source] = ledgerEntry{Checkpoint: c, Recorded: l.now().UTC()}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return inputErrorf(ErrLedger, "encode %s: %v", l.path, err)
	}
	if err := writeFileAtomic(l.path, append(data, '\n')); err != nil {
		return inputErrorf(ErrLedger, "write %s: %v", l.path, err)
	}
	return nil
}

func (l *FileLedger) read() (*ledgerFile, error) {
	empty := &ledgerFile{Version: ledgerVersion, Sources: map[string]ledgerEntry{}}
	fh, err := os.Open(l.path)
	if errors.Is(err, os.ErrNotExist) {
		return empty, nil
	}
	if err != nil {
		return nil, inputErrorf(ErrLedger, "read %s: %v", l.path, err)
	}
	defer func() { _ = fh.Close() }()
	data, err := io.ReadAll(io.LimitReader(fh, maxLedgerSize+1))
	if err != nil {
		return nil, inputErrorf(ErrLedger, "read %s: %v", l.path, err)
	}
	if len(data) > maxLedgerSize {
		return nil, inputErrorf(ErrLedger, "%s is larger than %d bytes", l.path, maxLedgerSize)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return empty, nil
	}
	f, err := decodeLedger(data)
	if err != nil {
		return nil, inputErrorf(ErrLedger, "%s: %v", l.path, err)
	}
	return f, nil
}

// decodeLedger parses a state file strictly: a file we cannot fully
// understand must not silently lose the rollback protection it holds.
func decodeLedger(data []byte) (*ledgerFile, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f ledgerFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("decode state: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decode state: trailing data after the JSON object")
	}
	if f.Version != ledgerVersion {
		return nil, fmt.Errorf("state version %d is not supported (want %d)", f.Version, ledgerVersion)
	}
	if f.Sources == nil {
		f.Sources = map[string]ledgerEntry{}
	}
	for src, e := range f.Sources {
		if _, ok := parseSHA(e.Commit); !ok {
			return nil, fmt.Errorf("source %q: commit %q is not a full SHA", src, e.Commit)
		}
		if e.TrustRoot != "" {
			if _, ok := parseSHA(e.TrustRoot); !ok {
				return nil, fmt.Errorf("source %q: trust root %q is not a full SHA", src, e.TrustRoot)
			}
		}
		if e.Mode != "" {
			if _, err := ParseMode(string(e.Mode)); err != nil {
				return nil, fmt.Errorf("source %q: %w", src, err)
			}
		}
	}
	return &f, nil
}

// writeFileAtomic replaces path with data: temp file, fsync, rename, fsync of
// the folder so the rename itself is durable.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	return d.Sync()
}
