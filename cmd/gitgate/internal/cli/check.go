package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sync"

	"github.com/spf13/cobra"

	"gitgate.dev/gitgate/internal/gctune"
	"gitgate.dev/gitgate/internal/profile"
	"gitgate.dev/gitgate/policy"
	"gitgate.dev/gitgate/policy/report"
)

// checkOptions are gitgate check's flags, named as conftest test's.
type checkOptions struct {
	policies           []string
	data               []string
	namespaces         []string
	allNamespaces      bool
	combine            bool
	output             string
	failOnWarn         bool
	noFail             bool
	noColor            bool
	suppressExceptions bool
	regoVersion        string
	cpuProfile         string
	ignore             string
	stdinFilename      string
	quiet              bool
	strict             bool
	builtinErrors      bool
	junitHideMessage   bool
	githubHidePassed   bool
}

func newCheckCommand(s Streams) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check <path> [path ...]",
		Short: "Check configuration files against Rego policies (conftest-compatible)",
		Long: `Check evaluates YAML and JSON configuration files against Rego policies, with
conftest's conventions, flags, output formats and exit codes, so that a CI job
can swap "conftest test" for "gitgate check".

Rules named deny, violation and warn (and deny_<name>, violation_<name>,
warn_<name>) in the selected namespaces produce failures and warnings; an
exception rule listing <name> excepts deny_<name> and friends. A path may be a
file, a folder (searched recursively for .yaml, .yml and .json files) or "-"
for standard input. Each document of a multi-document YAML file is checked on
its own. *_test.rego files are not loaded; run them with "gitgate test".

Exit codes: 0 no failures; 1 a failure (or, with --fail-on-warn, a warning);
with --fail-on-warn a failure is 2, as in conftest; 2 an error (bad Rego,
unreadable or malformed input, e.g. invalid YAML, a YAML alias bomb, a file
over 32 MiB or a binary file).`,
		Example: `  # Policies in ./policy, as conftest looks for them:
  gitgate check deploy/

  # Policies elsewhere, every package, results as JUnit for the CI server:
  gitgate check -p policies/ --all-namespaces -o junit manifests/*.yaml

  # A rendered chart from standard input, warnings failing the job:
  helm template ./chart | gitgate check --fail-on-warn -`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError(errors.New("missing required arguments: a file, folder or - (standard input)"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd.Context(), s, o, args)
		},
	}
	f := cmd.Flags()
	f.StringSliceVarP(&o.policies, "policy", "p", []string{"policy"}, "path to the Rego policy files or folders")
	f.StringSliceVarP(&o.data, "data", "d", nil, "paths from which data for the policies is loaded (.json, .yaml, .yml; folders recursively)")
	f.StringSliceVarP(&o.namespaces, "namespace", "n", []string{"main"}, "namespaces (Rego packages) whose rules run; globs *, ? and [...] match package names")
	f.BoolVar(&o.allNamespaces, "all-namespaces", false, "run the rules of every namespace")
	f.BoolVar(&o.combine, "combine", false, "evaluate all inputs together as one list of {path, contents}")
	f.StringVarP(&o.output, "output", "o", "stdout", fmt.Sprintf("output format, one of %v", report.Formats))
	f.BoolVar(&o.failOnWarn, "fail-on-warn", false, "exit 1 on warnings too (and 2 on failures)")
	f.BoolVar(&o.noFail, "no-fail", false, "exit 0 even when a policy fails")
	f.BoolVar(&o.noColor, "no-color", false, "disable colors in the stdout format")
	f.BoolVar(&o.suppressExceptions, "suppress-exceptions", false, "leave exceptions out of the stdout format")
	f.StringVar(&o.regoVersion, "rego-version", "v1", "Rego syntax of the policies: v1 or v0")
	f.StringVar(&o.ignore, "ignore", "", "a regular expression; input paths that match it are skipped")
	f.StringVar(&o.stdinFilename, "stdin-filename", "", "the file name to report for standard input")
	f.BoolVar(&o.quiet, "quiet", false, "print nothing when the exit code is 0")
	f.BoolVar(&o.strict, "strict", false, "compile the policies in OPA's strict mode")
	f.BoolVar(&o.builtinErrors, "show-builtin-errors", false, "a failing builtin is an error (exit 2) instead of an undefined expression")
	f.BoolVar(&o.junitHideMessage, "junit-hide-message", false, "name JUnit test cases by file only")
	f.BoolVar(&o.githubHidePassed, "github-hide-passed", false, "leave files whose checks all passed out of the github format")
	f.StringVar(&o.cpuProfile, "cpuprofile", "", "write a Go CPU profile of the run to this file")
	_ = f.MarkHidden("cpuprofile")
	return cmd
}

func runCheck(ctx context.Context, s Streams, o *checkOptions, args []string) error {
	defer gctune.Tune(ctx, os.LookupEnv)()
	if o.cpuProfile != "" {
		stop, err := profile.StartCPU(o.cpuProfile)
		if err != nil {
			return usageError(err)
		}
		defer stop()
	}
	if !report.Valid(o.output) {
		return usageError(fmt.Errorf("unknown output format %q: want one of %v", o.output, report.Formats))
	}
	engine, err := loadEngine(ctx, o)
	if err != nil {
		return usageError(err)
	}
	var ignore *regexp.Regexp
	if o.ignore != "" {
		if ignore, err = regexp.Compile(o.ignore); err != nil {
			return usageError(fmt.Errorf("--ignore: %w", err))
		}
	}
	files, err := expandInputs(args, ignore)
	if err != nil {
		return usageError(err)
	}
	stdin := &stdinOnce{r: s.In}
	load := func(_ context.Context, i int) (policy.Input, error) {
		in, err := readInputFile(files[i], stdin)
		if err == nil && in.Name == "-" && o.stdinFilename != "" {
			in.Name = o.stdinFilename
		}
		return in, err
	}

	var results policy.CheckResults
	if o.combine {
		inputs, err := loadAll(ctx, len(files), load)
		if err != nil {
			return usageError(err)
		}
		results, err = engine.CheckCombined(ctx, inputs)
		if err != nil {
			return usageError(err)
		}
	} else {
		results, err = engine.CheckAll(ctx, len(files), load)
		if err != nil {
			return usageError(err)
		}
	}
	code := results.ExitCode(o.failOnWarn)
	if o.quiet && code == 0 {
		return nil
	}
	err = report.Write(s.Out, o.output, results, report.Options{
		NoColor:            o.noColor,
		SuppressExceptions: o.suppressExceptions,
		ToolVersion:        buildVersion(),
		JUnitHideMessage:   o.junitHideMessage,
		GitHubHidePassed:   o.githubHidePassed,
	})
	if err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if o.noFail || code == 0 {
		return nil
	}
	return &ExitError{Code: code}
}

func loadEngine(ctx context.Context, o *checkOptions) (*policy.Engine, error) {
	var version policy.RegoVersion
	switch o.regoVersion {
	case "v1", "V1":
		version = policy.RegoV1
	case "v0", "V0":
		version = policy.RegoV0
	default:
		return nil, fmt.Errorf("invalid Rego version %q: want v1 or v0", o.regoVersion)
	}
	mods, err := policy.ReadModules(o.policies...)
	if err != nil {
		return nil, err
	}
	if len(mods) == 0 {
		return nil, fmt.Errorf("no policies found in %v", o.policies)
	}
	data, err := policy.ReadData(o.data...)
	if err != nil {
		return nil, err
	}
	opts := []policy.Option{policy.WithRegoVersion(version), policy.WithNamespaces(o.namespaces...), policy.WithPrint()}
	if o.allNamespaces {
		opts = append(opts, policy.WithAllNamespaces())
	}
	if o.strict {
		opts = append(opts, policy.WithStrict())
	}
	if o.builtinErrors {
		opts = append(opts, policy.WithBuiltinErrors())
	}
	return policy.Compile(ctx, policy.Source{Modules: mods, Data: data}, opts...)
}

// expandInputs turns the arguments into the list of files to check: "-" as
// is, files as named, folders walked in lexical order for .yaml, .yml and
// .json files. Files whose path matches ignore are skipped (as in conftest,
// standard input and folders themselves are never matched). A path named
// twice is checked once, as in conftest (which keys its inputs by path).
// Symlinks inside folders are not followed (conftest follows them), so a
// checked-out repository cannot point check at files outside it.
func expandInputs(args []string, ignore *regexp.Regexp) ([]string, error) {
	var files []string
	seen := map[string]bool{}
	add := func(p string) {
		if p != "-" && ignore != nil && ignore.MatchString(p) {
			return
		}
		if !seen[p] {
			seen[p] = true
			files = append(files, p)
		}
	}
	for _, a := range args {
		if a == "" {
			continue
		}
		if a == "-" {
			add(a)
			continue
		}
		info, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", a, err)
		}
		if !info.IsDir() {
			add(a)
			continue
		}
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if _, ok := policy.FormatOf(p); ok && d.Type().IsRegular() && p != "-" {
				add(p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", a, err)
		}
	}
	if len(files) == 0 {
		return nil, errors.New("no files found")
	}
	return files, nil
}

// stdinOnce lets "-" be read once even if named twice.
type stdinOnce struct {
	once sync.Once
	r    io.Reader
	in   policy.Input
	err  error
}

func readInputFile(name string, stdin *stdinOnce) (policy.Input, error) {
	if name == "-" {
		stdin.once.Do(func() {
			if stdin.r == nil {
				stdin.err = &policy.InputError{File: "-", Err: errors.New("no standard input")}
				return
			}
			stdin.in, stdin.err = policy.ReadInput("-", stdin.r)
		})
		return stdin.in, stdin.err
	}
	f, err := os.Open(name)
	if err != nil {
		return policy.Input{}, &policy.InputError{File: name, Err: err}
	}
	defer f.Close()
	// Refuse an oversized file before reading it, not after.
	if info, err := f.Stat(); err == nil && info.Size() > policy.MaxInputSize {
		return policy.Input{}, &policy.InputError{File: name, Err: policy.ErrInputTooLarge}
	}
	return policy.ReadInput(name, f)
}

// loadAll reads and parses n inputs in parallel, for --combine, which needs
// them all at once.
func loadAll(ctx context.Context, n int, load func(context.Context, int) (policy.Input, error)) ([]policy.Input, error) {
	inputs := make([]policy.Input, n)
	errs := make([]error, n)
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			inputs[i], errs[i] = load(ctx, i)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return inputs, nil
}
