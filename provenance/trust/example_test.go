package trust_test

import (
	"fmt"
	"log"

	"gitgate.dev/gitgate/provenance/trust"
)

func ExampleParse() {
	policy := []byte(`version: 1
signers:
  alice:
    keys:
      - ssh: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINdW99qFlvv0lC7ZfcD8USgWsWwcbHuuzGZRpvbWe5Yv alice@example.com"
  bob:
    keys:
      - ssh: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDMNiAfXXwpvWMHrVd6D4vXdaZ+ll8ouRUmqYeH8Takm bob@example.com"
groups:
  maintainers: [alice, bob]
rules:
  - paths: [".gitgate/**", "clusters/prod/**"]
    signers: [maintainers]
    approvals: 2
  - paths: ["clusters/**"]
    signers: [bob]
`)
	p, err := trust.Parse(trust.Path, policy)
	if err != nil {
		log.Fatal(err)
	}
	for _, path := range []string{trust.Path, "clusters/dev/app.yaml", "README.md"} {
		r := p.RuleFor(path)
		if r == nil {
			fmt.Printf("%s: no rule, cannot change\n", path)
			continue
		}
		fmt.Printf("%s: rule %d, %d approval(s) from %v; alice allowed: %v\n",
			path, r.Index, r.Approvals, r.Signers, r.Allows("alice"))
	}

	// Errors name the file, the line and the field.
	_, err = trust.Parse(trust.Path, []byte("version: 1\nrules:\n  - paths: [\"**\"]\n    signers: [mallory]\n"))
	fmt.Println(err)

	// Output:
	// .gitgate/trust.yaml: rule 0, 2 approval(s) from [alice bob]; alice allowed: true
	// clusters/dev/app.yaml: rule 1, 1 approval(s) from [bob]; alice allowed: false
	// README.md: no rule, cannot change
	// .gitgate/trust.yaml:4: rules[0].signers[0]: unknown signer or group "mallory"
}
