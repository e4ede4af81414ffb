package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"gitgate.dev/gitgate/cmd/gitgate/internal/devenv"
)

// maxDevInterval is the slowest poll the demo allows: a commit the user
// makes must reach the cluster within seconds.
const maxDevInterval = 5 * time.Second

type devOptions struct {
	assets   string
	dir      string
	keep     bool
	interval time.Duration
	timeout  time.Duration
}

func newDevCommand(s Streams) *cobra.Command {
	o := &devOptions{}
	cmd := &cobra.Command{
		Use:   "dev [--keep] [--assets DIR] [--dir DIR]",
		Short: "Run gitgate on a local control plane with a signed demo repository",
		Long: `dev starts etcd and kube-apiserver on this machine, makes a demo Git
repository whose trust policy authorizes a throwaway SSH key, runs gitgate
serve against it (reconciler, and both admission webhooks registered by URL on
127.0.0.1), and walks through what gitgate does, printing each step with its
result:

  1. sync: the signed commits are verified and applied (Namespace demo,
     Deployment web, Service web, ConfigMap web-config);
  2. kubectl scale deployment web is denied by the webhook;
  3. the same edit by an exempt break-glass user is admitted, then reverted
     as drift;
  4. a new signed commit reaches the cluster;
  5. an unsigned commit is refused while the cluster keeps the last good
     state; main is then reset to the last verified commit.

It exits 0 only if every step behaved. With --keep it then prints
KUBECONFIG=, REPO= and SIGNING_KEY= lines and keeps running until
interrupted (Ctrl-C), so you can explore with kubectl and commit to the
repository: commits signed with SIGNING_KEY are applied within seconds,
unsigned ones are refused.

The control plane binaries come from --assets DIR, else KUBEBUILDER_ASSETS,
else the cache that test/envtest/build.sh fills (run from a gitgate checkout,
dev runs build.sh, which builds them from source once; that first build takes
long). Everything dev makes lives in one folder: a temporary one, removed at
the end, or --dir (empty or missing; kept at the end). Every process dev
starts is stopped when it exits, also on failure and Ctrl-C (on Linux etcd
and kube-apiserver die with it even when it is killed). Needs git and
ssh-keygen.`,
		Example: `  make demo                # builds what is missing, then runs gitgate dev
  gitgate dev --keep       # walk through, then keep running for kubectl and git`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDev(cmd.Context(), s, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.assets, "assets", "", "folder holding etcd, kube-apiserver (and kubectl); default: KUBEBUILDER_ASSETS or the build cache")
	f.StringVar(&o.dir, "dir", "", "folder for everything dev makes (empty or missing; kept at the end); default: a temporary folder, removed")
	f.BoolVar(&o.keep, "keep", false, "after the walkthrough, print KUBECONFIG=, REPO=, SIGNING_KEY= and keep running until interrupted")
	f.DurationVar(&o.interval, "interval", devenv.DefaultInterval, "how often the demo GitSource polls the repository (at most 5s)")
	f.DurationVar(&o.timeout, "step-timeout", devenv.DefaultStepTimeout, "how long each step may wait for gitgate")
	return cmd
}

func (o *devOptions) validate() error {
	if o.interval <= 0 || o.interval > maxDevInterval {
		return fmt.Errorf("--interval %s: must be more than 0 and at most %s", o.interval, maxDevInterval)
	}
	if o.timeout <= 0 {
		return fmt.Errorf("--step-timeout %s: must be more than 0", o.timeout)
	}
	return nil
}

func runDev(ctx context.Context, s Streams, o *devOptions) error {
	if err := o.validate(); err != nil {
		return usageError(err)
	}
	// dev owns etcd and kube-apiserver, which run in their own process
	// group: it must always reach its cleanup. A closed terminal (SIGHUP)
	// stops it as Ctrl-C does, and a closed stdout (`gitgate dev | head`)
	// must not kill it with SIGPIPE: writes then fail, the run goes on.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGHUP)
	defer stop()
	err := devenv.Run(ctx, devenv.Options{
		Assets:      devenv.AssetsOptions{Dir: o.assets, Starts: checkoutStarts(), BuildLog: s.Err},
		Dir:         o.dir,
		Keep:        o.keep,
		Out:         s.Out,
		Interval:    o.interval,
		StepTimeout: o.timeout,
	})
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return &ExitError{Code: ExitFailed, Err: fmt.Errorf("interrupted: %w", err)}
	case errors.Is(err, devenv.ErrNoAssets), errors.Is(err, devenv.ErrBadDir):
		return usageError(err)
	case errors.Is(err, devenv.ErrWalkthrough):
		return &ExitError{Code: ExitFailed, Err: err}
	}
	return &ExitError{Code: ExitFailed, Err: fmt.Errorf("dev: %w", err)}
}

// checkoutStarts are the folders from which dev looks for a gitgate
// checkout (to build the control plane): the working folder, and the
// folder of the gitgate binary (bin/gitgate of a checkout).
func checkoutStarts() []string {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		starts = append(starts, filepath.Dir(exe))
	}
	return starts
}
