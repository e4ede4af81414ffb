package trust

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenPaths are looked up in testdata/example-trust.yaml; the golden file
// records which rule governs each one.
var goldenPaths = []string{
	".gitgate/trust.yaml",
	"clusters/prod/web/deployment.yaml",
	"clusters/prod/images.yaml",
	"clusters/dev/secrets/db.yaml",
	"clusters/dev/payments/api.yaml",
	"clusters/dev/payments/images.yaml",
	"clusters/dev/images.yaml",
	"clusters/dev/web/deployment.yaml",
	"clusters/README.md",
	"README.md",
	"docs/setup/install.txt",
	"Makefile",
	"clustersx/a.yaml",
}

// render describes a policy in a stable text form for golden comparison.
func render(p *Policy) string {
	var b strings.Builder
	fmt.Fprintf(&b, "signers: %s\nkeys: %d\n", strings.Join(p.Signers(), ", "), p.Keys().Len())
	for _, r := range p.Rules() {
		fmt.Fprintf(&b, "rule %d (line %d): paths %q signers %q approvals %d\n", r.Index, r.Line, r.Paths, r.Signers, r.Approvals)
	}
	for _, path := range goldenPaths {
		if r := p.RuleFor(path); r != nil {
			fmt.Fprintf(&b, "%s -> rule %d\n", path, r.Index)
		} else {
			fmt.Fprintf(&b, "%s -> no rule\n", path)
		}
	}
	return b.String()
}

func TestGoldenExample(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "example-trust.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got := render(mustParse(t, string(src)))
	golden := filepath.Join("testdata", "example-trust.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("policy renders differently from %s:\n--- got\n%s--- want\n%s", golden, got, want)
	}
}
