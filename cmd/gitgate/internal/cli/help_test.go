package cli

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// TestHelpComplete holds every command to a complete help: a Long
// description and examples, reachable through --help with exit 0.
func TestHelpComplete(t *testing.T) {
	root := NewRootCommand(Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &bytes.Buffer{}})
	var names []string
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	for _, want := range []string{"check", "serve", "test", "verify", "version"} {
		if !slices.Contains(names, want) {
			t.Errorf("gitgate has no %s command (has %v)", want, names)
		}
	}

	code, out, stderr := run(t, "", "--help")
	if code != ExitOK {
		t.Fatalf("gitgate --help: exit %d, stderr %q", code, stderr)
	}
	if strings.TrimSpace(root.Long) == "" || strings.TrimSpace(root.Example) == "" {
		t.Error("gitgate has no Long description or no examples")
	}
	for _, name := range names {
		if !strings.Contains(out, name) {
			t.Errorf("gitgate --help does not list %s", name)
		}
	}

	for _, c := range root.Commands() {
		if !c.IsAvailableCommand() {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			if len(strings.TrimSpace(c.Long)) < 80 {
				t.Errorf("Long description is missing or thin: %q", c.Long)
			}
			if strings.TrimSpace(c.Example) == "" {
				t.Error("no examples")
			}
			if !strings.Contains(c.Example, "gitgate "+c.Name()) {
				t.Errorf("examples do not show gitgate %s: %q", c.Name(), c.Example)
			}
			code, out, stderr := run(t, "", c.Name(), "--help")
			if code != ExitOK {
				t.Fatalf("gitgate %s --help: exit %d, stderr %q", c.Name(), code, stderr)
			}
			for _, part := range []string{"Usage:", "Examples:", strings.TrimSpace(strings.SplitN(c.Long, "\n", 2)[0])} {
				if !strings.Contains(out, part) {
					t.Errorf("gitgate %s --help lacks %q:\n%s", c.Name(), part, out)
				}
			}
		})
	}
}

func TestServeHelpListsEnvironment(t *testing.T) {
	code, out, _ := run(t, "", "serve", "--help")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"$GITGATE_ADMISSION_TIMEOUT", "$GITGATE_WEBHOOK_ADDR", "POD_NAMESPACE", "--shutdown-timeout"} {
		if !strings.Contains(out, want) {
			t.Errorf("gitgate serve --help lacks %q", want)
		}
	}
}
