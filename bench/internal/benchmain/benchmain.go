// Package benchmain is the main of the bench programs: a signal context,
// one named benchmark run with the remaining arguments, and exit codes
// (2 usage, 1 error).
package benchmain

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Func is one benchmark, run with the arguments after its name.
type Func func(ctx context.Context, args []string) error

// Run runs the benchmark os.Args[1] names; usage is printed without one.
// It does not return.
func Run(usage string, benchmarks map[string]Func) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage:", usage)
		os.Exit(2)
	}
	run, ok := benchmarks[os.Args[1]]
	var err error
	if ok {
		err = run(ctx, os.Args[2:])
	} else {
		err = fmt.Errorf("unknown benchmark %q; usage: %s", os.Args[1], usage)
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}
