// Package certs makes and rotates the TLS certificates of gitgate's
// admission webhook and keeps the webhook configurations' caBundle current.
//
// A Manager holds a self-signed CA (ECDSA P-256) and a serving certificate
// it signs for the webhook Service (<service>.<namespace>.svc and
// <service>.<namespace>.svc.cluster.local) plus any extra DNS names and IP
// addresses (127.0.0.1 in tests). The server takes the certificate through
// tls.Config.GetCertificate, so a rotated certificate is served from the
// next handshake on, without a restart.
//
// Lifetimes and rotation (all times from the Manager's clock):
//
//   - the CA lives DefaultCALifetime (one year) and the serving certificate
//     DefaultServingLifetime (90 days), never beyond its CA; certificates are
//     backdated by five minutes against clock skew;
//   - each is renewed once two thirds of its lifetime have passed (the CA
//     after about 243 days, the serving certificate after 60), which leaves a
//     third of the lifetime to retry if renewal fails;
//   - a new CA is added to the bundle next to the old one; it signs serving
//     certificates only after a bundle holding it has been injected into the
//     webhook configurations (Sync confirms it) and Propagation has passed,
//     so the API server trusts the new certificate before it is served. The
//     old CA stays in the bundle until it expires, so a replica still
//     serving a certificate from it keeps working during the overlap.
//
// The bundle reaches the API server through an Injector; WebhookInjector
// writes it into webhooks[*].clientConfig.caBundle of both configurations.
// Sync does one rotation check and injection, Run repeats it: repeating the
// injection also repairs a configuration that was re-applied without its
// caBundle.
//
// Several replicas: each replica must serve a certificate that the one
// bundle in the configurations trusts. Without a Store every replica makes
// its own CA and they overwrite each other's bundle, so with more than one
// replica give the Manager a SecretStore: the CAs (certificates and keys)
// then live in one Secret, the first replica creates it, the others adopt
// it (optimistic concurrency on the Secret's resourceVersion decides races),
// and each replica signs its own serving certificate with the shared CA.
package certs
