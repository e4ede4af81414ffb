package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"

	"gitgate.dev/gitgate/cmd/gitgate/internal/server"
)

// serveRun runs `gitgate serve args` with env as the environment and a
// fake server that records the Config it gets (ran is false when the
// command stopped before starting the server).
type serveRun struct {
	code    int
	stderr  string
	cfg     server.Config
	ran     bool
	restCfg *rest.Config
}

func runServeCmd(t *testing.T, env map[string]string, runErr error, args ...string) serveRun {
	t.Helper()
	var r serveRun
	deps := serveDeps{
		lookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		restConfig: func(kubeconfig string) (*rest.Config, error) {
			if kubeconfig == "/absent" {
				return nil, fmt.Errorf("%w: kubeconfig %s: no such file", server.ErrInvalidConfig, kubeconfig)
			}
			return &rest.Config{Host: "https://api.example:6443"}, nil
		},
		run: func(_ context.Context, cfg server.Config, restCfg *rest.Config, _ logr.Logger) error {
			r.ran, r.cfg, r.restCfg = true, cfg, restCfg
			return runErr
		},
	}
	var out, errb bytes.Buffer
	s := Streams{In: strings.NewReader(""), Out: &out, Err: &errb}
	root := NewRootCommand(s)
	// Swap the real serve command for one with the fake dependencies.
	for _, c := range root.Commands() {
		if c.Name() == "serve" {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(newServeCommandWith(s, deps))
	root.SetArgs(append([]string{"serve"}, args...))
	r.code = exitCode(root.ExecuteContext(t.Context()), s)
	r.stderr = errb.String()
	return r
}

// exitCode maps a command's error to the exit code as Run does.
func exitCode(err error, s Streams) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if !errors.As(err, &ee) {
		ee = &ExitError{Code: exitUnknown, Err: err}
	}
	if ee.Err != nil {
		fmt.Fprintf(s.Err, "gitgate: %v\n", ee.Err)
	}
	return ee.Code
}

func TestServeDefaults(t *testing.T) {
	r := runServeCmd(t, nil, nil)
	if r.code != ExitOK || !r.ran {
		t.Fatalf("exit %d, ran %v, stderr %q", r.code, r.ran, r.stderr)
	}
	want := server.DefaultConfig(nil)
	got := r.cfg
	if got.Namespace != want.Namespace || got.WebhookAddr != ":9443" || got.MetricsAddr != ":8080" ||
		got.ReceiverAddr != ":9292" || got.CertSource != server.CertBuiltin || !got.LeaderElect ||
		got.AdmissionTimeout != 3*time.Second || got.ShutdownTimeout != 25*time.Second ||
		got.ApplyConcurrency != 8 || got.LogFormat != "json" || got.CertSecret != "gitgate-webhook-tls" ||
		got.WebhookConfigName != "gitgate" || got.LeaderElectionID != "gitgate-leader" || got.CacheDir != "/var/cache/gitgate" {
		t.Errorf("config = %+v, want the contract's defaults", got)
	}
	if r.restCfg == nil || r.restCfg.Host != "https://api.example:6443" {
		t.Errorf("rest config = %+v", r.restCfg)
	}
}

func TestServeFlagsAndEnv(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		check func(t *testing.T, c server.Config)
	}{
		{"flags", nil, []string{
			"--namespace", "gg", "--webhook-addr", "127.0.0.1:0", "--cert-source", "files", "--cert-dir", "/certs",
			"--exempt-users", "alice,bob", "--exempt-groups", "system:masters", "--leader-elect=false",
			"--admission-timeout", "2s", "--shutdown-timeout", "10s", "--apply-concurrency", "3", "--log-format", "console",
		}, func(t *testing.T, c server.Config) {
			if c.Namespace != "gg" || c.WebhookAddr != "127.0.0.1:0" || c.CertSource != server.CertFiles || c.CertDir != "/certs" ||
				!slices.Equal(c.ExemptUsers, []string{"alice", "bob"}) || !slices.Equal(c.ExemptGroups, []string{"system:masters"}) ||
				c.LeaderElect || c.AdmissionTimeout != 2*time.Second || c.ShutdownTimeout != 10*time.Second ||
				c.ApplyConcurrency != 3 || c.LogFormat != "console" {
				t.Errorf("config = %+v", c)
			}
		}},
		{"environment", map[string]string{
			"GITGATE_NAMESPACE": "from-env", "GITGATE_ADMISSION_TIMEOUT": "1500ms", "GITGATE_LEADER_ELECT": "false",
			"GITGATE_EXEMPT_NAMESPACES": "a,b", "GITGATE_CERT_SOURCE": "files", "GITGATE_APPLY_CONCURRENCY": "2",
		}, nil, func(t *testing.T, c server.Config) {
			if c.Namespace != "from-env" || c.AdmissionTimeout != 1500*time.Millisecond || c.LeaderElect ||
				!slices.Equal(c.ExemptNamespaces, []string{"a", "b"}) || c.CertSource != server.CertFiles || c.ApplyConcurrency != 2 {
				t.Errorf("config = %+v", c)
			}
		}},
		{"the command line wins over the environment", map[string]string{"GITGATE_NAMESPACE": "from-env", "GITGATE_LOG_LEVEL": "debug"},
			[]string{"--namespace", "from-flag"}, func(t *testing.T, c server.Config) {
				if c.Namespace != "from-flag" || c.LogLevel != "debug" {
					t.Errorf("namespace %q, log level %q; want from-flag and debug", c.Namespace, c.LogLevel)
				}
			}},
		{"POD_NAMESPACE is the default namespace", map[string]string{"POD_NAMESPACE": "pod-ns"}, nil,
			func(t *testing.T, c server.Config) {
				if c.Namespace != "pod-ns" {
					t.Errorf("namespace = %q, want pod-ns", c.Namespace)
				}
			}},
		{"GITGATE_NAMESPACE wins over POD_NAMESPACE", map[string]string{"POD_NAMESPACE": "pod-ns", "GITGATE_NAMESPACE": "gg"}, nil,
			func(t *testing.T, c server.Config) {
				if c.Namespace != "gg" {
					t.Errorf("namespace = %q, want gg", c.Namespace)
				}
			}},
		{"an empty variable disables the receiver", map[string]string{"GITGATE_RECEIVER_ADDR": ""}, nil,
			func(t *testing.T, c server.Config) {
				if c.ReceiverAddr != "" {
					t.Errorf("receiver addr = %q, want empty", c.ReceiverAddr)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runServeCmd(t, tt.env, nil, tt.args...)
			if r.code != ExitOK || !r.ran {
				t.Fatalf("exit %d, ran %v, stderr %q", r.code, r.ran, r.stderr)
			}
			tt.check(t, r.cfg)
		})
	}
}

func TestServeUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown flag", nil, []string{"--nope"}, "unknown flag: --nope"},
		{"extra argument", nil, []string{"now"}, `unknown command "now"`},
		{"bad duration", nil, []string{"--admission-timeout", "soon"}, `invalid argument "soon" for "--admission-timeout"`},
		{"zero duration", nil, []string{"--shutdown-timeout", "0s"}, `--shutdown-timeout "0s": must be greater than zero`},
		{"bad cert source", nil, []string{"--cert-source", "vault"}, `--cert-source "vault": must be builtin or files`},
		{"bad log format", nil, []string{"--log-format", "xml"}, `--log-format "xml": must be json or console`},
		{"bad log level", nil, []string{"--log-level", "loud"}, `--log-level "loud"`},
		{"bad address", nil, []string{"--metrics-addr", "8080"}, `--metrics-addr "8080"`},
		{"bad namespace", nil, []string{"--namespace", "Not_A_Label"}, `--namespace "Not_A_Label"`},
		{"bad exempt namespace", nil, []string{"--exempt-namespaces", "ok,-bad"}, `--exempt-namespaces "-bad"`},
		{"bad env duration", map[string]string{"GITGATE_ADMISSION_TIMEOUT": "3 seconds"}, nil,
			`environment variable GITGATE_ADMISSION_TIMEOUT: invalid value "3 seconds" for --admission-timeout`},
		{"bad env bool", map[string]string{"GITGATE_LEADER_ELECT": "maybe"}, nil, "environment variable GITGATE_LEADER_ELECT"},
		{"bad env int", map[string]string{"GITGATE_APPLY_CONCURRENCY": "many"}, nil, "environment variable GITGATE_APPLY_CONCURRENCY"},
		{"bad env enum", map[string]string{"GITGATE_CERT_SOURCE": "vault"}, nil, `environment variable GITGATE_CERT_SOURCE: --cert-source "vault"`},
		{"bad env address", map[string]string{"GITGATE_WEBHOOK_ADDR": "nowhere"}, nil, `environment variable GITGATE_WEBHOOK_ADDR: --webhook-addr "nowhere"`},
		{"bad env namespace list", map[string]string{"GITGATE_EXEMPT_NAMESPACES": "ok,Bad"}, nil, `environment variable GITGATE_EXEMPT_NAMESPACES: --exempt-namespaces "Bad"`},
		{"missing kubeconfig", nil, []string{"--kubeconfig", "/absent"}, "kubeconfig /absent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runServeCmd(t, tt.env, nil, tt.args...)
			if r.code != ExitUsage {
				t.Errorf("exit code = %d, want %d (stderr %q)", r.code, ExitUsage, r.stderr)
			}
			if r.ran {
				t.Error("the server ran despite the usage error")
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, tt.want)
			}
		})
	}
}

func TestServeRunErrors(t *testing.T) {
	r := runServeCmd(t, nil, fmt.Errorf("%w: --audit-log: permission denied", server.ErrInvalidConfig))
	if r.code != ExitUsage || !strings.Contains(r.stderr, "--audit-log") {
		t.Errorf("configuration error from Run: exit %d, stderr %q; want 2", r.code, r.stderr)
	}
	r = runServeCmd(t, nil, errors.New("controller manager: leader election lost"))
	if r.code != ExitFailed || !strings.Contains(r.stderr, "leader election lost") {
		t.Errorf("runtime failure: exit %d, stderr %q; want 1", r.code, r.stderr)
	}
}

func TestServeHelpNamesEnvironment(t *testing.T) {
	cmd := newServeCommand(Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &bytes.Buffer{}})
	for _, flag := range []string{"admission-timeout", "webhook-addr", "exempt-groups", "kubeconfig"} {
		f := cmd.Flags().Lookup(flag)
		if f == nil {
			t.Fatalf("no --%s flag", flag)
		}
		if want := "$" + envName(flag); !strings.Contains(f.Usage, want) {
			t.Errorf("--%s usage %q does not name %s", flag, f.Usage, want)
		}
	}
}

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{
		"namespace": "GITGATE_NAMESPACE", "admission-timeout": "GITGATE_ADMISSION_TIMEOUT", "leader-election-id": "GITGATE_LEADER_ELECTION_ID",
	} {
		if got := envName(in); got != want {
			t.Errorf("envName(%q) = %q, want %q", in, got, want)
		}
	}
}
