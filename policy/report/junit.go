package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"runtime"
	"strings"

	"gitgate.dev/gitgate/policy"
)

// The JUnit XML schema as go-junit-report writes it for conftest.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	XMLName    xml.Name        `xml:"testsuite"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Time       string          `xml:"time,attr"`
	Name       string          `xml:"name,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	TestCases  []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	XMLName   xml.Name      `xml:"testcase"`
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message  string `xml:"message,attr"`
	Type     string `xml:"type,attr"`
	Contents string `xml:",chardata"`
}

// writeJUnit writes one suite per namespace, named "conftest.<namespace>" as
// conftest names it (kept, so that CI dashboards keep their history when a
// job switches tools), with a failing case per warning and failure and a
// passing case per success. Suites come in the order their namespaces first
// appear; conftest's order is random.
func writeJUnit(w io.Writer, results policy.CheckResults, opts Options) error {
	goVersion := opts.GoVersion
	if goVersion == "" {
		goVersion = runtime.Version()
	}
	var suites junitSuites
	index := map[string]int{}
	for i := range results {
		r := &results[i]
		k, ok := index[r.Namespace]
		if !ok {
			k = len(suites.Suites)
			index[r.Namespace] = k
			name := "conftest." + r.Namespace
			suites.Suites = append(suites.Suites, junitSuite{
				Time:       "0.000",
				Name:       name,
				Properties: []junitProperty{{Name: "go.version", Value: goVersion}},
				TestCases:  []junitCase{},
			})
		}
		s := &suites.Suites[k]
		fail := func(msg string) {
			s.Failures++
			s.TestCases = append(s.TestCases, junitCase{
				Classname: s.Name, Name: junitName(r.FileName, msg, opts.JUnitHideMessage), Time: "0.000",
				Failure: &junitFailure{Message: "Failed", Contents: msg},
			})
		}
		for _, m := range r.Warnings {
			fail(m.Msg)
		}
		for _, m := range r.Failures {
			fail(m.Msg)
		}
		for range r.Successes {
			s.TestCases = append(s.TestCases, junitCase{Classname: s.Name, Name: r.FileName, Time: "0.000"})
		}
	}
	for i := range suites.Suites {
		suites.Suites[i].Tests = len(suites.Suites[i].TestCases)
	}
	b, err := xml.MarshalIndent(suites, "", "\t")
	if err != nil {
		return fmt.Errorf("marshal junit: %w", err)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	_, err = io.WriteString(w, "\n")
	return err
}

// junitName is "<file> - <first line of the message>", or the file alone
// for a success or when messages are hidden.
func junitName(file, msg string, hide bool) string {
	if msg == "" || hide {
		return file
	}
	first, _, _ := strings.Cut(msg, "\n")
	return file + " - " + first
}
