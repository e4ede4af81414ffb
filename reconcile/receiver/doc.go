// Package receiver is gitgate's push receiver: an HTTP endpoint for Git
// push webhooks that asks the reconciler to fetch a GitSource at once
// instead of at its next interval (issue 5, item 4).
//
// # Protocol
//
// A sender POSTs to /hook/<GitSource name>. The source's spec.receiver says
// which sender it is, and the Secret it names holds the shared secret under
// the key "token":
//
//   - github: X-Hub-Signature-256 is "sha256=" and the hex HMAC-SHA256 of
//     the body keyed with the secret, as GitHub sends it. A "ping" event
//     (X-GitHub-Event: ping, sent when the hook is created) with a valid
//     signature is answered 200 and triggers nothing.
//   - gitlab: X-Gitlab-Token equals the secret. GitLab signs nothing, so
//     the token is all there is; use HTTPS.
//   - generic: X-Signature is "sha256=<hex HMAC-SHA256 of the body>", for
//     any other sender (Gitea, Forgejo and Bitbucket can be set up so, or a
//     CI job with `openssl dgst -sha256 -hmac`).
//
// Answers: 202 accepted (Trigger(name) called once); 200 for a GitHub ping;
// 401 for a missing, malformed or wrong signature or token (nothing is
// triggered); 404 for a path that is not /hook/<name> with a valid name, an
// unknown source or one without a receiver; 405 for anything but POST; 413
// for a body over the cap; 400 when the sender hung up or its body could
// not be read; 500 when the source's receiver cannot be looked up (a
// missing Secret, say) or is misconfigured (an empty secret).
//
// # What it trusts
//
// Nothing in the payload. The body is never parsed: it is hashed (for the
// HMAC kinds) and discarded. A valid request only makes the reconciler
// fetch sooner; what it applies is still only what passes signature
// verification, the trust policy and Rego. So the worst a sender with a
// leaked secret can do is make gitgate fetch more often, and the worst an
// unauthenticated sender can do is be answered 401 (after a body of at
// most Options.MaxBodyBytes is hashed).
//
// Secrets are compared in constant time (hmac.Equal on the MACs; the GitLab
// token through SHA-256 digests of both sides, so that not even its length
// leaks). Neither the HMAC nor the token binds the request to a source, so
// give every source its own secret: then a request signed for one source is
// refused by every other (a replay to the same source only triggers another
// fetch, which is harmless).
//
// # Serving it
//
// NewHandler returns an http.Handler to mount at the root of the receiver's
// listener (gitgate serve --receiver-addr). The server around it should set
// ReadHeaderTimeout and ReadTimeout: the body cap bounds how much a sender
// can send, not how slowly. SecretLookup builds Options.Lookup from the
// cluster: the GitSource's spec.receiver and the "token" key of its Secret
// in gitgate's namespace.
//
// # Metrics
//
//	gitgate_receiver_requests_total{result}
//	    requests answered, by result: accepted, ping, unauthorized,
//	    not_found, method_not_allowed, too_large, bad_request, error
package receiver
