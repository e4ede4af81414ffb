package devenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// step is one part of the walkthrough. run prints what it does through say
// (commands, server answers) and returns a one-line result.
type step struct {
	title string
	run   func(ctx context.Context, say sayFunc) (string, error)
}

// sayFunc prints a detail line of a step.
type sayFunc func(format string, args ...any)

// indent is the left margin of a step's details.
const indent = "      "

// errStep marks the failure of a walkthrough step; its message was printed.
var errStep = errors.New("walkthrough step failed")

// runSteps runs the steps in order and prints each with its result. It
// stops at the first step that fails, since every step builds on the state
// the ones before it left, and returns an error wrapping errStep.
func runSteps(ctx context.Context, out io.Writer, steps []step) error {
	for i, s := range steps {
		fmt.Fprintf(out, "\n[%d/%d] %s\n", i+1, len(steps), s.title)
		say := func(format string, args ...any) {
			for line := range strings.SplitSeq(strings.TrimRight(fmt.Sprintf(format, args...), "\n"), "\n") {
				fmt.Fprintf(out, "%s%s\n", indent, line)
			}
		}
		start := time.Now()
		result, err := s.run(ctx, say)
		took := time.Since(start).Round(100 * time.Millisecond)
		if err != nil {
			say("FAILED after %s: %v", took, err)
			return fmt.Errorf("%w: [%d/%d] %s: %w", errStep, i+1, len(steps), s.title, err)
		}
		say("ok: %s", result)
	}
	return nil
}

// waitFor polls check every interval until it reports done, ctx ends or
// timeout passes. check also describes what it observed; the last
// description is part of the error, so a step that times out says what
// it saw instead. Errors from check (an API server hiccup) are retried
// and reported the same way.
func waitFor(parent context.Context, timeout, interval time.Duration, what string, check func(context.Context) (bool, string, error)) error {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	t := time.NewTicker(interval)
	defer t.Stop()
	last := "nothing observed yet"
	for {
		done, seen, err := check(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			// Cut short by the deadline: what was seen before says more.
		case err != nil:
			last = err.Error()
		case done:
			return nil
		default:
			last = seen
		}
		select {
		case <-ctx.Done():
			// The caller gave up (Ctrl-C, or gitgate stopped): say why.
			if parent.Err() != nil {
				return fmt.Errorf("%s: %w", what, context.Cause(parent))
			}
			return fmt.Errorf("%s: not within %s (last seen: %s)", what, timeout, last)
		case <-t.C:
		}
	}
}

// short abbreviates a commit SHA as denials and status print it.
func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
