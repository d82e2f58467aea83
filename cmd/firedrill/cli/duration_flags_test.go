package cli

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"
)

func TestFlagDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Minute: "30m", time.Hour: "1h", 90 * time.Second: "1m30s", 10 * time.Second: "10s",
		2*time.Hour + 5*time.Minute: "2h5m", 0: "0s", 1500 * time.Millisecond: "1.5s",
	} {
		assert.Equal(t, want, flagDuration(d), "%v", d)
		back, err := time.ParseDuration(flagDuration(d))
		require.NoError(t, err)
		assert.Equal(t, d, back, "the flag accepts what help shows")
	}
}

// TestHelp_DurationDefaultsAsTheFlagTakesThem: every command's help shows
// a duration flag's default as the flag accepts it ((default: 30m)), never
// Go's time.Duration.String with its zero units (30m0s, 1h0m0s).
func TestHelp_DurationDefaultsAsTheFlagTakesThem(t *testing.T) {
	goStyle := regexp.MustCompile(`\(default: [^)]*\d+[hm]0[ms]\b`)
	n := 0
	eachCommand(func(path []string, c *cli.Command) {
		if c.Name == "help" {
			return
		}
		var durations []*cli.DurationFlag
		for _, f := range c.Flags {
			if df, ok := f.(*cli.DurationFlag); ok {
				durations = append(durations, df)
			}
		}
		if len(durations) == 0 {
			return
		}
		res := run(t, context.Background(), nil, append(path, "--help")...)
		require.Equal(t, ExitOK, res.code, "%v: %s", path, res.String())
		assert.NotRegexp(t, goStyle, res.stdout, "%v", path)
		for _, df := range durations {
			line := ""
			for _, l := range strings.Split(res.stdout, "\n") {
				if strings.Contains(l, "--"+df.Name+" ") {
					line = l
				}
			}
			if assert.NotEmpty(t, line, "%v --%s in help", path, df.Name) && df.Value != 0 {
				n++
				assert.Contains(t, line, "(default: "+flagDuration(df.Value)+")", "%v", path)
			}
		}
	})
	assert.GreaterOrEqual(t, n, 3, "run's --step-timeout and --notify-timeout, cleanup's --wait")
}
