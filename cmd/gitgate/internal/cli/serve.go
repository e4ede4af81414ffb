package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"

	"gitgate.dev/gitgate/cmd/gitgate/internal/server"
	"gitgate.dev/gitgate/internal/gctune"
)

// envPrefix starts the environment variable of every flag of the commands
// that read their flags from the environment: --admission-timeout is
// GITGATE_ADMISSION_TIMEOUT.
const envPrefix = "GITGATE_"

// serveDeps are what `gitgate serve` needs from the outside world, so tests
// can run the command without a cluster.
type serveDeps struct {
	lookupEnv  func(string) (string, bool)
	restConfig func(kubeconfig string) (*rest.Config, error)
	run        func(ctx context.Context, cfg server.Config, restCfg *rest.Config, log logr.Logger) error
	// setGlobalLogger routes the logs of controller-runtime and client-go,
	// which use process-wide loggers, through log.
	setGlobalLogger func(log logr.Logger)
}

func newServeCommand(s Streams) *cobra.Command {
	return newServeCommandWith(s, serveDeps{
		lookupEnv:  os.LookupEnv,
		restConfig: server.LoadRESTConfig,
		run:        server.Run,
		setGlobalLogger: func(log logr.Logger) {
			ctrl.SetLogger(log)
			klog.SetLogger(log)
		},
	})
}

func newServeCommandWith(s Streams, deps serveDeps) *cobra.Command {
	getenv := func(k string) string { v, _ := deps.lookupEnv(k); return v }
	cfg := server.DefaultConfig(getenv)
	certSource := string(cfg.CertSource)
	cmd := &cobra.Command{
		Use:   "serve [flags]",
		Short: "Run the admission webhook, the reconciler and the push receiver in a cluster",
		Long: `Serve runs gitgate inside a Kubernetes cluster, as the Helm chart deploys it:

  - the admission webhook (HTTPS on --webhook-addr, paths /validate and
    /mutate), served by every replica: it denies every change to an object
    that does not match the verified Git state, and stamps admitted objects
    with their provenance;
  - the reconciler: every replica fetches, verifies, renders and checks each
    GitSource and builds its desired state; the leader (--leader-elect)
    applies it with server-side apply, prunes what left Git and reverts
    drift as soon as it happens;
  - the push receiver (POST /hook/<GitSource> on --receiver-addr), which
    triggers an immediate fetch when a Git host signals a push;
  - /metrics, /healthz and /readyz on --metrics-addr. /readyz answers 200
    once the desired state of every GitSource that was ever applied has
    been built (from the verified head, or after a failed sync from the
    last applied commit; a source never applied counts once its first sync
    finished) and the webhook's certificate is in place.

The webhook's serving certificate is made by gitgate (--cert-source builtin:
a CA kept in the Secret --cert-secret, shared by every replica, rotated before
expiry and injected into the webhook configurations named
--webhook-config-name) or read from tls.crt and tls.key in --cert-dir
(--cert-source files, e.g. written by cert-manager), and reloaded when they
change. Requests by gitgate's own service account (--service-account in
--namespace) and by --exempt-users and --exempt-groups are never judged.

Every flag can also be set through an environment variable: GITGATE_ and the
flag's name in capitals with dashes turned into underscores
(--admission-timeout is GITGATE_ADMISSION_TIMEOUT). A flag on the command line
wins over the variable. --namespace defaults to $POD_NAMESPACE when set.

On SIGTERM or SIGINT serve turns unready, answers the admission requests in
flight, stops the controllers and releases the leader lease, all within
--shutdown-timeout.

Exit status: 0 after a clean shutdown; 1 when a component fails (the API
server is unreachable, a port is in use, leadership is lost); 2 for an
unknown flag or an invalid flag or environment value.`,
		Example: `  # In a cluster, as the chart runs it (the service account's token and
  # POD_NAMESPACE come from the pod):
  gitgate serve

  # Against the current kubeconfig, with human-readable logs, the webhook
  # reachable by URL on this machine and no leader election:
  gitgate serve --kubeconfig ~/.kube/config --log-format console \
      --webhook-addr 127.0.0.1:9443 --cert-hosts 127.0.0.1 --leader-elect=false

  # With cert-manager's certificate and a break-glass group:
  GITGATE_CERT_SOURCE=files GITGATE_CERT_DIR=/certs gitgate serve \
      --exempt-groups system:masters`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fromEnv, err := applyEnv(cmd.Flags(), deps.lookupEnv)
			if err != nil {
				return usageError(err)
			}
			cfg.CertSource = server.CertSource(certSource)
			if err := configErrors(&cfg, fromEnv); err != nil {
				return usageError(err)
			}
			return runServe(cmd.Context(), s, cfg, deps)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Namespace, "namespace", cfg.Namespace, "gitgate's own namespace, exempt from admission, holding its Secrets, leader lease and CA Secret; $POD_NAMESPACE when set")
	f.StringVar(&cfg.ServiceAccount, "service-account", cfg.ServiceAccount, "gitgate's service account in --namespace; its requests are exempt from admission")
	f.StringVar(&cfg.WebhookAddr, "webhook-addr", cfg.WebhookAddr, "address the admission webhook listens on (HTTPS)")
	f.StringVar(&cfg.MetricsAddr, "metrics-addr", cfg.MetricsAddr, "address serving /metrics, /healthz and /readyz (HTTP)")
	f.StringVar(&cfg.ReceiverAddr, "receiver-addr", cfg.ReceiverAddr, "address of the push receiver, POST /hook/<GitSource> (HTTP); empty disables it")
	f.StringVar(&certSource, "cert-source", certSource, "where the webhook certificate comes from: builtin (made, rotated and injected by gitgate) or files (tls.crt and tls.key in --cert-dir)")
	f.StringVar(&cfg.CertDir, "cert-dir", cfg.CertDir, "folder holding tls.crt and tls.key with --cert-source files")
	f.StringVar(&cfg.CertSecret, "cert-secret", cfg.CertSecret, "Secret in --namespace that keeps the built-in CA, shared by every replica")
	f.StringSliceVar(&cfg.CertHosts, "cert-hosts", cfg.CertHosts, "further DNS names or IP addresses of the built-in serving certificate, for a webhook reached by URL (comma-separated)")
	f.StringVar(&cfg.WebhookConfigName, "webhook-config-name", cfg.WebhookConfigName, "name of the Validating- and MutatingWebhookConfiguration the built-in CA bundle is injected into; empty injects nothing")
	f.StringVar(&cfg.ServiceName, "service-name", cfg.ServiceName, "the webhook's Service; the built-in certificate is made for <service>.<namespace>.svc")
	f.BoolVar(&cfg.LeaderElect, "leader-elect", cfg.LeaderElect, "elect one replica to apply, prune and revert drift (every replica answers admission)")
	f.StringVar(&cfg.LeaderElectionID, "leader-election-id", cfg.LeaderElectionID, "name of the leader election Lease in --namespace")
	f.StringVar(&cfg.CacheDir, "cache-dir", cfg.CacheDir, "folder for the Git clones")
	f.StringSliceVar(&cfg.ExemptUsers, "exempt-users", cfg.ExemptUsers, "users admission never judges (comma-separated)")
	f.StringSliceVar(&cfg.ExemptGroups, "exempt-groups", cfg.ExemptGroups, "groups admission never judges, e.g. system:masters for break-glass access (comma-separated)")
	f.StringSliceVar(&cfg.ExemptNamespaces, "exempt-namespaces", cfg.ExemptNamespaces, "namespaces admission never judges, besides kube-system, kube-node-lease and --namespace (comma-separated)")
	f.IntVar(&cfg.ApplyConcurrency, "apply-concurrency", cfg.ApplyConcurrency, "server-side applies run in parallel per source")
	f.DurationVar(&cfg.AdmissionTimeout, "admission-timeout", cfg.AdmissionTimeout, "time limit for judging one admission request (at most 30s)")
	f.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "time limit for the whole shutdown; must exceed --admission-timeout")
	f.StringVar(&cfg.AuditLog, "audit-log", cfg.AuditLog, `where denials are written as JSON lines: "-" (standard output), "stderr" or a file`)
	f.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn, error, or a verbosity from 0 to 9")
	f.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "json (one object per line) or console")
	f.StringVar(&cfg.Kubeconfig, "kubeconfig", cfg.Kubeconfig, "kubeconfig file (default $KUBECONFIG, ~/.kube/config, else the pod's service account)")
	describeEnv(f)
	return cmd
}

// configErrors validates cfg; a problem with a value that came from the
// environment names the variable, so the user knows where to fix it.
func configErrors(cfg *server.Config, fromEnv map[string]string) error {
	var errs []error
	for _, p := range cfg.Problems() {
		if name, ok := fromEnv[p.Flag]; ok {
			errs = append(errs, fmt.Errorf("environment variable %s: %w", name, p))
			continue
		}
		errs = append(errs, p)
	}
	return errors.Join(errs...)
}

// runServe sets up logging and the API server's configuration for a valid
// cfg, and runs the server until ctx ends.
func runServe(ctx context.Context, s Streams, cfg server.Config, deps serveDeps) error {
	log, err := server.NewLogger(cfg, s.Err)
	if err != nil {
		return usageError(err)
	}
	if deps.setGlobalLogger != nil {
		deps.setGlobalLogger(log)
	}
	restCfg, err := deps.restConfig(cfg.Kubeconfig)
	if err != nil {
		return usageError(err)
	}
	// Admission answers within milliseconds: collect garbage less often
	// than Go's default (internal/gctune).
	defer gctune.Tune(ctx, deps.lookupEnv)()
	err = deps.run(ctx, cfg, restCfg, log)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, server.ErrInvalidConfig):
		return usageError(err)
	default:
		return &ExitError{Code: ExitFailed, Err: err}
	}
}

// envName is the environment variable of a flag.
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// describeEnv adds each flag's environment variable to its help line.
func describeEnv(fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		f.Usage += " [$" + envName(f.Name) + "]"
	})
}

// applyEnv sets every flag of fs that the command line left unset from
// its environment variable, when that is set (even to the empty string,
// which clears a list or disables the receiver), and returns the variable
// of each flag it set. A value the flag does not accept is an error naming
// the variable.
func applyEnv(fs *pflag.FlagSet, lookup func(string) (string, bool)) (map[string]string, error) {
	fromEnv := map[string]string{}
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "help" {
			return
		}
		name := envName(f.Name)
		v, ok := lookup(name)
		if !ok {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("environment variable %s: invalid value %q for --%s: %w", name, v, f.Name, err))
			return
		}
		fromEnv[f.Name] = name
	})
	return fromEnv, errors.Join(errs...)
}
