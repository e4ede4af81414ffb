// Command webhookload is benchmark (b) of issue 4: a load generator that
// drives gitgate's admission server over HTTPS on loopback and reports the
// reviews per second and the latency percentiles its clients see.
//
// It starts webhook.Server in process on 127.0.0.1 with a self-signed
// certificate from webhook/certs, an Index of a mid-sized repository (a few
// hundred namespaces with a Deployment, a Service and a ConfigMap each, and
// a Deployment of about 10 KB) and the whole policy library in the
// admission profile. Then -c clients, each on its own kept-alive HTTP/1.1
// connection as the API server keeps its own, send AdmissionReviews for an
// UPDATE of the big Deployment that conforms to Git, as the API server
// sends it after a controller or kubectl wrote it: the full pipeline runs
// (decode, Index, conformance, Rego, answer) and every answer must allow
// the request with the library's warnings, or the run fails. Clients and
// server share the machine, as the API server and the webhook share a
// node's cores. Latency is measured from just before the request is written
// to just after the answer is decoded.
//
// Usage:
//
//	go run ./test/bench/webhookload [-c 16] [-d 20s] [-warmup 3s] [-path validate|mutate] [-policy=false] [-json]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"gitgate.dev/gitgate/internal/gctune"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses args, runs the benchmark and writes its report; it returns
// the exit code: 0 done, 1 the run failed (an error answer, a denial), 2
// bad flags or a setup error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	// Server and clients collect garbage as gitgate serve does.
	defer gctune.Tune(ctx, os.LookupEnv)()
	rep, err := benchmark(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "webhookload: %v\n", err)
		var fe *failedError
		if errors.As(err, &fe) {
			return 1
		}
		return 2
	}
	if err := rep.write(stdout, cfg.json); err != nil {
		fmt.Fprintf(stderr, "webhookload: write report: %v\n", err)
		return 2
	}
	if rep.Errors > 0 {
		fmt.Fprintf(stderr, "webhookload: %d of %d reviews failed (first: %s)\n", rep.Errors, rep.Requests+rep.Errors, rep.FirstError)
		return 1
	}
	return 0
}
