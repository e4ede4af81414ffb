package report

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"gitgate.dev/gitgate/policy"
)

// SARIF 2.1.0, the subset conftest writes, field for field in its order.
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/schema/sarif-schema-2.1.0.json"
	toolName     = "gitgate"
	toolURI      = "https://gitgate.dev"

	successDesc   = "Policy was satisfied successfully"
	skippedDesc   = "Policy check was skipped"
	failureDesc   = "Policy violation"
	warningDesc   = "Policy warning"
	exceptionDesc = "Policy exception"
)

type sarifLog struct {
	Version string     `json:"version"`
	Schema  string     `json:"$schema"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	InformationURI string      `json:"informationUri"`
	Name           string      `json:"name"`
	Rules          []sarifRule `json:"rules"`
	Version        string      `json:"version,omitempty"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID               string          `json:"id"`
	ShortDescription sarifText       `json:"shortDescription"`
	Properties       policy.Metadata `json:"properties,omitempty"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool   `json:"executionSuccessful"`
	ExitCode            int    `json:"exitCode"`
	ExitCodeDescription string `json:"exitCodeDescription"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
	EndLine   int `json:"endLine"`
}

// statusMetadata are the properties of the success and skip rules.
var statusMetadata = map[string]policy.Metadata{
	"success": policy.Metadata(`{"description":"` + successDesc + `"}`),
	"skip":    policy.Metadata(`{"description":"` + skippedDesc + `"}`),
}

// sarifBuilder assigns rule indexes in order of first use, as conftest does.
type sarifBuilder struct {
	run     sarifRun
	indices map[string]int
}

func (b *sarifBuilder) add(m policy.Message, namespace, kind, level, file string) {
	id := namespace + "/" + kind
	idx, ok := b.indices[id]
	if !ok {
		idx = len(b.run.Tool.Driver.Rules)
		b.indices[id] = idx
		b.run.Tool.Driver.Rules = append(b.run.Tool.Driver.Rules, sarifRule{
			ID:               id,
			ShortDescription: sarifText{Text: ruleDescription(kind)},
			Properties:       m.Metadata,
		})
	}
	var phys sarifPhysical
	if m.Location != nil {
		// conftest ignores a line that is not an integer (it becomes 0).
		line, _ := strconv.Atoi(m.Location.Line.String())
		file = m.Location.File
		phys.Region = &sarifRegion{StartLine: line, EndLine: line}
	}
	phys.ArtifactLocation.URI = (&url.URL{Path: filepath.ToSlash(file)}).EscapedPath()
	b.run.Results = append(b.run.Results, sarifResult{
		RuleID: id, RuleIndex: idx, Level: level,
		Message:   sarifText{Text: m.Msg},
		Locations: []sarifLocation{{PhysicalLocation: phys}},
	})
}

func ruleDescription(kind string) string {
	switch kind {
	case "success":
		return successDesc
	case "skip":
		return skippedDesc
	case "allow":
		return exceptionDesc
	case "warn":
		return warningDesc
	default:
		return failureDesc
	}
}

// writeSARIF writes one run: a result per failure (error), warning
// (warning) and exception (note), and for a file with neither failures nor
// warnings one "success" result (or "skip" when nothing ran), as conftest
// does. The driver names gitgate.
func writeSARIF(w io.Writer, results policy.CheckResults, opts Options) error {
	b := &sarifBuilder{indices: map[string]int{}}
	b.run.Tool.Driver = sarifDriver{
		InformationURI: toolURI,
		Name:           toolName,
		Rules:          []sarifRule{},
		Version:        strings.TrimPrefix(opts.ToolVersion, "v"),
	}
	b.run.Results = []sarifResult{}
	for i := range results {
		r := &results[i]
		for _, m := range r.Failures {
			b.add(m, r.Namespace, "deny", "error", r.FileName)
		}
		for _, m := range r.Warnings {
			b.add(m, r.Namespace, "warn", "warning", r.FileName)
		}
		for _, m := range r.Exceptions {
			b.add(m, r.Namespace, "allow", "note", r.FileName)
		}
		if len(r.Failures) > 0 || len(r.Warnings) > 0 {
			continue
		}
		kind, desc := "skip", skippedDesc
		if r.Successes > 0 || len(r.Exceptions) > 0 {
			kind, desc = "success", successDesc
		}
		b.add(policy.Message{Msg: desc, Metadata: statusMetadata[kind]}, r.Namespace, kind, "none", r.FileName)
	}
	exitDesc := "No policy violations found"
	switch {
	case results.HasFailure():
		exitDesc = "Policy violations found"
	case results.HasWarning():
		exitDesc = "Policy warnings found"
	}
	b.run.Invocations = []sarifInvocation{{
		ExecutionSuccessful: true,
		ExitCode:            results.ExitCode(false),
		ExitCodeDescription: exitDesc,
	}}
	out, err := json.Marshal(sarifLog{Version: sarifVersion, Schema: sarifSchema, Runs: []sarifRun{b.run}})
	if err != nil {
		return fmt.Errorf("marshal sarif: %w", err)
	}
	_, err = w.Write(out)
	return err
}
