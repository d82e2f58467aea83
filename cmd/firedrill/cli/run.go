package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/version"
	"github.com/firedrill-dev/firedrill/runbooks"
	"github.com/firedrill-dev/firedrill/scenarios"
)

func (a *app) runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run a disaster-recovery drill of a scenario: protect, restore, verify, measure, report",
		UsageText: "firedrill run NAME|FILE|- [--state-dir DIR] [--history s3://BUCKET/PREFIX] [-o text|json|yaml]",
		Description: `Runs the whole drill of a scenario, step by step (see 'firedrill plan NAME'):

  preflight       reach the target cluster; refuse it unless it is marked as a
                  scratch cluster (label firedrill.dev/scratch=true on kube-system)
  protection      object lock, retention of the backup's objects, a tamper
                  canary, the off-site copies (see 'firedrill verify')
  recovery-point  choose the backup; RPO = disaster time - backup start
  restore    RTO  Velero Restores: NetworkPolicies and namespaces first, then
                  CRDs, then the rest
  verify     RTO  restore order proof and the scenario's checks
  runbook    RTO  the runbook's executable steps, timed; a failing step means
                  the runbook is out of date. Its manual steps: when standard
                  input is a terminal, each is shown and timed until you type
                  done (abort fails it); otherwise, or with --yes, its
                  declared estimate is added to the measured RTO
  report          report.json, report.md, report.html and retrospective.md
  evidence        keep the Velero objects and what came back (Secret values
                  redacted); with --evidence-key, sign a bundle of the whole
                  record after cleanup ('firedrill evidence --help'), and with
                  --evidence-push upload it, locked, to an object-locked bucket
  cleanup         remove what the drill created (by default only when the drill
                  passed), also after Ctrl-C

A scenario with spec.backups.window.pick: random draws its recovery point
at random among the Completed backups of its window (by default the whole
objectives.retention) and records the seed in the report
(recovery_point_choice.seed); --pick-seed SEED replays that pick.

RTO counts from the disaster declaration (the scenario's declaredAt, else
the start of the drill) to the end of the last recovery step. A protection
finding does not stop the restore. Every drill leaves a record in the state
directory, also when it errors or is interrupted ('firedrill history').
While it runs, the record carries a heartbeat, renewed every 30 seconds
($FIREDRILL_HEARTBEAT_INTERVAL): a drill whose process dies is shown as died
90 seconds (3 intervals) after its last one. Before its preflight, a drill
cleans up after the earlier drills of its scenario that died ('firedrill
cleanup --stale'), saying so; what is not provably theirs is named, not
deleted.
With --history s3://BUCKET/PREFIX the record is also uploaded, after every
step, to PREFIX/drills/ID/ in a bucket the team shares; a failed upload is
a warning finding, never a failed drill.

--kubeconfig and --context select the target instead of the scenario's
spec.target (neither set: $KUBECONFIG, then ~/.kube/config, as kubectl);
--source-kubeconfig and --source-context the source. Whatever selects it,
the target must carry the scratch marker.

The source cluster is never written to. In the backup buckets only the
drill's own canary prefix is written, by firedrill, and the record of each
Restore (restores/NAME/), by Velero. Credentials come from the references in the
scenario and never appear in output, reports or runbook logs.

After the drill, --metrics-file writes Prometheus metrics for the textfile
collector, --pushgateway pushes them, and --notify-webhook posts a summary
(JSON or Slack text); their failures are warnings and never change the exit
code. --evidence-key signs the evidence bundle, --evidence-push keeps it in an
object-locked bucket (see 'firedrill evidence --help'); a failed push is an
error (exit 1), after the drill's summary.

One drill at a time per scratch cluster: preflight takes the Lease
firedrill-drill in Velero's namespace of the target (renewed every 20s,
released after cleanup, free 60s after the last renewal of a drill that
died). While another drill holds it, this one waits up to --lock-wait
(default: the scenario's spec.target.lockWait, 15m), then stops naming it.

Exit codes: 0 the drill passed, 3 it missed an objective or a check failed,
1 it could not run, 2 usage (a bad flag, or --history or --evidence-push
naming one of the scenario's backup buckets), 4 another drill held the
scratch cluster's Lease past the wait (nothing restored), 130 interrupted
(cleanup done).

Examples:
  firedrill run region-loss
  firedrill run region-loss --evidence-key firedrill-evidence.key --evidence-push s3://dr-evidence/shop
  firedrill run ./scenarios/shop.yaml --state-dir /var/lib/firedrill -o json
  envsubst < shop.yaml.tmpl | firedrill run -     (- reads standard input)`,
		Flags: append([]cli.Flag{
			textOutput.flag(),
			stateDirFlag(),
			&cli.DurationFlag{Name: "step-timeout", Value: 30 * time.Minute, Usage: "give up a step after `DURATION` (cleanup has its own timeout)"},
			lockWaitFlag(),
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask about the runbook's manual steps at the terminal: count their declared estimates, as a drill without a terminal does"},
			&cli.Int64Flag{Name: "pick-seed", Usage: "replay a random pick (window.pick: random) with `SEED`, e.g. an earlier report's recovery_point_choice.seed", DefaultText: "the scenario's window.seed, else a random seed recorded in the report"},
		}, append(append(append(append(recordingHistoryFlags(), evidenceFlags("evidence-")...), runHookFlags()...), clusterFlags()...), windowFlags()...)...),
		Action: a.run,
	}
}

func (a *app) run(c *cli.Context) error {
	sc, format, err := a.drillScenarioArg(c, textOutput)
	if err != nil {
		return err
	}
	if c.IsSet("pick-seed") {
		if err := sc.SetWindowSeed(c.Int64("pick-seed")); err != nil {
			return usageErrorf("drop --pick-seed, or set spec.backups.window.pick: random in the scenario", "--pick-seed: %v", err)
		}
	}
	rb, err := drill.ScenarioRunbook(sc)
	if err != nil {
		return err
	}
	// A bad history, key, push target or hook is found before the drill,
	// not after.
	stores, err := a.recordStores(c, sc)
	if err != nil {
		return err
	}
	ev, err := a.evidenceSettings(c, "evidence-", false, sc)
	if err != nil {
		return err
	}
	hooks, err := a.runHooks(c)
	if err != nil {
		return err
	}
	heartbeat, err := a.heartbeatInterval()
	if err != nil {
		return err
	}
	wait, err := lockWait(c)
	if err != nil {
		return err
	}
	sample, seed, err := windowSample(c)
	if err != nil {
		return err
	}
	now := time.Now
	id := drill.NewDrillID(now())
	progress := newProgressLines(a.progressOut())
	records := []drill.Records{stores.local}
	if stores.shared != nil {
		records = append(records, stores.shared)
	}
	out, err := drill.Run(c.Context, sc, drill.Options{
		StateDir:   stores.local.StateDir,
		DrillID:    id,
		Now:        now,
		Progress:   progress,
		Logger:     a.log,
		Version:    version.Get().Version,
		Protection: drill.NewProtection(sc, drill.ProtectionOptions{Getenv: a.env.getenv, Log: a.log, WindowSample: sample, WindowSeed: seed}),
		Scope:      drill.NewScope(sc, drill.ScopeOptions{Getenv: a.env.getenv, Secrets: a.secrets, Log: a.log}),
		Recovery: drill.NewRecovery(sc, drill.RestoreOptions{DrillID: id, Getenv: a.env.getenv, Now: now, Progress: progress, RestoreProgress: progress.Restore, Log: a.log,
			Secrets: a.secrets, LockWait: wait}),
		Runbook:     rb,
		Operator:    a.runOperator(c, rb),
		Secrets:     a.secrets,
		StepTimeout: c.Duration("step-timeout"),
		History:     stores.shared,
		Cluster:     stores.cluster,
		Evidence:    ev.drillOptions(),
		Metrics:     hooks.metrics,
		Notifiers:   hooks.notifiers,
		// A drill of the scenario that died left its namespaces behind:
		// cleaned up first, so the scheduled drills after it pass.
		Cleaner:           drill.NewCleaner(sc, drill.CleanupOptions{Records: records, Progress: progress, Log: a.log}),
		HeartbeatInterval: heartbeat,
	})
	if out == nil {
		return err
	}
	rep := out.Report
	if err := writeOutput(a.env.Stdout, format, document{
		doc:   rep,
		table: func(w io.Writer) error { writeRunSummary(w, rep, stores.local.URL(rep.DrillID, "")); return nil },
	}); err != nil {
		return err
	}
	if k := out.Evidence; k != nil {
		writeExportText(peopleOut(format, a.env.Stdout, a.env.Stderr), k)
	}
	for _, w := range out.Warnings {
		a.warn(w)
	}
	if err != nil {
		// The evidence was not kept: an error after the drill's summary.
		return evidenceHint(err)
	}
	switch rep.Result {
	case drill.ResultPass:
		return nil
	case drill.ResultInterrupted:
		return c.Context.Err()
	case drill.ResultFail:
		return failedf("drill %s of %s failed: %s", rep.DrillID, rep.Scenario, failureSummary(rep))
	}
	if hasFinding(rep, drill.FindingScratchInUse) {
		return &scratchInUseError{msg: fmt.Sprintf("drill %s of %s did not run: %s", rep.DrillID, rep.Scenario, rep.Error)}
	}
	return fmt.Errorf("drill %s of %s could not run to the end: %s", rep.DrillID, rep.Scenario, failureSummary(rep))
}

// envHeartbeatInterval sets how often a running drill renews its
// heartbeat (a Go duration); tests shorten it so a killed drill is known
// dead sooner.
const envHeartbeatInterval = "FIREDRILL_HEARTBEAT_INTERVAL"

func (a *app) heartbeatInterval() (time.Duration, error) {
	v := a.env.getenv(envHeartbeatInterval)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, usageErrorf("set it to a duration such as 30s, or unset it", "$%s=%q: want a duration greater than zero", envHeartbeatInterval, v)
	}
	return d, nil
}

// runOperator is who does the runbook's manual steps: the person at the
// terminal when standard input is one and --yes is not given (asked on
// stderr, answering on stdin), else nobody (nil), and their declared
// estimates count toward RTO. A scenario read from standard input ("-")
// used it up.
func (a *app) runOperator(c *cli.Context, rb *runbooks.Runbook) runbooks.Operator {
	if rb == nil || rb.Commands() == len(rb.Steps) || c.Bool("yes") || !a.env.StdinIsTerminal || a.env.Stdin == nil || c.Args().First() == scenarios.StdinArg {
		return nil
	}
	return &runbooks.Prompt{In: a.env.Stdin, Out: a.env.Stderr}
}

// failureSummary names what made a drill fail, for the one-line error.
func failureSummary(r *drill.Report) string {
	if p := r.StoppedBy(); p != nil {
		return fmt.Sprintf("step %s: %s", p.Name, p.Error)
	}
	var parts []string
	if r.RTO.Status != drill.ObjectiveMet {
		parts = append(parts, "RTO "+drill.StatusText(r.RTO.Status))
	}
	if r.RPO.Status != drill.ObjectiveMet {
		parts = append(parts, "RPO "+drill.StatusText(r.RPO.Status))
	}
	if n := finding.Count(r.Findings)[finding.StatusFail]; n > 0 {
		parts = append(parts, count(n, "failed finding"))
	}
	if len(parts) == 0 {
		return string(r.Result)
	}
	return strings.Join(parts, ", ")
}

func writeRunSummary(w io.Writer, r *drill.Report, dir string) {
	fmt.Fprintf(w, "Drill %s of %s: %s\n", r.DrillID, r.Scenario, r.Result)
	if line := stopLine(r); line != "" {
		fmt.Fprintf(w, "  %s\n", line)
	}
	fmt.Fprintf(w, "  RTO  %s\n", objectiveText(r.RTO))
	fmt.Fprintf(w, "  RPO  %s\n", objectiveText(r.RPO))
	if r.RPOData != nil {
		fmt.Fprintf(w, "  RPO seen by check %s  %s\n", r.RPODataCheck, objectiveText(*r.RPOData))
	}
	if r.OrderVerified != nil {
		fmt.Fprintf(w, "  restore order verified: %t\n", *r.OrderVerified)
	}
	for _, f := range r.Findings {
		if f.Status != finding.StatusPass {
			fmt.Fprintf(w, "  %-4s %s: %s\n", f.Status, f.ID, f.Message)
		}
	}
	fmt.Fprintf(w, "Report:        %s\n", filepath.Join(dir, "report.html"))
	fmt.Fprintf(w, "               %s\n", filepath.Join(dir, "report.md"))
	fmt.Fprintf(w, "Retrospective: %s\n", filepath.Join(dir, "retrospective.md"))
}

// stopLine says where and why a drill in error or interrupted stopped, as
// the run summary and the history print it; empty for other drills.
func stopLine(r *drill.Report) string {
	if r.Error == "" {
		return ""
	}
	if r.ErrorStep == "" {
		return fmt.Sprintf("%s: %s", r.Result, r.Error)
	}
	return fmt.Sprintf("%s in step %s: %s", r.Result, r.ErrorStep, r.Error)
}

func objectiveText(o drill.Objective) string {
	switch o.Status {
	case drill.ObjectiveMet, drill.ObjectiveMissed:
		verdict := "met"
		if o.Status == drill.ObjectiveMissed {
			verdict = "MISSED"
		}
		text := fmt.Sprintf("%s against an objective of %s: %s", o.TimeText(), drill.FormatSeconds(o.ObjectiveSeconds), verdict)
		if o.Note != "" {
			// A recovery stopped after its objective: the time is a lower bound.
			text += " (" + o.Note + ")"
		}
		return text
	}
	return fmt.Sprintf("not measured (objective %s): %s", drill.FormatSeconds(o.ObjectiveSeconds), o.Note)
}
