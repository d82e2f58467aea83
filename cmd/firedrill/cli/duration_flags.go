package cli

import (
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

// flagDuration writes d as a duration flag accepts it, without the zero
// units Go's time.Duration.String adds: "30m", not "30m0s"; "1h", "1m30s",
// "10s".
func flagDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

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
