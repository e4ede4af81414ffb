// Package server is `gitgate serve`: one process that runs gitgate's
// admission webhook, its reconciler and push receiver, and serves metrics
// and health, against a Kubernetes API server.
//
// Run wires the parts together:
//
//   - a controller-runtime manager (client-go's scheme and GitSource) with
//     leader election: the reconciler builds every source's Index on every
//     replica and applies, prunes and reverts drift only on the leader;
//   - the admission webhook (package webhook) on every replica, judging
//     requests against the shared *index.Store, with gitgate's own service
//     account exempt and its serving certificate either made and rotated by
//     webhook/certs (the CA shared through a Secret and injected into the
//     webhook configurations) or read from files that cert-manager writes,
//     reloaded when they change;
//   - a Publisher that hands each synced source's scope and Rego engine to
//     the webhook, with a router that judges every request by the policies
//     of the source(s) it belongs to;
//   - the push receiver (package reconcile/receiver), which triggers an
//     immediate fetch;
//   - /metrics (gitgate's registry and controller-runtime's), /healthz and
//     /readyz on one HTTP port; /readyz turns ready once the controllers
//     have started, every source's Index has been built (reconcile's
//     Ready: a source never applied counts once its first sync ended), a serving
//     certificate is loaded and (when gitgate injects it) the CA bundle is
//     in the webhook configurations.
//
// Shutdown is ordered: readiness turns false, admission requests in flight
// drain (bounded by the admission timeout), the receiver stops, then the
// manager stops its controllers and releases the leader lease.
//
// Run can be called in-process (gitgate dev, tests): every Run has its own
// Prometheus registry, and Config.OnListen reports the ports bound.
package server
