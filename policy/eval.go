package policy

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/topdown/print"

	"gitgate.dev/gitgate/policy/vm"
)

// outcome is what one document gave in one namespace.
type outcome struct {
	successes  int
	failures   []Message
	warnings   []Message
	exceptions []Message
}

// rawTerm makes the prepared query hand back Rego values as they are,
// skipping OPA's conversion to Go maps: results are read once and most are
// empty.
func rawTerm(t *ast.Term, _ *rego.EvalContext) (any, error) { return t, nil }

// evalDoc evaluates one document against every selected namespace. outs has
// one slot per namespace and is added to, so multi-document files sum up.
func (e *Engine) evalDoc(ctx context.Context, input ast.Value, outs []outcome, prints *[]string) error {
	if !e.hasRules {
		return nil
	}
	if e.opts.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.opts.timeout)
		defer cancel()
	}
	// One canceller tied to ctx through AfterFunc costs no goroutine unless
	// ctx ends; OPA's default starts one goroutine per evaluation.
	c := topdown.NewCancel()
	stop := context.AfterFunc(ctx, c.Cancel)
	defer stop()

	if e.program != nil {
		results, err := e.evalVM(ctx, input, c, prints)
		if ee := (*EvalError)(nil); errors.As(err, &ee) {
			return err
		}
		if err != nil {
			return classify(ctx, err)
		}
		return e.collect(results, outs)
	}
	vc := getCache()
	defer putCache(vc)
	evalOpts := []rego.EvalOption{
		rego.EvalParsedInput(input),
		rego.EvalGenerateJSON(rawTerm),
		rego.EvalExternalCancel(c),
		rego.EvalVirtualCache(vc),
	}
	if prints != nil {
		evalOpts = append(evalOpts, rego.EvalPrintHook(printHook{out: prints}))
	}
	rs, err := e.query.Eval(ctx, evalOpts...)
	if err != nil {
		return classify(ctx, err)
	}
	if len(rs) != 1 {
		// Every element of the result list is a comprehension or a rule
		// that is always defined, so the query has exactly one result;
		// anything else means the query itself is broken.
		return &EvalError{Reason: ReasonInvalidResult, Err: fmt.Errorf("policy query gave %d results, want 1", len(rs))}
	}
	return e.collect(termArray(rs[0].Bindings[resultVar]), outs)
}

// evalVM evaluates the query on the VM and returns its result list.
func (e *Engine) evalVM(ctx context.Context, input ast.Value, c topdown.Cancel, prints *[]string) (*ast.Array, error) {
	opts := vm.Options{Cancel: c, StrictBuiltinErrors: e.opts.builtinErrors}
	if prints != nil {
		opts.PrintHook = printHook{out: prints}
	}
	rs, err := e.program.Eval(ctx, 0, ast.NewTerm(input), e.data, opts)
	if err != nil {
		return nil, err
	}
	if len(rs) != 1 {
		return nil, &EvalError{Reason: ReasonInvalidResult, Err: fmt.Errorf("policy query gave %d results, want 1", len(rs))}
	}
	obj, ok := rs[0].Value.(ast.Object)
	if !ok {
		return nil, &EvalError{Reason: ReasonInvalidResult, Err: errors.New("policy query gave no result object")}
	}
	return termArray(obj.Get(ast.InternedTerm(resultVar))), nil
}

// collect reads the query's result list into outs, one slot per namespace.
func (e *Engine) collect(results *ast.Array, outs []outcome) error {
	if results == nil {
		return &EvalError{Reason: ReasonInvalidResult, Err: errors.New("policy query gave no result list")}
	}
	for i, ns := range e.namespaces {
		if len(ns.rules) == 0 {
			continue
		}
		if err := ns.collect(results, &outs[i], e.opts.messagesOnly); err != nil {
			return &EvalError{Reason: ReasonInvalidResult, Err: err}
		}
	}
	return nil
}

func classify(ctx context.Context, err error) error {
	var te *topdown.Error
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &EvalError{Reason: ReasonTimeout, Err: err}
	case ctx.Err() != nil, errors.As(err, &te) && te.Code == topdown.CancelErr:
		return &EvalError{Reason: ReasonCanceled, Err: err}
	default:
		return &EvalError{Reason: ReasonEvalError, Err: err}
	}
}

// collect applies conftest's reading of rule results to one namespace's
// slots of the query's result list (policy/engine.go check in conftest v0.71.1):
//   - an exception rule listing a rule's name turns every result of that rule
//     into nothing, and adds one exception per listing, whose message is the
//     query conftest would have run;
//   - a rule whose value is an empty set (or not a collection) is one success;
//   - string and object elements are failures (deny, violation) or warnings;
//   - when fewer results than rule definitions were seen, the difference
//     counts as successes, so an input passes every rule body it did not
//     trip.
func (ns *namespace) collect(results *ast.Array, out *outcome, msgOnly bool) error {
	var exc *ast.Array
	if ns.exception >= 0 {
		exc = termArray(results.Elem(ns.exception))
	}
	var failures, warnings, exceptions, successes int
	for _, r := range ns.rules {
		n := 0
		if exc != nil {
			for i := range exc.Len() {
				if s, ok := exc.Elem(i).Value.(ast.String); ok && string(s) == r.exceptionName {
					n++
				}
			}
		}
		for range n {
			out.exceptions = append(out.exceptions, Message{Msg: r.exceptionQuery})
		}
		exceptions += n
		val := results.Elem(r.slot)
		if !r.direct {
			vals := termArray(val)
			if vals == nil || vals.Len() == 0 {
				val = nil
			} else {
				val = vals.Elem(0)
			}
		}
		if n > 0 || val == nil {
			// Excepted, or undefined (e.g. a complete rule whose body
			// failed): nothing to report.
			continue
		}
		msgs, ok := elements(val.Value)
		if !ok || len(msgs) == 0 {
			out.successes++
			successes++
			continue
		}
		for _, t := range msgs {
			m, ok, err := toMessage(t.Value, &r, msgOnly)
			if err != nil {
				return fmt.Errorf("%s: %w", r.query, err)
			}
			if !ok {
				continue
			}
			if m.Msg == "" {
				// conftest treats an empty message as a pass.
				out.successes++
				successes++
				continue
			}
			if r.failure {
				out.failures = append(out.failures, m)
				failures++
			} else {
				out.warnings = append(out.warnings, m)
				warnings++
			}
		}
	}
	if seen := failures + warnings + exceptions + successes; seen < ns.ruleCount {
		out.successes += ns.ruleCount - seen
	}
	return nil
}

// termArray returns a binding's array, or nil.
func termArray(x any) *ast.Array {
	if t, ok := x.(*ast.Term); ok {
		if a, ok := t.Value.(*ast.Array); ok {
			return a
		}
	}
	return nil
}

// elements returns a set's members in Rego's sorted order, or an array's in
// order; false for any other value.
func elements(v ast.Value) ([]*ast.Term, bool) {
	switch x := v.(type) {
	case ast.Set:
		return x.Slice(), true
	case *ast.Array:
		out := make([]*ast.Term, x.Len())
		for i := range out {
			out[i] = x.Elem(i)
		}
		return out, true
	}
	return nil, false
}

// toMessage reads one rule result: a string is the message; an object must
// carry a string "msg", may carry "_loc" {file, line}, and keeps every other
// field as metadata. Other values are ignored, as conftest ignores them.
// Every message's metadata names the rule's query; string messages share
// one read-only map per rule.
func toMessage(v ast.Value, r *rule, msgOnly bool) (Message, bool, error) {
	switch x := v.(type) {
	case ast.String:
		if msgOnly {
			return Message{Msg: string(x)}, true, nil
		}
		return Message{Msg: string(x), Metadata: r.meta}, true, nil
	case ast.Object:
		if msgOnly {
			msg, ok := termValue(x.Get(msgKey)).(ast.String)
			if !ok {
				return Message{}, false, errors.New(`"msg" field must be present and a string`)
			}
			return Message{Msg: string(msg)}, true, nil
		}
		if m, ok := objectMessage(x, r); ok {
			return m, true, nil
		}
		raw, err := ast.JSON(x)
		if err != nil {
			return Message{}, false, fmt.Errorf("convert result: %w", err)
		}
		obj, _ := raw.(map[string]any)
		msg, ok := obj["msg"].(string)
		if !ok {
			return Message{}, false, errors.New(`"msg" field must be present and a string`)
		}
		m := Message{Msg: msg}
		if loc, ok := obj["_loc"]; ok {
			m.Location = parseLocation(loc)
		}
		delete(obj, "msg")
		delete(obj, "_loc")
		obj["query"] = r.query
		if m.Metadata, err = NewMetadata(obj); err != nil {
			return Message{}, false, err
		}
		return m, true, nil
	}
	return Message{}, false, nil
}

func parseLocation(x any) *Location {
	obj, ok := x.(map[string]any)
	if !ok {
		return nil
	}
	var l Location
	l.File, _ = obj["file"].(string)
	l.Line, _ = obj["line"].(json.Number)
	if l.File == "" && l.Line == "" {
		return nil
	}
	return &l
}

type printHook struct{ out *[]string }

// Print records a print() call the way conftest shows it: "<location>: msg"
// followed by a newline of its own.
func (h printHook) Print(pctx print.Context, msg string) error {
	*h.out = append(*h.out, fmt.Sprintf("%v: %s\n", pctx.Location, msg))
	return nil
}

// Check evaluates every document of one input against the selected
// namespaces and returns one result per namespace, in Namespaces() order.
// The results of a multi-document file are summed under its name.
func (e *Engine) Check(ctx context.Context, in Input) ([]CheckResult, error) {
	outs := make([]outcome, len(e.namespaces))
	var prints []string
	var pp *[]string
	if e.opts.print {
		pp = &prints
	}
	for _, doc := range in.Documents {
		if err := e.evalDoc(ctx, doc, outs, pp); err != nil {
			return nil, fmt.Errorf("check %s: %w", in.Name, err)
		}
	}
	res := make([]CheckResult, len(e.namespaces))
	for i, ns := range e.namespaces {
		res[i] = CheckResult{
			FileName:   in.Name,
			Namespace:  ns.name,
			Successes:  outs[i].successes,
			Failures:   outs[i].failures,
			Warnings:   outs[i].warnings,
			Exceptions: outs[i].exceptions,
		}
	}
	if len(res) > 0 {
		res[0].Outputs = prints
	}
	return res, nil
}

// CombinedName is the file name conftest reports for --combine.
const CombinedName = "Combined"

// CheckCombined evaluates all inputs together as one document, conftest's
// --combine: input is a list of {"path": file, "contents": document}, one
// entry per document, ordered by path (stable, so the documents of one file
// keep their order; conftest's sort is not stable).
func (e *Engine) CheckCombined(ctx context.Context, inputs []Input) ([]CheckResult, error) {
	type entry struct {
		path string
		doc  ast.Value
	}
	var entries []entry
	for _, in := range inputs {
		for _, d := range in.Documents {
			entries = append(entries, entry{in.Name, d})
		}
	}
	slices.SortStableFunc(entries, func(a, b entry) int { return cmp.Compare(a.path, b.path) })
	terms := make([]*ast.Term, len(entries))
	for i, en := range entries {
		terms[i] = ast.ObjectTerm(
			ast.Item(ast.StringTerm("path"), ast.StringTerm(en.path)),
			ast.Item(ast.StringTerm("contents"), ast.NewTerm(en.doc)),
		)
	}
	return e.Check(ctx, Input{Name: CombinedName, Documents: []ast.Value{ast.NewArray(terms...)}})
}

// CheckAll evaluates n inputs in parallel (WithParallelism workers), each
// obtained from load(ctx, i) inside a worker so that reading and parsing run
// in parallel too and no more than a few inputs are held in memory at once.
// Results are ordered by namespace, then by input index. On errors, the one
// with the lowest index is returned and no further inputs are started.
func (e *Engine) CheckAll(ctx context.Context, n int, load func(ctx context.Context, i int) (Input, error)) (CheckResults, error) {
	// Workers write straight into the final order (namespace k of input i
	// at k*n+i), so the results of a large run exist once, not twice.
	nns := len(e.namespaces)
	out := make(CheckResults, n*nns)
	var (
		next    atomic.Int64
		stop    atomic.Bool
		mu      sync.Mutex
		errIdx  = n
		firstEr error
		wg      sync.WaitGroup
	)
	for range min(e.opts.parallelism, max(n, 1)) {
		wg.Go(func() {
			for !stop.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				in, err := load(ctx, i)
				var rs []CheckResult
				if err == nil {
					rs, err = e.Check(ctx, in)
				}
				if err != nil {
					stop.Store(true)
					mu.Lock()
					if i < errIdx {
						errIdx, firstEr = i, err
					}
					mu.Unlock()
					continue
				}
				for k := range rs {
					out[k*n+i] = rs[k]
				}
			}
		})
	}
	wg.Wait()
	if firstEr != nil {
		return nil, firstEr
	}
	return out, nil
}

// Evaluate judges one admission input (any JSON-like Go value: maps, slices,
// strings, numbers as float64 or json.Number, bools, nil) against the
// selected namespaces, merging their results. An input that cannot be
// converted, an evaluation error, a timeout or a cancellation is returned as
// an *EvalError and also as a failure in the Result, so a caller that only
// looks at Result.Denied still denies.
func (e *Engine) Evaluate(ctx context.Context, input any) (Result, error) {
	v, err := ast.InterfaceToValue(input)
	if err != nil {
		return failed(&EvalError{Reason: ReasonInvalidInput, Err: err})
	}
	return e.EvaluateValue(ctx, v)
}

// EvaluateValue is Evaluate for an input already converted to a Rego value.
func (e *Engine) EvaluateValue(ctx context.Context, input ast.Value) (Result, error) {
	// Most engines select one or a few namespaces: keep their outcomes on
	// the stack.
	var (
		buf  [4]outcome
		outs []outcome
	)
	if len(e.namespaces) <= len(buf) {
		outs = buf[:len(e.namespaces)]
	} else {
		outs = make([]outcome, len(e.namespaces))
	}
	if err := e.evalDoc(ctx, input, outs, nil); err != nil {
		return failed(err)
	}
	var r Result
	for i := range outs {
		r.Successes += outs[i].successes
		r.Failures = append(r.Failures, outs[i].failures...)
		r.Warnings = append(r.Warnings, outs[i].warnings...)
		r.Exceptions = append(r.Exceptions, outs[i].exceptions...)
	}
	return r, nil
}

func failed(err error) (Result, error) {
	reason := ReasonEvalError
	var ee *EvalError
	if errors.As(err, &ee) {
		reason = ee.Reason
	}
	md, _ := NewMetadata(map[string]any{"reason": string(reason)})
	return Result{Failures: []Message{{Msg: err.Error(), Metadata: md}}}, err
}
