package policy

import (
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// admissionForbidden lists builtins the admission profile removes, beyond
// every builtin OPA marks non-deterministic (which covers http.send,
// net.lookup_ip_addr, opa.runtime, time.now_ns, rand.intn, uuid.rfc4122,
// io.jwt.decode_verify and io.jwt.encode_sign*, which read the clock or draw
// randomness, and json.match_schema/verify_schema, which may fetch remote
// schemas).
//
// A verdict in admission must be a function of the request and the policies
// alone: the same Rego that judged a pull request must judge the request, and
// a webhook must never wait on the network or leak the environment.
var admissionForbidden = map[string]bool{
	"http.send":         true,
	"opa.runtime":       true,
	"time.now_ns":       true,
	"rand.intn":         true,
	"uuid.rfc4122":      true,
	"json.match_schema": true,
}

// AdmissionForbidden reports whether the admission profile removes the named
// builtin: every net.* builtin, every non-deterministic builtin (network,
// environment, clock, randomness) and the explicit list above.
func AdmissionForbidden(name string) bool {
	if strings.HasPrefix(name, "net.") || admissionForbidden[name] {
		return true
	}
	b, ok := ast.BuiltinMap[name]
	return ok && b.Nondeterministic
}

// admissionCapabilities is OPA's capabilities set minus the forbidden
// builtins, with network access disabled as well.
func admissionCapabilities() *ast.Capabilities {
	caps := ast.CapabilitiesForThisVersion()
	kept := caps.Builtins[:0]
	for _, b := range caps.Builtins {
		if strings.HasPrefix(b.Name, "net.") || admissionForbidden[b.Name] || b.Nondeterministic {
			continue
		}
		kept = append(kept, b)
	}
	caps.Builtins = kept
	caps.AllowNet = []string{}
	return caps
}

// Capabilities returns the OPA capabilities of a profile: every builtin for
// ProfileCI, the reduced set for ProfileAdmission.
func Capabilities(p Profile) *ast.Capabilities {
	if p == ProfileAdmission {
		return admissionCapabilities()
	}
	return ast.CapabilitiesForThisVersion()
}
