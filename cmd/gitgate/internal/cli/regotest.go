package cli

import (
	"fmt"
	"time"

	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/spf13/cobra"

	"gitgate.dev/gitgate/policy"
	"gitgate.dev/gitgate/policy/regotest"
)

type regoTestOptions struct {
	verbose     bool
	output      string
	run         string
	timeout     time.Duration
	regoVersion string
	profile     string
}

// newTestCommand is `gitgate test`: Rego unit tests, as `opa test` runs them.
func newTestCommand(s Streams) *cobra.Command {
	o := &regoTestOptions{}
	cmd := &cobra.Command{
		Use:   "test [path ...]",
		Short: "Run Rego unit tests (test_ rules) with OPA's tester",
		Long: `Test loads the Rego modules (tests included) and JSON/YAML data files under the
given paths (default: the current folder) and runs every rule named test_*,
as "opa test" does.

Exit codes: 0 every test passed; 1 a test failed or errored; 2 a module does
not parse or compile (or a usage error).`,
		Example: `  # Every test under the current folder:
  gitgate test

  # One policy's tests, verbose, with the builtins admission allows:
  gitgate test -v --profile admission policies/pss/baseline/privileged policies/lib

  # Only the tests whose name matches, as JSON:
  gitgate test -r 'test_deny_.*' -o json policy/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"."}
			}
			return runRegoTest(cmd, s, o, args)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.verbose, "verbose", "v", false, "print a line per test, and traces of failing tests")
	f.StringVarP(&o.output, "output", "o", "pretty", "output format: pretty or json")
	f.StringVarP(&o.run, "run", "r", "", "run only tests whose name matches this regular expression")
	f.DurationVar(&o.timeout, "timeout", regotest.DefaultTimeout, "time limit for each test")
	f.StringVar(&o.regoVersion, "rego-version", "v1", "Rego syntax of the modules: v1 or v0")
	f.StringVar(&o.profile, "profile", "ci", "builtins allowed: ci (all) or admission (no network, environment, clock or randomness)")
	return cmd
}

func runRegoTest(cmd *cobra.Command, s Streams, o *regoTestOptions, paths []string) error {
	opts := regotest.Options{Run: o.run, Timeout: o.timeout, Trace: o.verbose}
	switch o.regoVersion {
	case "v1", "V1":
	case "v0", "V0":
		opts.RegoVersion = policy.RegoV0
	default:
		return usageError(fmt.Errorf("invalid Rego version %q: want v1 or v0", o.regoVersion))
	}
	switch o.profile {
	case "ci":
	case "admission":
		opts.Profile = policy.ProfileAdmission
	default:
		return usageError(fmt.Errorf("invalid profile %q: want ci or admission", o.profile))
	}
	var reporter tester.Reporter
	switch o.output {
	case "pretty":
		reporter = tester.PrettyReporter{Output: s.Out, Verbose: o.verbose, FailureLine: true}
	case "json":
		reporter = tester.JSONReporter{Output: s.Out}
	default:
		return usageError(fmt.Errorf("invalid output format %q: want pretty or json", o.output))
	}

	// Every error here (a module that does not parse or compile, a bad
	// --run expression, an unreadable path) means no verdict: exit 2.
	results, err := regotest.Run(cmd.Context(), paths, opts)
	if err != nil {
		return usageError(err)
	}
	ch := make(chan *tester.Result, len(results))
	for _, r := range results {
		ch <- r
	}
	close(ch)
	if err := reporter.Report(ch); err != nil {
		return fmt.Errorf("report test results: %w", err)
	}
	if len(results) == 0 {
		fmt.Fprintln(s.Err, "gitgate: no tests found")
	}
	if regotest.Failed(results) {
		return failed()
	}
	return nil
}
