package cli

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/drill/metrics"
	"github.com/firedrill-dev/firedrill/drill/notify"
	"github.com/firedrill-dev/firedrill/internal/version"
)

// runHookFlags tell `firedrill run` whom to tell how a drill ended.
// Defaults come from the environment through a.env, like --history.
func runHookFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{
			Name:  "metrics-file",
			Usage: "after the drill, write Prometheus metrics of every scenario of the history to `FILE`, atomically; name it *.prom in node-exporter's textfile directory (default $FIREDRILL_METRICS_FILE)",
		},
		&cli.StringFlag{
			Name:  "pushgateway",
			Usage: "after the drill, push the scenario's metrics to the Pushgateway at `URL` (job firedrill, grouped by scenario; default $FIREDRILL_PUSHGATEWAY)",
		},
		&cli.StringFlag{
			Name:  "notify-webhook",
			Usage: "after the drill, POST its summary to `URL`; only its scheme and host are ever printed (default $FIREDRILL_NOTIFY_WEBHOOK)",
		},
		&cli.StringFlag{
			Name:  "notify-format",
			Usage: "body of the notification, `FORMAT`: json (the summary) or slack ({\"text\": ...}) (default $FIREDRILL_NOTIFY_FORMAT, else json)",
		},
		&cli.DurationFlag{
			Name:  "notify-timeout",
			Value: notify.DefaultTimeout,
			Usage: "give up notifying after `DURATION`, retries included; a failed notification or metrics export is a warning and never changes the exit code",
		},
	}
}

// runHooks are whom a drill tells how it ended, beside its record:
// metrics exporters and notifiers.
type runHooks struct {
	metrics   []drill.MetricsExporter
	notifiers []drill.Notifier
}

// runHooks reads the hooks' flags before the drill, so a mistake in them
// is found before a drill of half an hour, not after.
func (a *app) runHooks(c *cli.Context) (runHooks, error) {
	flagOrEnv := func(flag, env string) string {
		if v := c.String(flag); v != "" {
			return v
		}
		return a.env.getenv(env)
	}
	var h runHooks
	if f := flagOrEnv("metrics-file", "FIREDRILL_METRICS_FILE"); f != "" {
		file, err := metrics.NewFile(a.abs(f))
		if err != nil {
			return h, usageErrorf(helpHint(c), "--metrics-file %s: %v", a.abs(f), err)
		}
		h.metrics = append(h.metrics, file)
	}
	if u := flagOrEnv("pushgateway", "FIREDRILL_PUSHGATEWAY"); u != "" {
		a.secrets.AddURL(u)
		if err := metrics.CheckPushgatewayURL(u); err != nil {
			return h, usageErrorf(helpHint(c), "--pushgateway: %v", err)
		}
		h.metrics = append(h.metrics, metrics.Pushgateway{URL: u})
	}
	if u := flagOrEnv("notify-webhook", "FIREDRILL_NOTIFY_WEBHOOK"); u != "" {
		a.secrets.AddURL(u)
		if err := notify.CheckURL(u); err != nil {
			return h, usageErrorf(helpHint(c), "--notify-webhook: %v", err)
		}
		format := notify.FormatJSON
		if f := flagOrEnv("notify-format", "FIREDRILL_NOTIFY_FORMAT"); f != "" {
			var err error
			if format, err = notify.ParseFormat(f); err != nil {
				return h, usageErrorf(helpHint(c), "--notify-format: %v", err)
			}
		}
		if c.Duration("notify-timeout") <= 0 {
			return h, usageErrorf(helpHint(c), "--notify-timeout must be greater than zero")
		}
		h.notifiers = append(h.notifiers, notify.Webhook{URL: u, Format: format, Timeout: c.Duration("notify-timeout"),
			UserAgent: "firedrill/" + version.Get().Version, Secrets: a.secrets})
	}
	return h, nil
}

// warn tells the user about something that went wrong after the drill
// without changing its result.
func (a *app) warn(err error) {
	fmt.Fprintf(a.env.Stderr, "Warning: %v\n", err)
}
