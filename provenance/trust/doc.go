// Package trust reads a repository's trust policy, .gitgate/trust.yaml:
// who may sign commits (their SSH, OpenPGP and X.509 keys), named groups of
// signers, and ordered path rules that say which signers may change which
// files and how many distinct approvals a change needs.
//
// The policy is untrusted input until the commit that carries it has been
// verified, so Parse is strict: unknown fields, duplicate keys, YAML anchors
// and aliases, several documents, unparsable keys, group cycles and unknown
// names are all errors that name the file, line and field
// ("<file>:<line>: <field>: <reason>", see Error). Beyond the schema it also
// refuses what can only be a mistake: names outside [A-Za-z0-9._@+-] (they
// end up in annotations and logs), a rule asking for more approvals than it
// has signers, an x509 issuer that is not an absolute URL, and files over
// MaxSize.
//
// # Path globs
//
// A rule's paths are globs over repo-relative paths with forward slashes,
// compared byte for byte (case-sensitive, as Git is):
//
//   - "**" as a whole path segment matches zero or more whole segments, so
//     "a/**" matches "a", "a/b" and "a/b/c", and "**/x.yaml" matches "x.yaml"
//     and "d/e/x.yaml". "**" mixed with other characters in a segment is an
//     error.
//   - "*" matches any run of characters within one segment (never a "/"),
//     including none and including a leading ".".
//   - "?" matches exactly one character (a UTF-8 code point) within a segment.
//   - "[abc]", "[a-z]", "[!a-z]" and "[^a-z]" match one character of (or not
//     of) the class; "\" escapes the next character, inside or outside a class.
//   - Anything else matches itself.
//
// A glob must not be empty, start or end with "/", contain "//", "." or ".."
// segments, or be longer than 4096 bytes. Globs are compiled once by Parse;
// matching does not allocate.
//
// Rules are tried in order and the first rule with a matching glob governs
// a path (RuleFor); a path that no rule matches cannot be changed. The
// empty path matches no rule.
package trust
