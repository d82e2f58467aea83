package cli

import (
	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/scenarios"
)

// flagDuration writes d as a duration flag accepts it: "30m", not "30m0s"
// (scenarios.GoDuration, which the scenario's durations use too).
var flagDuration = scenarios.GoDuration

// durationDefaults gives every duration flag of c and its subcommands
// without a DefaultText of its own the default as the flag accepts it
// (flagDuration), so help says (default: 30m), not urfave/cli's 30m0s.
func durationDefaults(c *cli.Command) {
	for _, f := range c.Flags {
		if df, ok := f.(*cli.DurationFlag); ok && df.DefaultText == "" {
			df.DefaultText = flagDuration(df.Value)
		}
	}
	for _, sub := range c.Subcommands {
		durationDefaults(sub)
	}
}
