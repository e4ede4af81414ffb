#!/usr/bin/env bash
# Issue 4, benchmark (c): the webhook's share of the latency of real writes
# through kube-apiserver, read from the API server's own histogram
# apiserver_admission_webhook_admission_duration_seconds (scraped from its
# /metrics with the envtest admin credentials).
#
#   test/bench/webhook-apiserver.sh            # 2,000 writes, 3 runs
#   WRITES=5000 COUNT=5 test/bench/webhook-apiserver.sh
#
# The benchmark (BenchmarkWebhookThroughAPIServer in test/e2e) starts etcd
# and kube-apiserver (built from source by test/envtest/build.sh), serves
# gitgate's admission server in the test process over TLS on 127.0.0.1 as
# gitgate serve does (webhook.Server's HTTP/1.1 serving, serve's GOGC 400
# unless GOGC is set in the environment), registers both webhook
# configurations as webhook/config generates them with the caBundle
# webhook/certs injects, applies a managed Namespace and ConfigMap with
# kubectl, and then patches an annotation of that ConfigMap WRITES times
# with client-go: a change Git allows, so every write calls the mutating
# and the validating webhook and is admitted.
#
# Reported per run: validate-/mutate-mean-ms (the API server's mean time per
# webhook call, TLS, network and review encoding included), -p99-ms (the
# p99 estimated from the API server's buckets, which are 5, 25, 100 ms ...
# wide, so it is interpolated as Prometheus' histogram_quantile does),
# -le5ms-% (the exact share of calls within 5 ms), handler-p99-ms (gitgate's
# handler alone, timed in the test server), request-p50/p99-ms (the whole
# write as the client sees it), webhook-share-% (both webhooks' time over
# the writes' time), and baseline-p50/p99-ms and added-p50/p99-ms: the same
# number of writes again after the configurations are deleted, and the
# difference of the percentiles.
set -euo pipefail
cd "$(dirname "$0")/../.."
WRITES=${WRITES:-2000}
COUNT=${COUNT:-3}
KUBEBUILDER_ASSETS="$(./test/envtest/build.sh)"
export KUBEBUILDER_ASSETS
echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
go test ./test/e2e -run '^$' -bench '^BenchmarkWebhookThroughAPIServer$' \
  -benchtime "${WRITES}x" -count "$COUNT" -timeout 30m
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
