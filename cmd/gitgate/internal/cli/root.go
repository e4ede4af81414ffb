// Package cli builds gitgate's cobra commands. Each command is made by a
// function that takes its dependencies, so tests can run it in-process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command, as conftest and the issue contracts
// define them: 0 success, 1 a negative verdict, 2 a usage or input error.
const (
	ExitOK      = 0
	ExitFailed  = 1
	ExitUsage   = 2
	exitUnknown = ExitUsage
)

// Streams are the standard streams a command reads and writes.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// ExitError carries the exit code a command wants; its message, if any, is
// printed to stderr by Run.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// usageError marks err as a usage or input error (exit 2).
func usageError(err error) error { return &ExitError{Code: ExitUsage, Err: err} }

// failed reports a negative verdict (exit 1) whose details were already
// printed; Run prints nothing more.
func failed() error { return &ExitError{Code: ExitFailed} }

// NewRootCommand returns the gitgate command tree.
func NewRootCommand(s Streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "gitgate",
		Short: "Make Git the only way into a Kubernetes cluster",
		Long: `gitgate admits a change to a cluster only when it can be traced to a signed,
merged Git commit, and runs the same verification and Rego policies in CI.

In the cluster, "gitgate serve" runs the admission webhook, which denies every
change to a managed object that does not match the verified Git state, and
the reconciler, which applies that state and reverts drift the moment it
happens. In CI, "gitgate verify" proves that a branch's commits are signed and
authorized by the repository's trust policy (.gitgate/trust.yaml), and
"gitgate check" and "gitgate test" run the same Rego the cluster enforces.
"gitgate dev" shows it all on a local control plane.

Exit codes, for every command: 0 success; 1 a negative verdict (a commit not
verified, a policy failure) or a runtime failure; 2 a usage or input error
(an unknown flag, an invalid value, unreadable input).`,
		Example: `  gitgate verify --repo . --trust-root 3f1c9e...e2
  gitgate check -p policies/ manifests/
  gitgate dev --keep
  gitgate <command> --help`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.AddCommand(
		newVersionCommand(s),
		newCheckCommand(s),
		newTestCommand(s),
		newVerifyCommand(s),
		newServeCommand(s),
		newDevCommand(s),
	)
	return root
}

// Run executes the command line args and returns the process exit code.
func Run(ctx context.Context, args []string, s Streams) int {
	root := NewRootCommand(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if !errors.As(err, &ee) {
		// Cobra's own errors (unknown command, bad args) are usage errors.
		ee = &ExitError{Code: exitUnknown, Err: err}
	}
	if ee.Err != nil {
		fmt.Fprintf(s.Err, "gitgate: %v\n", ee.Err)
	}
	return ee.Code
}
