// Command restore measures firedrill's restore against the lab:
//
//	watch: how long after a Restore's status is written firedrill's watch
//	       sees the terminal phase (N samples; p50/p95/max).
//	big:   generate a namespace of N objects in the lab's source cluster,
//	       back it up with Velero, and time `firedrill restore` of it into
//	       the scratch cluster, with the process's peak RSS.
//
// Run from the repository root with the lab's environment:
//
//	eval "$(bin/firedrill-lab env)"
//	go run ./bench/restore watch -n 100
//	go build -o bin/firedrill ./cmd/firedrill && go run ./bench/restore big -objects 2000
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
		fmt.Fprintln(os.Stderr, "usage: restore watch [-n N] | restore big [-objects N]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "watch":
		err = runWatch(ctx, os.Args[2:])
	case "big":
		err = runBig(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown benchmark %q: want watch or big", os.Args[1])
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}
