// Command bench measures firedrill's off-site comparison against the lab's
// real servers and rclone, and the memory of a very large comparison. See
// README.md for the commands and what each figure means.
package main

import "github.com/firedrill-dev/firedrill/bench/internal/benchmain"

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
