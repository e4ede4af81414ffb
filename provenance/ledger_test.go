package provenance

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const (
	shaA = "1111111111111111111111111111111111111111"
	shaB = "2222222222222222222222222222222222222222"
)

func TestFileLedgerRoundTrip(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "state.json")
	l := NewFileLedger(path)
	got, err := l.LastVerified(ctx, "repo#main")
	if err != nil || got != (Checkpoint{}) {
		t.Fatalf("LastVerified on a missing file = %+v, %v", got, err)
	}
	cp := Checkpoint{Commit: shaA, TrustRoot: shaB, Mode: ModeFull}
	if err := l.Record(ctx, "repo#main", cp); err != nil {
		t.Fatal(err)
	}
	if err := l.Record(ctx, "other#main", Checkpoint{Commit: shaB}); err != nil {
		t.Fatal(err)
	}
	// A fresh ledger on the same file sees both sources.
	l2 := NewFileLedger(path)
	if got, err := l2.LastVerified(ctx, "repo#main"); err != nil || got != cp {
		t.Errorf("LastVerified = %+v, %v; want %+v", got, err, cp)
	}
	if got, _ := l2.LastVerified(ctx, "other#main"); got.Commit != shaB {
		t.Errorf("other source = %+v", got)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("state file mode %v is readable by others", fi.Mode())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestFileLedgerConcurrentWriters(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "state.json")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			src := string(rune('a' + i))
			if err := NewFileLedger(path).Record(ctx, src, Checkpoint{Commit: shaA}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var f ledgerFile
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Sources) != 8 {
		t.Errorf("%d sources recorded, want 8 (a writer lost another's update)", len(f.Sources))
	}
}

func TestFileLedgerMalformed(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"not json", "{", "decode state"},
		{"unknown field", `{"version":1,"sources":{},"extra":1}`, "unknown field"},
		{"wrong version", `{"version":2,"sources":{}}`, "version 2"},
		{"short sha", `{"version":1,"sources":{"s":{"commit":"abc"}}}`, "not a full SHA"},
		{"bad root", `{"version":1,"sources":{"s":{"commit":"` + shaA + `","trustRoot":"x"}}}`, "trust root"},
		{"bad mode", `{"version":1,"sources":{"s":{"commit":"` + shaA + `","mode":"some"}}}`, "mode"},
		{"trailing", `{"version":1,"sources":{}} {}`, "trailing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := NewFileLedger(path).LastVerified(t.Context(), "s")
			if !errors.Is(err, ErrLedger) || !IsInputError(err) {
				t.Fatalf("LastVerified = %v, want an input ErrLedger", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			// A corrupt state is never overwritten: its protection would be lost.
			if err := NewFileLedger(path).Record(t.Context(), "s", Checkpoint{Commit: shaA}); err == nil {
				t.Error("Record overwrote a corrupt state file")
			}
		})
	}
}

func TestFileLedgerEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := NewFileLedger(path).LastVerified(t.Context(), "s"); err != nil || got.Commit != "" {
		t.Errorf("empty file: %+v, %v", got, err)
	}
}

func FuzzDecodeLedger(f *testing.F) {
	f.Add([]byte(`{"version":1,"sources":{"s":{"commit":"` + shaA + `","trustRoot":"` + shaB + `","mode":"full","recorded":"2024-01-01T00:00:00Z"}}}`))
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		lf, err := decodeLedger(data)
		if err != nil {
			return
		}
		for src, e := range lf.Sources {
			if _, ok := parseSHA(e.Commit); !ok {
				t.Fatalf("source %q accepted with commit %q", src, e.Commit)
			}
		}
	})
}
