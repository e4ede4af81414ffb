package server

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
)

func TestDefaultConfigValid(t *testing.T) {
	cfg := DefaultConfig(nil)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if cfg.Namespace != DefaultNamespace {
		t.Errorf("namespace = %q, want %q", cfg.Namespace, DefaultNamespace)
	}
	cfg = DefaultConfig(func(k string) string {
		if k == "POD_NAMESPACE" {
			return "from-pod"
		}
		return ""
	})
	if cfg.Namespace != "from-pod" {
		t.Errorf("namespace = %q, want POD_NAMESPACE's from-pod", cfg.Namespace)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string // substring of the error; empty: valid
	}{
		{"loopback addresses", func(c *Config) {
			c.WebhookAddr, c.MetricsAddr, c.ReceiverAddr = "127.0.0.1:0", "[::1]:8080", "localhost:9292"
		}, ""},
		{"receiver disabled", func(c *Config) { c.ReceiverAddr = "" }, ""},
		{"files without secret name", func(c *Config) { c.CertSource, c.CertSecret = CertFiles, "" }, ""},
		{"cert hosts", func(c *Config) { c.CertHosts = []string{"127.0.0.1", "::1", "gitgate.example.com", "*.example.com"} }, ""},
		{"no injection", func(c *Config) { c.WebhookConfigName = "" }, ""},
		{"leader election off ignores the id", func(c *Config) { c.LeaderElect, c.LeaderElectionID = false, "" }, ""},
		{"numeric log level", func(c *Config) { c.LogLevel = "4" }, ""},
		{"console logs", func(c *Config) { c.LogFormat = LogConsole }, ""},
		{"audit file", func(c *Config) { c.AuditLog = "/var/log/audit.json" }, ""},

		{"namespace not a label", func(c *Config) { c.Namespace = "Bad_NS" }, `--namespace "Bad_NS"`},
		{"empty namespace", func(c *Config) { c.Namespace = "" }, `--namespace ""`},
		{"address without port", func(c *Config) { c.WebhookAddr = "9443" }, `--webhook-addr "9443": not a host:port`},
		{"port out of range", func(c *Config) { c.MetricsAddr = ":70000" }, `--metrics-addr ":70000": port "70000"`},
		{"named port", func(c *Config) { c.ReceiverAddr = ":http" }, `--receiver-addr ":http"`},
		{"bad host", func(c *Config) { c.WebhookAddr = "a b:1" }, `host "a b"`},
		{"cert source", func(c *Config) { c.CertSource = "vault" }, `--cert-source "vault": must be builtin or files`},
		{"files without folder", func(c *Config) { c.CertSource, c.CertDir = CertFiles, "" }, "--cert-dir"},
		{"bad cert host", func(c *Config) { c.CertHosts = []string{"not a host"} }, "--cert-hosts"},
		{"bad secret", func(c *Config) { c.CertSecret = "UPPER" }, "--cert-secret"},
		{"bad service", func(c *Config) { c.ServiceName = "a.b" }, "--service-name"},
		{"bad config name", func(c *Config) { c.WebhookConfigName = "-x" }, "--webhook-config-name"},
		{"bad lease", func(c *Config) { c.LeaderElectionID = "" }, "--leader-election-id"},
		{"exempt namespace", func(c *Config) { c.ExemptNamespaces = []string{"ok", "NOT_OK"} }, `--exempt-namespaces "NOT_OK"`},
		{"empty exempt user", func(c *Config) { c.ExemptUsers = []string{" "} }, "--exempt-users"},
		{"empty exempt group", func(c *Config) { c.ExemptGroups = []string{""} }, "--exempt-groups"},
		{"concurrency", func(c *Config) { c.ApplyConcurrency = 0 }, "--apply-concurrency"},
		{"zero admission timeout", func(c *Config) { c.AdmissionTimeout = 0 }, `--admission-timeout "0s": must be greater than zero`},
		{"negative shutdown", func(c *Config) { c.ShutdownTimeout = -time.Second }, `--shutdown-timeout "-1s": must be greater than zero`},
		{"admission timeout too long", func(c *Config) { c.AdmissionTimeout = 31 * time.Second }, "at most 30s"},
		{"shutdown shorter than admission", func(c *Config) { c.ShutdownTimeout = 2 * time.Second }, "must be longer than --admission-timeout"},
		{"empty cache", func(c *Config) { c.CacheDir = "" }, "--cache-dir"},
		{"empty audit", func(c *Config) { c.AuditLog = "" }, "--audit-log"},
		{"log level", func(c *Config) { c.LogLevel = "loud" }, `--log-level "loud"`},
		{"log verbosity", func(c *Config) { c.LogLevel = "10" }, `--log-level "10"`},
		{"log format", func(c *Config) { c.LogFormat = "xml" }, `--log-format "xml": must be json or console`},
		{"service account", func(c *Config) { c.ServiceAccount = "" }, "--service-account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig(nil)
			tt.change(&cfg)
			err := cfg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate() = %v, want ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := DefaultConfig(nil)
	cfg.WebhookAddr, cfg.LogFormat, cfg.ApplyConcurrency = "nope", "xml", -1
	err := cfg.Validate()
	for _, flag := range []string{"--webhook-addr", "--log-format", "--apply-concurrency"} {
		if err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("Validate() = %v, want it to name %s", err, flag)
		}
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in   string
		want zapcore.Level
		ok   bool
	}{
		{"debug", zapcore.DebugLevel, true},
		{"INFO", zapcore.InfoLevel, true},
		{"warn", zapcore.WarnLevel, true},
		{"error", zapcore.ErrorLevel, true},
		{"0", zapcore.InfoLevel, true},
		{"3", zapcore.Level(-3), true},
		{"-1", 0, false},
		{"", 0, false},
		{"trace", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseLevel(tt.in)
			if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
				t.Errorf("parseLevel(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestExemptUsersIncludeSelf(t *testing.T) {
	cfg := DefaultConfig(nil)
	cfg.Namespace, cfg.ServiceAccount = "gg", "ctl"
	cfg.ExemptUsers = []string{"admin", "system:serviceaccount:gg:ctl"}
	got := cfg.exemptUsers()
	want := []string{"system:serviceaccount:gg:ctl", "admin"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("exemptUsers() = %q, want %q", got, want)
	}
}

func TestShutdownBudget(t *testing.T) {
	cfg := DefaultConfig(nil)
	if got, want := cfg.drainTimeout(), 4*time.Second; got != want {
		t.Errorf("drainTimeout() = %v, want %v", got, want)
	}
	if got, want := cfg.managerTimeout(), 21*time.Second; got != want {
		t.Errorf("managerTimeout() = %v, want %v", got, want)
	}
	cfg.AdmissionTimeout, cfg.ShutdownTimeout = 3*time.Second, 3500*time.Millisecond
	if got := cfg.drainTimeout() + cfg.managerTimeout(); got > cfg.ShutdownTimeout+time.Second {
		t.Errorf("drain + manager = %v, far over the shutdown timeout %v", got, cfg.ShutdownTimeout)
	}
}
