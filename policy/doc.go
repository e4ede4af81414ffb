// Package policy is gitgate's Rego engine, built on the OPA v1 Go API.
//
// It loads Rego modules from folders or from an fs.FS (a verified Git
// snapshot, the embedded policy library), compiles them once, and prepares a
// single query that evaluates every rule conftest looks for (deny, violation,
// warn and their deny_<name>, violation_<name>, warn_<name> forms, plus
// exception rules) in the selected namespaces. Evaluation of many inputs runs
// in parallel over the shared compiled state; results carry conftest's JSON
// shape, so `gitgate check` can replace `conftest test` in a CI job.
//
// The admission profile (WithProfile(ProfileAdmission)) is what the webhook
// uses: no builtin that reaches the network or the environment, reads the
// clock or draws random numbers; builtin errors abort evaluation; every
// evaluation is bounded by a timeout; and an evaluation that fails for any
// reason is a denial with that reason, never a pass.
package policy
