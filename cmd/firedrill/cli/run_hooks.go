package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/drill/metrics"
	"github.com/firedrill-dev/firedrill/drill/notify"
	"github.com/firedrill-dev/firedrill/internal/version"
)

// pushTimeout bounds reading the history for metrics and pushing them.
const pushTimeout = time.Minute

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

// runHooks is what `firedrill run` does once a drill has ended, beside
// printing its result: metrics and a notification.
type runHooks struct {
	stores      recordStores
	metricsFile string
	pushgateway metrics.Pushgateway
	webhook     notify.Webhook
}

// runHooks reads the hooks' flags before the drill, so a mistake in them
// is found before a drill of half an hour, not after.
func (a *app) runHooks(c *cli.Context, stores recordStores) (*runHooks, error) {
	flagOrEnv := func(flag, env string) string {
		if v := c.String(flag); v != "" {
			return v
		}
		return a.env.getenv(env)
	}
	h := &runHooks{stores: stores}
	if f := flagOrEnv("metrics-file", "FIREDRILL_METRICS_FILE"); f != "" {
		h.metricsFile = a.abs(f)
		if info, err := os.Stat(filepath.Dir(h.metricsFile)); err != nil || !info.IsDir() {
			return nil, usageErrorf(helpHint(c), "--metrics-file %s: no directory %s to write it in", h.metricsFile, filepath.Dir(h.metricsFile))
		}
	}
	if u := flagOrEnv("pushgateway", "FIREDRILL_PUSHGATEWAY"); u != "" {
		a.secrets.AddURL(u)
		if err := metrics.CheckPushgatewayURL(u); err != nil {
			return nil, usageErrorf(helpHint(c), "--pushgateway: %v", err)
		}
		h.pushgateway = metrics.Pushgateway{URL: u}
	}
	if u := flagOrEnv("notify-webhook", "FIREDRILL_NOTIFY_WEBHOOK"); u != "" {
		a.secrets.AddURL(u)
		if err := notify.CheckURL(u); err != nil {
			return nil, usageErrorf(helpHint(c), "--notify-webhook: %v", err)
		}
		format := notify.FormatJSON
		if f := flagOrEnv("notify-format", "FIREDRILL_NOTIFY_FORMAT"); f != "" {
			var err error
			if format, err = notify.ParseFormat(f); err != nil {
				return nil, usageErrorf(helpHint(c), "--notify-format: %v", err)
			}
		}
		if c.Duration("notify-timeout") <= 0 {
			return nil, usageErrorf(helpHint(c), "--notify-timeout must be greater than zero")
		}
		h.webhook = notify.Webhook{URL: u, Format: format, Timeout: c.Duration("notify-timeout"),
			UserAgent: "firedrill/" + version.Get().Version, Secrets: a.secrets}
	}
	return h, nil
}

// afterDrill exports the metrics and sends the notification of a drill
// that ended. The drill's result is already decided: a failure here is a
// warning on stderr and never changes the exit code. It runs on a context
// of its own, bounded, so a drill stopped by Ctrl-C is still reported.
func (a *app) afterDrill(ctx context.Context, h *runHooks, rep *drill.Report) {
	if h == nil || rep == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	if h.metricsFile != "" || h.pushgateway.URL != "" {
		a.exportMetrics(ctx, h, rep)
	}
	if h.webhook.URL != "" {
		report := h.stores.local.URL(rep.DrillID, "report.html")
		shared := h.stores.sharedURL(rep.DrillID, "report.html")
		if err := h.webhook.Send(ctx, notify.NewSummary(rep, report, shared)); err != nil {
			a.warn(err)
		} else {
			a.log.Info("notification sent", "webhook", notify.Origin(h.webhook.URL), "drill", rep.DrillID)
		}
	}
}

func (a *app) exportMetrics(ctx context.Context, h *runHooks, rep *drill.Report) {
	ctx, cancel := context.WithTimeout(ctx, pushTimeout)
	defer cancel()
	history, err := a.metricsHistory(ctx, h)
	if err != nil {
		// Metrics from this drill alone would say that no earlier drill
		// passed: better stale metrics than wrong ones.
		a.warn(fmt.Errorf("metrics not updated: %w", err))
		return
	}
	// The drill just finished goes last: it replaces an older record of
	// itself (the shared history may hold one from before the last upload).
	reports := append(history, rep)
	if h.metricsFile != "" {
		if err := metrics.WriteFile(h.metricsFile, reports); err != nil {
			a.warn(err)
		} else {
			a.log.Info("metrics written", "file", h.metricsFile)
		}
	}
	if h.pushgateway.URL != "" {
		if err := h.pushgateway.Push(ctx, rep.Scenario, reports); err != nil {
			a.warn(err)
		} else {
			a.log.Info("metrics pushed", "scenario", rep.Scenario)
		}
	}
}

// metricsHistory is every drill recorded: in the shared history when there
// is one (in a CronJob the state directory lives as long as the Pod), else
// in the state directory. It returns an error when the history cannot be
// read at all; records that cannot be read are a warning (the metrics
// then say less, nothing wrong).
func (a *app) metricsHistory(ctx context.Context, h *runHooks) ([]*drill.Report, error) {
	reports, err := drill.ListReports(ctx, h.stores.history(), "")
	if err != nil && len(reports) == 0 {
		return nil, err
	}
	if err != nil {
		a.warn(fmt.Errorf("metrics: some drill records could not be read: %w", err))
	}
	return reports, nil
}

// warn tells the user about something that went wrong after the drill
// without changing its result.
func (a *app) warn(err error) {
	fmt.Fprintf(a.env.Stderr, "Warning: %v\n", err)
}
