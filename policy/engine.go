package policy

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"gitgate.dev/gitgate/policy/vm"
)

// RegoVersion selects the Rego syntax modules are parsed with.
type RegoVersion int

// Rego syntax versions. V1 (OPA 1.0 and later, `contains` and `if` required)
// is the default, as in conftest; V0 reads older policies.
const (
	RegoV1 RegoVersion = iota
	RegoV0
)

// Profile selects what policies may do.
type Profile int

const (
	// ProfileCI allows every OPA builtin, as conftest does.
	ProfileCI Profile = iota
	// ProfileAdmission removes builtins that reach the network or the
	// environment, read the clock or draw random numbers (see
	// AdmissionForbidden), makes builtin errors fail the evaluation instead
	// of leaving a rule undefined, disables print, and bounds every
	// evaluation by a timeout.
	ProfileAdmission
)

// DefaultAdmissionTimeout bounds one evaluation in the admission profile
// unless WithTimeout says otherwise. The API server gives a webhook a few
// seconds at most (gitgate asks for ≤ 3 s) and policy evaluation is only one
// step of the decision.
const DefaultAdmissionTimeout = time.Second

// Option configures Compile.
type Option func(*options)

type options struct {
	regoVersion   RegoVersion
	profile       Profile
	namespaces    []string
	allNamespaces bool
	timeout       time.Duration
	parallelism   int
	print         bool
	strict        bool
	builtinErrors bool
	topdown       bool
	messagesOnly  bool
}

// WithRegoVersion parses modules as the given Rego version (default RegoV1).
func WithRegoVersion(v RegoVersion) Option { return func(o *options) { o.regoVersion = v } }

// WithProfile selects the capabilities profile (default ProfileCI).
func WithProfile(p Profile) Option { return func(o *options) { o.profile = p } }

// WithNamespaces selects the packages whose rules are evaluated (default
// "main"). Patterns with *, ? or [...] are globs matched against every
// package name (path.Match; "." is an ordinary character, so "k8s.*"
// matches "k8s.apps.deployment"); a list without any glob is taken
// literally, as in conftest.
func WithNamespaces(patterns ...string) Option {
	return func(o *options) { o.namespaces = patterns }
}

// WithAllNamespaces evaluates the rules of every package.
func WithAllNamespaces() Option { return func(o *options) { o.allNamespaces = true } }

// WithTimeout bounds each evaluation of one document (0: no bound beyond the
// caller's context). An evaluation that runs out of time is a failure.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithParallelism sets how many inputs CheckAll evaluates at once (default
// GOMAXPROCS).
func WithParallelism(n int) Option { return func(o *options) { o.parallelism = n } }

// WithStrict compiles in OPA's strict mode (unused variables and imports,
// deprecated builtins and the like are errors), conftest's --strict.
func WithStrict() Option { return func(o *options) { o.strict = true } }

// WithBuiltinErrors makes a failing builtin (e.g. to_number("abc")) fail the
// evaluation instead of leaving its expression undefined, conftest's
// --show-builtin-errors. The admission profile always does this.
func WithBuiltinErrors() Option { return func(o *options) { o.builtinErrors = true } }

// WithMessagesOnly leaves results without metadata (a Message has Msg
// only) for callers that show the message alone, as the webhook and the
// reconciler do: encoding each result's details is about a tenth of an
// admission evaluation.
func WithMessagesOnly() Option { return func(o *options) { o.messagesOnly = true } }

// WithTopdown evaluates with OPA's topdown evaluator only, never the VM:
// the reference the VM is tested against.
func WithTopdown() Option { return func(o *options) { o.topdown = true } }

// WithPrint captures print() output into CheckResult.Outputs (CI profile
// only; admission never prints).
func WithPrint() Option { return func(o *options) { o.print = true } }

// Engine holds compiled policies and one prepared query over every selected
// namespace. It is safe for concurrent use; compile it once and evaluate
// many inputs.
type Engine struct {
	opts       options
	compiler   *ast.Compiler
	namespaces []*namespace
	query      rego.PreparedEvalQuery
	program    *vm.Program // the query on the VM; nil: topdown evaluates query
	data       *ast.Term   // the data document, for the VM
	hasRules   bool
	all        []string
}

// namespace is one selected package and the conftest rules found in it.
type namespace struct {
	name      string // conftest's name for it: the package path without "data."
	rules     []rule
	ruleCount int // rule definitions, counting each body of a rule once
	// exception is the slot of the query's result that lists the names
	// exception rules except, or -1 when no rule or data document can
	// define data.<name>.exception (then nothing is ever excepted).
	exception int
}

// rule is one distinct conftest rule name in a namespace.
type rule struct {
	name           string
	failure        bool   // deny/violation; else warn
	query          string // "data.main.deny": metadata of its messages
	exceptionName  string // the name exception rules use: deny_foo → "foo"
	exceptionQuery string // the message of an exception, as conftest writes it
	// slot is the rule's place in the query's result list; direct says the
	// slot holds the rule's value itself (a rule that is always defined),
	// else a list of zero or one value.
	slot   int
	direct bool
	// meta is the metadata of every string message of this rule,
	// {"query": query}, shared by all of them.
	meta Metadata
}

var (
	warningRegex = regexp.MustCompile(`^warn(_[a-zA-Z0-9]+)*$`)
	failureRegex = regexp.MustCompile(`^(deny|violation)(_[a-zA-Z0-9]+)*$`)
)

// Compile parses and compiles src once and prepares the evaluation.
func Compile(ctx context.Context, src Source, opts ...Option) (*Engine, error) {
	o := options{namespaces: []string{"main"}, parallelism: runtime.GOMAXPROCS(0)}
	for _, opt := range opts {
		opt(&o)
	}
	if o.profile == ProfileAdmission {
		o.print = false
		o.builtinErrors = true
		if o.timeout == 0 {
			o.timeout = DefaultAdmissionTimeout
		}
	}
	if o.parallelism < 1 {
		o.parallelism = 1
	}
	if len(src.Modules) == 0 {
		return nil, errNoPolicies
	}
	modules, err := parseModules(src.Modules, o.regoVersion)
	if err != nil {
		return nil, err
	}
	if err := checkIfWithoutContains(modules); err != nil {
		return nil, err
	}
	caps := ast.CapabilitiesForThisVersion()
	if o.profile == ProfileAdmission {
		caps = admissionCapabilities()
	}
	compiler := ast.NewCompiler().
		WithCapabilities(caps).
		WithEnablePrintStatements(o.print).
		WithStrict(o.strict)
	compiler.Compile(modules)
	if compiler.Failed() {
		return nil, compileError(compiler.Errors, o.profile)
	}
	e := &Engine{opts: o, compiler: compiler}
	e.all = packageNames(modules)
	e.selectNamespaces(modules)
	if err := e.prepare(ctx, src.Data, caps); err != nil {
		return nil, err
	}
	return e, nil
}

func parseModules(srcs map[string][]byte, v RegoVersion) (map[string]*ast.Module, error) {
	popts := ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1}
	if v == RegoV0 {
		popts.RegoVersion = ast.RegoV0
	}
	modules := make(map[string]*ast.Module, len(srcs))
	var errs []error
	for _, name := range sortedKeys(srcs) {
		m, err := ast.ParseModuleWithOpts(name, string(srcs[name]), popts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		modules[name] = m
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("parse policies: %w", errors.Join(errs...))
	}
	return modules, nil
}

// checkIfWithoutContains refuses `deny if { ... }` (and any deny, violation
// or warn rule whose value is plain true): the author meant `deny contains
// msg if`, and a boolean is never reported, so the rule would pass every
// input in silence (OPA issue 6509). conftest means to refuse these too, but
// its check looks for an empty head name, which OPA 1.x no longer leaves, so
// conftest v0.71.1 lets them through as successes; gitgate refuses them.
func checkIfWithoutContains(modules map[string]*ast.Module) error {
	for _, name := range sortedKeys(modules) {
		for _, r := range modules[name].Rules {
			h := r.Head
			if h == nil || h.Key != nil || len(h.Args) > 0 || h.Value == nil || len(h.Reference) == 0 {
				continue
			}
			ref := h.Reference[0].Value.String()
			if b, ok := h.Value.Value.(ast.Boolean); ok && bool(b) && !r.Default &&
				(failureRegex.MatchString(ref) || warningRegex.MatchString(ref)) {
				return fmt.Errorf("rule is using 'if' keyword without 'contains' keyword: rule in %s at line %d", name, h.Location.Row)
			}
		}
	}
	return nil
}

func compileError(errs ast.Errors, p Profile) error {
	if p == ProfileAdmission {
		for _, e := range errs {
			name, ok := strings.CutPrefix(e.Message, "undefined function ")
			if !ok || !AdmissionForbidden(name) {
				continue
			}
			loc := ""
			if e.Location != nil {
				loc = fmt.Sprintf("%s:%d: ", e.Location.File, e.Location.Row)
			}
			return fmt.Errorf("compile policies: %sbuiltin %s is not allowed in the admission profile (it reads the network, the environment, the clock or randomness): %w", loc, name, errs)
		}
	}
	return fmt.Errorf("compile policies: %w", errs)
}

// packageNames returns every package's conftest namespace name, in module
// file order, without duplicates.
func packageNames(modules map[string]*ast.Module) []string {
	var names []string
	seen := map[string]bool{}
	for _, name := range sortedKeys(modules) {
		ns := namespaceName(modules[name])
		if !seen[ns] {
			seen[ns] = true
			names = append(names, ns)
		}
	}
	return names
}

func namespaceName(m *ast.Module) string {
	return strings.Replace(m.Package.Path.String(), "data.", "", 1)
}

func hasGlob(patterns []string) bool {
	for _, p := range patterns {
		if strings.ContainsAny(p, "*?[") {
			return true
		}
	}
	return false
}

// selectNamespaces resolves the namespace options against the packages and
// finds each selected namespace's rules.
func (e *Engine) selectNamespaces(modules map[string]*ast.Module) {
	var names []string
	switch {
	case e.opts.allNamespaces:
		names = e.all
	case hasGlob(e.opts.namespaces):
		for _, ns := range e.all {
			for _, p := range e.opts.namespaces {
				// A malformed pattern matches nothing, as path.Match says.
				if ok, _ := path.Match(p, ns); ok {
					names = append(names, ns)
					break
				}
			}
		}
	default:
		names = e.opts.namespaces
	}
	files := sortedKeys(modules)
	for _, name := range names {
		ns := &namespace{name: name}
		for _, f := range files {
			m := modules[f]
			if namespaceName(m) != name {
				continue
			}
			for _, r := range m.Rules {
				ns.addRule(r)
			}
		}
		if len(ns.rules) > 0 {
			e.hasRules = true
		}
		e.namespaces = append(e.namespaces, ns)
	}
}

// addRule records r when it is one of conftest's rules. Like conftest, it
// counts every definition (each body of a multi-body rule) and keeps each
// name once, comparing names case-insensitively.
//
// Functions are skipped: a helper such as `violation(policy, msg)` in a
// library package is not a rule conftest can query (conftest tries to, and
// fails to compile the query under --all-namespaces).
func (ns *namespace) addRule(r *ast.Rule) {
	if len(r.Head.Args) > 0 {
		return
	}
	name := r.Head.Name.String()
	failure := failureRegex.MatchString(name)
	if !failure && !warningRegex.MatchString(name) {
		return
	}
	ns.ruleCount++
	for _, x := range ns.rules {
		if strings.EqualFold(x.name, name) {
			return
		}
	}
	ns.rules = append(ns.rules, rule{
		name:           name,
		failure:        failure,
		query:          fmt.Sprintf("data.%s.%s", ns.name, name),
		exceptionName:  exceptionName(name),
		exceptionQuery: fmt.Sprintf("data.%s.exception[_][_] == %q", ns.name, exceptionName(name)),
		meta:           queryMetadata(fmt.Sprintf("data.%s.%s", ns.name, name)),
	})
}

// queryMetadata is {"query": q}, encoded.
func queryMetadata(q string) Metadata {
	md, err := NewMetadata(map[string]any{"query": q})
	if err != nil {
		// A map of one string cannot fail to encode.
		return Metadata(`{"query":""}`)
	}
	return md
}

// exceptionName is the name an exception rule lists to except a rule:
// deny_foo, violation_foo and warn_foo are all "foo"; plain deny is "".
func exceptionName(rule string) string {
	switch rule {
	case "deny", "violation", "warn":
		return ""
	}
	rule = strings.TrimPrefix(rule, "violation_")
	rule = strings.TrimPrefix(rule, "deny_")
	return strings.TrimPrefix(rule, "warn_")
}

// prepare builds one query whose single result is a list with a slot for
// every selected rule and for the exception names of every selected
// namespace. A rule that can be undefined (a complete rule whose bodies all
// fail) is wrapped in a comprehension, so that it yields [] instead of
// making the whole query undefined; a multi-value rule (deny contains msg)
// is always defined, as a set, and is referenced as it is. The exception
// names are only queried where a rule or a data document can define them.
// Each wrapping is a comprehension OPA builds for every input, and the
// library has two dozen namespaces: leaving out what cannot matter is a
// large share of an admission evaluation.
func (e *Engine) prepare(ctx context.Context, data map[string]any, caps *ast.Capabilities) error {
	if !e.hasRules {
		return nil
	}
	var elems []string
	for _, ns := range e.namespaces {
		ns.exception = -1
		if len(ns.rules) == 0 {
			continue
		}
		for i := range ns.rules {
			r := &ns.rules[i]
			ref := ruleRef(ns.name, r.name)
			r.slot = len(elems)
			r.direct = e.alwaysDefined(ns.name, r.name)
			if r.direct {
				elems = append(elems, ref)
			} else {
				elems = append(elems, fmt.Sprintf("[x | x := %s]", ref))
			}
		}
		if e.mayDefine(ns.name, "exception", data) {
			ns.exception = len(elems)
			elems = append(elems, fmt.Sprintf("[x | x := %s[_][_]]", ruleRef(ns.name, "exception")))
		}
	}
	q := resultVar + " := [" + strings.Join(elems, ", ") + "]"
	if data == nil {
		data = map[string]any{}
	}
	store := inmem.NewFromObjectWithOpts(data, inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))
	opts := []func(*rego.Rego){
		rego.Query(q),
		rego.Compiler(e.compiler),
		rego.Store(store),
		rego.StoreReadAST(true),
		rego.Capabilities(caps),
		rego.EnablePrintStatements(e.opts.print),
	}
	if e.opts.builtinErrors {
		opts = append(opts, rego.StrictBuiltinErrors(true))
	}
	if e.opts.strict {
		opts = append(opts, rego.Strict(true))
	}
	if !e.opts.topdown {
		if ok, err := e.prepareVM(ctx, store, opts); ok || err != nil {
			return err
		}
	}
	pq, err := rego.New(opts...).PrepareForEval(ctx)
	if err != nil {
		return fmt.Errorf("prepare policy query: %w", err)
	}
	e.query = pq
	return nil
}

// prepareVM plans the query for the VM (policy/vm), which evaluates it
// several times faster than topdown. false: the planner or the VM cannot
// take the query (ErrUnsupported, which also covers a query that does not
// compile), and topdown is prepared instead, giving its own errors.
func (e *Engine) prepareVM(ctx context.Context, store storage.Store, opts []func(*rego.Rego)) (bool, error) {
	// Planning switches the shared compiler to the IR evaluation mode; it
	// is put back for topdown and whoever compiles against it next.
	defer e.compiler.WithEvalMode(ast.EvalModeTopdown)
	prog, err := vm.Prepare(ctx, opts...)
	if errors.Is(err, vm.ErrUnsupported) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("prepare policy query for the VM: %w", err)
	}
	data, err := storage.ReadOne(ctx, store, storage.RootPath)
	if err != nil {
		return false, fmt.Errorf("read policy data: %w", err)
	}
	v, ok := data.(ast.Value)
	if !ok {
		if v, err = ast.InterfaceToValue(data); err != nil {
			return false, fmt.Errorf("read policy data: %w", err)
		}
	}
	e.program, e.data = prog, ast.NewTerm(v)
	return true, nil
}

// resultVar is the query's one variable: the list of rule values.
const resultVar = "results"

// alwaysDefined reports whether data.<ns>.<name> has a value for every
// input: every rule that defines it is a multi-value rule (a partial set,
// empty when no body holds) at exactly that path.
func (e *Engine) alwaysDefined(ns, name string) bool {
	ref, err := ast.ParseRef(ruleRef(ns, name))
	if err != nil {
		return false
	}
	rules := e.compiler.GetRules(ref)
	if len(rules) == 0 {
		return false
	}
	for _, r := range rules {
		if r.Head.RuleKind() != ast.MultiValue || !r.Ref().GroundPrefix().Equal(ref) || len(r.Head.Args) > 0 {
			return false
		}
	}
	return true
}

// mayDefine reports whether a rule or the data document can give
// data.<ns>.<name> a value.
func (e *Engine) mayDefine(ns, name string, data map[string]any) bool {
	ref, err := ast.ParseRef(ruleRef(ns, name))
	if err != nil {
		return true
	}
	if len(e.compiler.GetRules(ref)) > 0 {
		return true
	}
	var doc any = data
	for _, t := range ref[1:] {
		obj, ok := doc.(map[string]any)
		if !ok {
			return false
		}
		key, ok := t.Value.(ast.String)
		if !ok {
			return true
		}
		if doc, ok = obj[string(key)]; !ok {
			return false
		}
	}
	return true
}

// ruleRef renders data.<namespace>.<rule> as a Rego reference, quoting
// segments that are not plain identifiers.
func ruleRef(ns, name string) string {
	ref := ast.MustParseRef("data")
	if ns != "" {
		if p, err := ast.ParseRef("data." + ns); err == nil {
			ref = p
		} else {
			ref = ref.Append(ast.StringTerm(ns))
		}
	}
	return ref.Append(ast.StringTerm(name)).String()
}

// Namespaces returns the selected namespaces, in the order results report
// them.
func (e *Engine) Namespaces() []string {
	out := make([]string, len(e.namespaces))
	for i, ns := range e.namespaces {
		out[i] = ns.name
	}
	return out
}

// Packages returns every package of the compiled policies as a namespace
// name, whether selected or not.
func (e *Engine) Packages() []string { return append([]string(nil), e.all...) }

// Compiler returns the compiled policies (read-only).
func (e *Engine) Compiler() *ast.Compiler { return e.compiler }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
