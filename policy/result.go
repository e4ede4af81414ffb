package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// Message is one message produced by a deny, violation, warn or exception
// rule, in conftest's shape: the text, an optional location in the input and
// everything else the rule returned as metadata.
type Message struct {
	Msg      string    `json:"msg"`
	Location *Location `json:"loc,omitempty"`
	Metadata Metadata  `json:"metadata,omitempty"`
}

// Metadata is a message's metadata object, held as its JSON encoding (keys
// sorted, as conftest prints them). A check over thousands of files keeps
// every message until it reports, and encoded metadata takes a fraction of
// the memory of nested Go maps. It is read-only: the string messages of one
// rule share theirs. Read it with Get or Map.
type Metadata []byte

// NewMetadata encodes m.
func NewMetadata(m map[string]any) (Metadata, error) {
	if m == nil {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode metadata: %w", err)
	}
	return Metadata(b), nil
}

// MarshalJSON writes the encoded object as it is.
func (md Metadata) MarshalJSON() ([]byte, error) {
	if len(md) == 0 {
		return []byte("null"), nil
	}
	return md, nil
}

// UnmarshalJSON keeps a copy of the encoded object.
func (md *Metadata) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*md = nil
		return nil
	}
	*md = append(Metadata(nil), b...)
	return nil
}

// Map decodes the metadata, numbers as json.Number; nil when there is none.
func (md Metadata) Map() (map[string]any, error) {
	if len(md) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(md))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode metadata: %w", err)
	}
	return m, nil
}

// Get returns one metadata field, or nil.
func (md Metadata) Get(key string) any {
	m, err := md.Map()
	if err != nil {
		return nil
	}
	return m[key]
}

// Location is where in a configuration file a message points to, taken from
// a `_loc` object ({"file": ..., "line": ...}) in the rule's result, as
// conftest reads it.
type Location struct {
	File string      `json:"file,omitempty"`
	Line json.Number `json:"line,omitempty"`
}

func (l Location) String() string { return fmt.Sprintf("%s L%s", l.File, l.Line.String()) }

// CheckResult is the verdict on one input file in one namespace. Its JSON
// encoding is conftest's `-o json` shape.
type CheckResult struct {
	FileName   string    `json:"filename"`
	Namespace  string    `json:"namespace"`
	Successes  int       `json:"successes"`
	Warnings   []Message `json:"warnings,omitempty"`
	Failures   []Message `json:"failures,omitempty"`
	Exceptions []Message `json:"exceptions,omitempty"`

	// Outputs holds what print() wrote while evaluating this input, each
	// line prefixed with its policy location; conftest shows these in its
	// default output only, never in JSON.
	Outputs []string `json:"-"`
}

// CheckResults is the verdict on every input in every selected namespace,
// ordered by namespace and then by input, as conftest reports them.
type CheckResults []CheckResult

// Totals counts results of each kind.
type Totals struct {
	Successes, Failures, Warnings, Exceptions int
}

// Tests is the number of checks that ran, as conftest's summary counts them.
func (t Totals) Tests() int { return t.Successes + t.Failures + t.Warnings + t.Exceptions }

// String renders conftest's summary line, e.g. "3 tests, 1 passed, 1 warning,
// 1 failure, 0 exceptions".
func (t Totals) String() string {
	return fmt.Sprintf("%d %s, %d passed, %d %s, %d %s, %d %s",
		t.Tests(), plural("test", t.Tests()),
		t.Successes,
		t.Warnings, plural("warning", t.Warnings),
		t.Failures, plural("failure", t.Failures),
		t.Exceptions, plural("exception", t.Exceptions),
	)
}

func plural(word string, n int) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// Totals counts the results of one check.
func (r *CheckResult) Totals() Totals {
	return Totals{Successes: r.Successes, Failures: len(r.Failures), Warnings: len(r.Warnings), Exceptions: len(r.Exceptions)}
}

// Totals counts the results of every check.
func (rs CheckResults) Totals() Totals {
	var t Totals
	for i := range rs {
		x := rs[i].Totals()
		t.Successes += x.Successes
		t.Failures += x.Failures
		t.Warnings += x.Warnings
		t.Exceptions += x.Exceptions
	}
	return t
}

// HasFailure reports whether any check failed.
func (rs CheckResults) HasFailure() bool {
	return slices.ContainsFunc(rs, func(r CheckResult) bool { return len(r.Failures) > 0 })
}

// HasWarning reports whether any check warned.
func (rs CheckResults) HasWarning() bool {
	return slices.ContainsFunc(rs, func(r CheckResult) bool { return len(r.Warnings) > 0 })
}

// ExitCode is the process exit code conftest gives for these results: 1 when
// a check failed, else 0. With failOnWarn a warning gives 1 and a failure 2,
// exactly as conftest documents for --fail-on-warn.
func (rs CheckResults) ExitCode(failOnWarn bool) int {
	switch {
	case failOnWarn && rs.HasFailure():
		return 2
	case rs.HasFailure(), failOnWarn && rs.HasWarning():
		return 1
	default:
		return 0
	}
}

// Result is the verdict of one evaluation in the admission path, merged over
// the selected namespaces.
type Result struct {
	Failures   []Message
	Warnings   []Message
	Exceptions []Message
	Successes  int
}

// Denied reports whether a deny or violation rule fired (or evaluation
// failed, which Evaluate reports as a failure).
func (r *Result) Denied() bool { return len(r.Failures) > 0 }

// Reason says why an evaluation could not give a verdict.
type Reason string

// The reasons an evaluation fails without a verdict. Each is reported as a
// failure, never as a pass.
const (
	ReasonTimeout       Reason = "Timeout"
	ReasonCanceled      Reason = "Canceled"
	ReasonEvalError     Reason = "EvaluationError"
	ReasonInvalidResult Reason = "InvalidResult"
	ReasonInvalidInput  Reason = "InvalidInput"
)

// EvalError is an evaluation that gave no verdict.
type EvalError struct {
	Reason Reason
	Err    error
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("policy evaluation failed (%s): %v", e.Reason, e.Err)
}

func (e *EvalError) Unwrap() error { return e.Err }
