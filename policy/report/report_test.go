package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"

	"gitgate.dev/gitgate/policy"
)

func sample() policy.CheckResults {
	return policy.CheckResults{
		{
			FileName: "dir/a b.yaml", Namespace: "main", Successes: 2,
			Failures: []policy.Message{
				{Msg: "denied", Metadata: policy.Metadata(`{"id":"X-1","query":"data.main.deny"}`)},
				{Msg: "at a line", Location: &policy.Location{File: "dir/a b.yaml", Line: "7"}, Metadata: policy.Metadata(`{"query":"data.main.deny"}`)},
			},
			Warnings:   []policy.Message{{Msg: "cpu at 50%", Metadata: policy.Metadata(`{"query":"data.main.warn"}`)}},
			Exceptions: []policy.Message{{Msg: `data.main.exception[_][_] == "x"`}},
		},
		{FileName: "-", Namespace: "other", Successes: 1},
		{FileName: "c.json", Namespace: "other"},
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	if err := Write(&bytes.Buffer{}, "xml", nil, Options{}); err == nil || !strings.Contains(err.Error(), `unknown output format "xml"`) {
		t.Errorf("Write(xml) = %v", err)
	}
	for _, f := range Formats {
		if !Valid(f) {
			t.Errorf("Valid(%q) = false", f)
		}
		var buf bytes.Buffer
		if err := Write(&buf, f, sample(), Options{}); err != nil {
			t.Errorf("Write(%s): %v", f, err)
		}
	}
}

func TestJSONStdinAndEmpty(t *testing.T) {
	var buf bytes.Buffer
	rs := sample()
	if err := Write(&buf, "json", rs, Options{}); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got[1]["filename"] != "" {
		t.Errorf("stdin file name = %q, want \"\" as conftest writes it", got[1]["filename"])
	}
	if rs[1].FileName != "-" {
		t.Error("Write changed the caller's results")
	}
	buf.Reset()
	if err := Write(&buf, "json", nil, Options{}); err != nil || buf.String() != "null\n" {
		t.Errorf("empty json = %q, %v; conftest writes null", buf.String(), err)
	}
}

// TestSARIFRequiredFields checks the SARIF 2.1.0 properties the
// specification requires (version, runs, tool.driver.name, each result's
// message) and the ones code-scanning tools read.
func TestSARIFRequiredFields(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, "sarif", sample(), Options{ToolVersion: "v1.2.3"}); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Schema  string `json:"$schema"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name    string `json:"name"`
					Version string `json:"version"`
					Rules   []struct {
						ID               string         `json:"id"`
						ShortDescription map[string]any `json:"shortDescription"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string         `json:"ruleId"`
				RuleIndex *int           `json:"ruleIndex"`
				Level     string         `json:"level"`
				Message   map[string]any `json:"message"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region *struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
			Invocations []struct {
				ExecutionSuccessful *bool `json:"executionSuccessful"`
				ExitCode            int   `json:"exitCode"`
			} `json:"invocations"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || !strings.Contains(log.Schema, "sarif-schema-2.1.0") || len(log.Runs) != 1 {
		t.Fatalf("log = %+v", log)
	}
	run := log.Runs[0]
	if run.Tool.Driver.Name != "gitgate" || run.Tool.Driver.Version != "1.2.3" {
		t.Errorf("driver = %+v", run.Tool.Driver)
	}
	wantLevels := []string{"error", "error", "warning", "note", "none", "none"}
	if len(run.Results) != len(wantLevels) {
		t.Fatalf("got %d results, want %d", len(run.Results), len(wantLevels))
	}
	for i, r := range run.Results {
		if r.Level != wantLevels[i] || r.Message["text"] == "" || r.RuleIndex == nil || len(r.Locations) != 1 {
			t.Errorf("result %d = %+v", i, r)
			continue
		}
		if rule := run.Tool.Driver.Rules[*r.RuleIndex]; rule.ID != r.RuleID || rule.ShortDescription["text"] == "" {
			t.Errorf("result %d points to rule %+v", i, rule)
		}
	}
	if uri := run.Results[0].Locations[0].PhysicalLocation.ArtifactLocation.URI; uri != "dir/a%20b.yaml" {
		t.Errorf("uri = %q, want it escaped", uri)
	}
	if reg := run.Results[1].Locations[0].PhysicalLocation.Region; reg == nil || reg.StartLine != 7 {
		t.Errorf("region = %+v", reg)
	}
	if run.Results[4].RuleID != "other/success" || run.Results[5].RuleID != "other/skip" {
		t.Errorf("status results = %s, %s", run.Results[4].RuleID, run.Results[5].RuleID)
	}
	if inv := run.Invocations; len(inv) != 1 || inv[0].ExecutionSuccessful == nil || inv[0].ExitCode != 1 {
		t.Errorf("invocations = %+v", inv)
	}
}

func TestJUnitIsWellFormed(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, "junit", sample(), Options{GoVersion: "go0"}); err != nil {
		t.Fatal(err)
	}
	var suites junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &suites); err != nil {
		t.Fatalf("invalid XML: %v\n%s", err, buf.String())
	}
	if len(suites.Suites) != 2 || suites.Suites[0].Name != "conftest.main" || suites.Suites[0].Tests != 5 || suites.Suites[0].Failures != 3 {
		t.Errorf("suites = %+v", suites.Suites)
	}
}

func TestGitHubEscapesFileNames(t *testing.T) {
	var buf bytes.Buffer
	rs := policy.CheckResults{{FileName: "a,b:c%.yaml", Namespace: "main", Failures: []policy.Message{{Msg: "50% off"}}}}
	if err := Write(&buf, "github", rs, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "::error file=a%2Cb%3Ac%25.yaml,line=1::50% off\n") {
		t.Errorf("github output = %q", buf.String())
	}
}

func TestTableWideCharacters(t *testing.T) {
	var buf bytes.Buffer
	rs := policy.CheckResults{{FileName: "f", Namespace: "n", Failures: []policy.Message{{Msg: "日本"}, {Msg: "abcd"}}}}
	if err := Write(&buf, "table", rs, Options{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	// Both rows end at the same column: 日本 is four columns wide, like abcd.
	if len(lines) != 6 || !strings.HasSuffix(lines[3], "日本    │") || !strings.HasSuffix(lines[4], "abcd    │") {
		t.Errorf("table:\n%s", buf.String())
	}
}
