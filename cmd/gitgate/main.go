// Command gitgate makes Git the only way into a Kubernetes cluster.
//
// main stays thin: every command is built in package cli from its
// dependencies, so tests run the same code that users do.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"gitgate.dev/gitgate/cmd/gitgate/internal/cli"
	"gitgate.dev/gitgate/cmd/gitgate/internal/devenv"
)

func main() {
	// gitgate dev starts etcd and kube-apiserver through gitgate itself, so
	// that they die with it; see package devenv.
	devenv.ExecGuarded()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(code)
}
