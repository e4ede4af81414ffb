package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestNewLogger(t *testing.T) {
	tests := []struct {
		name, level, format string
		wantV1, wantJSON    bool
	}{
		{"json info", "info", LogJSON, false, true},
		{"json debug", "debug", LogJSON, true, true},
		{"json verbosity 2", "2", LogJSON, true, true},
		{"console", "info", LogConsole, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig(nil)
			cfg.LogLevel, cfg.LogFormat = tt.level, tt.format
			var buf bytes.Buffer
			log, err := NewLogger(cfg, &buf)
			if err != nil {
				t.Fatal(err)
			}
			log.Info("hello", "source", "demo")
			log.V(1).Info("detail")
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if got := strings.Contains(buf.String(), "detail"); got != tt.wantV1 {
				t.Errorf("V(1) logged = %v, want %v:\n%s", got, tt.wantV1, buf.String())
			}
			var rec map[string]any
			isJSON := json.Unmarshal([]byte(lines[0]), &rec) == nil
			if isJSON != tt.wantJSON {
				t.Fatalf("first line JSON = %v, want %v: %q", isJSON, tt.wantJSON, lines[0])
			}
			if tt.wantJSON && (rec["msg"] != "hello" || rec["source"] != "demo" || rec["level"] != "info") {
				t.Errorf("record = %v, want msg hello, source demo, level info", rec)
			}
		})
	}
}

func TestNewLoggerRejectsBadValues(t *testing.T) {
	for _, change := range []func(*Config){
		func(c *Config) { c.LogLevel = "shout" },
		func(c *Config) { c.LogFormat = "yaml" },
	} {
		cfg := DefaultConfig(nil)
		change(&cfg)
		if _, err := NewLogger(cfg, &bytes.Buffer{}); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("NewLogger(%s, %s) = %v, want ErrInvalidConfig", cfg.LogLevel, cfg.LogFormat, err)
		}
	}
}

func TestLoadRESTConfigMissingFile(t *testing.T) {
	_, err := LoadRESTConfig(t.TempDir() + "/absent")
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "absent") {
		t.Errorf("LoadRESTConfig(absent) = %v, want ErrInvalidConfig naming the file", err)
	}
}
