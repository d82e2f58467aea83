// Command firedrill runs disaster-recovery drills for Kubernetes platforms
// backed up with Velero to S3-compatible object storage. See
// `firedrill --help`; the command line lives in cmd/firedrill/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	// Trusted roots for when the system has none: the container image is
	// one static binary on an empty base, with no /etc/ssl/certs, and
	// still reaches AWS S3, a Pushgateway or Slack over HTTPS.
	_ "golang.org/x/crypto/x509roots/fallback"
	// The time zone database, for the same reason: a scheduled drill's
	// pod has TZ set to the CronJob's time zone, and the firedrill image
	// has no /usr/share/zoneinfo. Without it Go falls back to UTC.
	_ "time/tzdata"

	"golang.org/x/term"

	"github.com/firedrill-dev/firedrill/cmd/firedrill/cli"
)

func main() {
	// Every time firedrill records or prints is in UTC (RFC 3339 with Z),
	// whatever TZ says: a scheduled drill's pod has TZ set to its
	// CronJob's zone. time.Now keeps its monotonic reading, which
	// Time.UTC would strip. TZ still reaches runbook steps.
	time.Local = time.UTC
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// Without a working directory relative paths use the process's own;
	// without a home directory "~" stays as written. Neither stops firedrill.
	wd, _ := os.Getwd()
	home, _ := os.UserHomeDir()
	code := cli.Run(ctx, os.Args, cli.Env{
		Stdin:           os.Stdin,
		Stdout:          os.Stdout,
		Stderr:          os.Stderr,
		StdinIsTerminal: term.IsTerminal(int(os.Stdin.Fd())),
		Getenv:          os.Getenv,
		WorkDir:         wd,
		HomeDir:         home,
	})
	stop()
	os.Exit(code)
}
