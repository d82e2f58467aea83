// Command bench measures firedrill's off-site comparison against the lab's
// real servers and rclone, and the memory of a very large comparison. See
// README.md for the commands and what each figure means.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench offsite [flags] | bench rss [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "offsite":
		err = runOffsite(ctx, os.Args[2:])
	case "rss":
		err = runRSS(ctx, os.Args[2:])
	case rssChild:
		err = rssChildMain(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown benchmark %q: want offsite or rss", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}
