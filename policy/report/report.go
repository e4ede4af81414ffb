// Package report renders policy.CheckResults in the output formats of
// conftest's `test` command (stdout, json, tap, table, junit, github, sarif),
// so that `gitgate check` can replace `conftest test` in a CI job without
// changing what reads its output.
//
// Each format follows conftest v0.71.1 byte for byte where conftest is
// deterministic; where conftest is not (it walks Go maps, so the order of
// files, namespaces and JUnit suites varies from run to run), gitgate keeps
// the order of the results it is given. Fields that name the tool (SARIF's
// driver, JUnit's go.version) name gitgate.
package report

import (
	"bufio"
	"fmt"
	"io"
	"slices"

	"gitgate.dev/gitgate/policy"
)

// Formats are the names accepted by Write, in conftest's order.
var Formats = []string{"stdout", "json", "tap", "table", "junit", "github", "sarif"}

// Options tune a format.
type Options struct {
	// NoColor disables ANSI colors in the stdout format (conftest colors
	// by default, terminal or not).
	NoColor bool
	// SuppressExceptions leaves exceptions out of the stdout format.
	SuppressExceptions bool
	// ToolVersion is the version SARIF reports for the tool.
	ToolVersion string
	// GoVersion is the go.version property of JUnit suites (conftest
	// writes the Go version it was built with).
	GoVersion string
	// JUnitHideMessage names JUnit test cases by file only.
	JUnitHideMessage bool
	// GitHubHidePassed leaves files whose checks all passed out of the
	// github format (the summary still counts them).
	GitHubHidePassed bool
}

// Valid reports whether format is a known format name.
func Valid(format string) bool { return slices.Contains(Formats, format) }

// Write renders results in format to w.
func Write(w io.Writer, format string, results policy.CheckResults, opts Options) error {
	bw := bufio.NewWriter(w)
	var err error
	switch format {
	case "stdout", "":
		err = writeStandard(bw, results, opts)
	case "json":
		err = writeJSON(bw, results)
	case "tap":
		writeTAP(bw, results)
	case "table":
		err = writeTable(bw, results)
	case "junit":
		err = writeJUnit(bw, results, opts)
	case "github":
		err = writeGitHub(bw, results, opts)
	case "sarif":
		err = writeSARIF(bw, results, opts)
	default:
		return fmt.Errorf("unknown output format %q (want one of %v)", format, Formats)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// indicator and nsLabel are how conftest's line formats name a file and a
// namespace; "-" (standard input) stands alone.
func indicator(file string) string {
	if file == "-" {
		return "-"
	}
	return "- " + file
}

func nsLabel(ns string) string {
	if ns == "-" {
		return "-"
	}
	return "- " + ns + " -"
}
