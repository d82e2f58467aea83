// Command bench measures firedrill's off-site comparison against the lab's
// real servers and rclone, and the memory of a very large comparison. See
// README.md for the commands and what each figure means.
package main

import (
	"os"
	"runtime/pprof"

	"github.com/firedrill-dev/firedrill/bench/internal/benchmain"
)

func main() {
	benchmain.Run("bench offsite [flags] | bench rss [flags] | bench retention [flags] | bench window [flags] | bench fleet [flags]", map[string]benchmain.Func{
		"offsite":   runOffsite,
		"rss":       runRSS,
		"retention": runRetention,
		"window":    runWindow,
		"fleet":     runFleet,
		rssChild:    rssChildMain,
		winChild:    windowChildMain,
	})
}

// startCPUProfile writes a CPU profile to path until stop is called; with
// an empty path it does nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
