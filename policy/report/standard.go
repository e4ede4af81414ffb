package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gitgate.dev/gitgate/policy"
)

// ANSI foreground colors, as conftest's color library writes them.
const (
	red    = "31"
	green  = "32"
	yellow = "33"
	blue   = "34"
	cyan   = "36"
)

type colorizer bool

func (c colorizer) paint(s, color string) string {
	if !c {
		return s
	}
	return "\x1b[" + color + "m" + s + "\x1b[0m"
}

// writeStandard is conftest's default, human format: print() output first,
// then one line per warning, failure and exception, then a summary line.
func writeStandard(w io.Writer, results policy.CheckResults, opts Options) error {
	c := colorizer(!opts.NoColor)
	for i := range results {
		for _, o := range results[i].Outputs {
			// conftest's print lines already end in "\n" and are
			// written with Println: each is followed by an empty line.
			fmt.Fprintln(w, c.paint("PRNT ", blue), "", o)
		}
	}
	for i := range results {
		r := &results[i]
		file, ns := indicator(r.FileName), nsLabel(r.Namespace)
		for _, m := range r.Warnings {
			fmt.Fprintln(w, c.paint("WARN", yellow), file, ns, m.Msg)
		}
		for _, m := range r.Failures {
			fmt.Fprintln(w, c.paint("FAIL", red), file, ns, m.Msg)
		}
		if !opts.SuppressExceptions {
			for _, m := range r.Exceptions {
				fmt.Fprintln(w, c.paint("EXCP", cyan), file, ns, m.Msg)
			}
		}
	}
	t := results.Totals()
	color := green
	switch {
	case t.Failures > 0:
		color = red
	case t.Warnings > 0:
		color = yellow
	case t.Exceptions > 0:
		color = cyan
	}
	fmt.Fprintln(w)
	_, err := fmt.Fprintln(w, c.paint(t.String(), color))
	return err
}

// writeJSON is conftest's JSON: the results array indented with tabs, with
// standard input's name "-" written as "". Results are encoded one at a time
// so that output for many thousand files is never held in memory twice.
func writeJSON(w io.Writer, results policy.CheckResults) error {
	if results == nil {
		_, err := io.WriteString(w, "null\n")
		return err
	}
	if len(results) == 0 {
		_, err := io.WriteString(w, "[]\n")
		return err
	}
	var raw, buf bytes.Buffer
	enc := json.NewEncoder(&raw)
	buf.WriteString("[\n\t")
	for i := range results {
		r := results[i]
		if r.FileName == "-" {
			r.FileName = ""
		}
		raw.Reset()
		if err := enc.Encode(&r); err != nil {
			return fmt.Errorf("marshal json: %w", err)
		}
		if i > 0 {
			buf.WriteString(",\n\t")
		}
		if err := json.Indent(&buf, bytes.TrimSuffix(raw.Bytes(), []byte("\n")), "\t", "\t"); err != nil {
			return fmt.Errorf("indent json: %w", err)
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return err
		}
		buf.Reset()
	}
	_, err := io.WriteString(w, "\n]\n")
	return err
}

// writeTAP is conftest's Test Anything Protocol stream: one plan for all
// checks, then failures, warnings, exceptions and one "ok" per success.
// Write errors surface from the buffered writer's Flush in Write.
func writeTAP(w io.Writer, results policy.CheckResults) {
	total := results.Totals().Tests()
	if total == 0 {
		return
	}
	fmt.Fprintf(w, "1..%d\n", total)
	n := 1
	line := func(status, file, ns, msg string) {
		fmt.Fprintf(w, "%s %d %s %s %s\n", status, n, file, ns, msg)
		n++
	}
	for i := range results {
		r := &results[i]
		file, ns := indicator(r.FileName), nsLabel(r.Namespace)
		for _, m := range r.Failures {
			line("not ok", file, ns, m.Msg)
		}
		if len(r.Warnings) > 0 {
			fmt.Fprintln(w, "# warnings")
		}
		for _, m := range r.Warnings {
			line("not ok", file, ns, m.Msg)
		}
		if len(r.Exceptions) > 0 {
			fmt.Fprintln(w, "# exceptions")
		}
		for _, m := range r.Exceptions {
			line("ok", file, ns, m.Msg)
		}
		if r.Successes > 0 {
			fmt.Fprintln(w, "# successes")
		}
		for range r.Successes {
			line("ok", file, ns, "SUCCESS")
		}
	}
}

// writeGitHub writes GitHub Actions workflow commands: a group per file and
// namespace with an annotation per result, then conftest's summary line.
func writeGitHub(w io.Writer, results policy.CheckResults, opts Options) error {
	for i := range results {
		r := &results[i]
		if opts.GitHubHidePassed && len(r.Failures) == 0 && len(r.Warnings) == 0 && len(r.Exceptions) == 0 {
			continue
		}
		fileLoc := &policy.Location{File: r.FileName, Line: "1"}
		fmt.Fprintf(w, "::group::Testing %q against %d policies in namespace %q\n", r.FileName, r.Totals().Tests(), r.Namespace)
		for _, m := range r.Failures {
			githubLocs(w, "error", fileLoc, m.Location, m.Msg)
		}
		for _, m := range r.Warnings {
			githubLocs(w, "warning", fileLoc, m.Location, m.Msg)
		}
		for _, m := range r.Exceptions {
			githubLocs(w, "notice", fileLoc, m.Location, m.Msg)
		}
		githubLine(w, "notice", fileLoc, fmt.Sprintf("Number of successful checks: %d", r.Successes))
		fmt.Fprintln(w, "::endgroup::")
	}
	_, err := fmt.Fprintln(w, results.Totals().String())
	return err
}

var githubEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")

// githubLine writes one annotation. conftest passes the message through
// Sprintf as a format, so a "%" in a message comes out as "%!v(MISSING)" and
// the like; gitgate writes the message as it is.
func githubLine(w io.Writer, level string, loc *policy.Location, msg string) {
	fmt.Fprintf(w, "::%s file=%s,line=%s::%s\n", level, githubEscaper.Replace(loc.File), loc.Line, msg)
}

// githubLocs annotates the location a policy gave (_loc) when there is one:
// in the same file it replaces the file's first line; in another file both
// are annotated, as conftest does.
func githubLocs(w io.Writer, level string, fileLoc, loc *policy.Location, msg string) {
	switch {
	case loc == nil:
		githubLine(w, level, fileLoc, msg)
	case loc.File == fileLoc.File:
		githubLine(w, level, loc, msg)
	default:
		other := &policy.Location{File: relPath(loc.File), Line: loc.Line}
		githubLine(w, level, other, msg)
		githubLine(w, level, fileLoc, fmt.Sprintf("(ORIGINATING FROM %s) %s", other, msg))
	}
}

// relPath shortens an absolute path to one relative to the working folder,
// as conftest does for locations in other files.
func relPath(p string) string {
	if !filepath.IsAbs(p) {
		return p
	}
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	rel, err := filepath.Rel(wd, p)
	if err != nil {
		return p
	}
	return rel
}
