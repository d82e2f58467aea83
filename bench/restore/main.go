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

import "github.com/firedrill-dev/firedrill/bench/internal/benchmain"

func main() {
	benchmain.Run("restore watch [-n N] | restore big [-objects N]", map[string]benchmain.Func{
		"watch": runWatch,
		"big":   runBig,
	})
}
