package trust

import (
	"fmt"
	"strings"
	"testing"
)

// benchPolicy is shaped like a monorepo policy: the trust policy itself,
// per-cluster and per-team rules, file-type rules, and a catch-all last, so
// an average path tries many rules before one matches.
func benchPolicySource() string {
	var b strings.Builder
	b.WriteString(head)
	b.WriteString("rules:\n")
	b.WriteString("  - {paths: [\".gitgate/**\"], signers: [alice, bob], approvals: 2}\n")
	for _, c := range []string{"prod", "staging", "dev"} {
		fmt.Fprintf(&b, "  - {paths: [\"clusters/%s/**\", \"**/overlays/%s/**\"], signers: [alice]}\n", c, c)
	}
	for i := range 20 {
		fmt.Fprintf(&b, "  - {paths: [\"teams/t%02d/**\", \"apps/t%02d-*/**\"], signers: [bob]}\n", i, i)
	}
	b.WriteString("  - {paths: [\"**/*.md\", \"docs/**\", \"[A-Z]*\"], signers: [alice, bob]}\n")
	b.WriteString("  - {paths: [\"**\"], signers: [alice]}\n")
	return b.String()
}

func benchPaths() []string {
	var paths []string
	for i := range 2000 {
		switch i % 5 {
		case 0:
			paths = append(paths, fmt.Sprintf("teams/t%02d/app%d/deployment.yaml", i%25, i))
		case 1:
			paths = append(paths, fmt.Sprintf("apps/t%02d-web/base/overlays/dev/svc%d.yaml", i%20, i))
		case 2:
			paths = append(paths, fmt.Sprintf("clusters/prod/ns%d/configmap.yaml", i))
		case 3:
			paths = append(paths, fmt.Sprintf("docs/guide/part%d/README.md", i))
		default:
			paths = append(paths, fmt.Sprintf("vendor/lib%d/src/x/y/z/file%d.go", i, i))
		}
	}
	return paths
}

// BenchmarkRuleFor measures looking up the governing rule for each of 2,000
// changed paths against a 26-rule policy.
func BenchmarkRuleFor(b *testing.B) {
	p := mustParse(b, benchPolicySource())
	paths := benchPaths()
	matched := 0
	b.ReportAllocs()
	for b.Loop() {
		for _, path := range paths {
			if p.RuleFor(path) != nil {
				matched++
			}
		}
	}
	if matched == 0 {
		b.Fatal("no path matched")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(paths)), "ns/path")
}

// BenchmarkParse measures parsing that policy, keys included.
func BenchmarkParse(b *testing.B) {
	src := []byte(benchPolicySource())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(testFile, src); err != nil {
			b.Fatal(err)
		}
	}
}
