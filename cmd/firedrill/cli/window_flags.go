package cli

import (
	"math/rand/v2"

	"github.com/urfave/cli/v2"
)

// windowFlags are the recovery window check's flags of run and verify.
func windowFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "window-sample", Usage: "check the object lock of `N` backups of the recovery window, drawn at random, instead of all", DefaultText: "0, all"},
		&cli.Int64Flag{Name: "window-seed", Usage: "draw the --window-sample with `SEED`, recorded in the report", DefaultText: "random"},
	}
}

// windowSample reads --window-sample and --window-seed; the seed is
// random when not given, so that successive drills sample different
// backups, and the report records it.
func windowSample(c *cli.Context) (n int, seed int64, err error) {
	n = c.Int("window-sample")
	if n < 0 {
		return 0, 0, usageErrorf("give a number of backups, or 0 to check all", "--window-sample %d: must not be negative", n)
	}
	if c.IsSet("window-seed") {
		return n, c.Int64("window-seed"), nil
	}
	return n, rand.Int64N(1 << 53), nil
}
