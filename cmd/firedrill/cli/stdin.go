package cli

import (
	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/scenarios"
)

// stdinName is how output names the scenario file arg: <stdin> for "-".
func stdinName(arg string) string {
	if arg == scenarios.StdinArg {
		return scenarios.StdinName
	}
	return arg
}

// stdinOnce refuses "-" given more than once: standard input holds one
// scenario, and a second read would find it empty.
func stdinOnce(c *cli.Context, args []string) error {
	n := 0
	for _, a := range args {
		if a == scenarios.StdinArg {
			n++
		}
	}
	if n > 1 {
		return usageErrorf(helpHint(c), "- (standard input) given %d times: it holds one scenario", n)
	}
	return nil
}
