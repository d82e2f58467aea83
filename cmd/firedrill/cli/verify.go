package cli

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/finding"
)

func (a *app) verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "prove the backups of a scenario are protected: object lock, retention, a tamper canary, matching copies",
		UsageText: "firedrill verify NAME|FILE|- [-o table|json|yaml]",
		Description: `Runs the protection checks of a drill alone, against the scenario's buckets:

  1. the primary bucket: versioning on, object lock on, default retention mode
     and period at least what the scenario requires (GOVERNANCE is weaker
     than COMPLIANCE), and at least the backup's expiration;
  2. every object version of the backup (the scenario's backupName, else the
     latest Completed backup of its schedule, found in the bucket itself),
     and of the repositories its volume data is in (<prefix>/kopia/<ns>/):
     retained until at least the required date;
  3. a tamper canary: a small object written under the drill's own canary
     prefix (never anywhere else), whose deletion and retention shortening
     must both be refused;
  4. each off-site and off-cloud copy: the same objects, compared by the
     scenario's mode (existence, size, checksum, content or sampled), with
     counts like 'rclone check --combined';
  5. with objectives.retention or maxRetention, the recovery window of the
     schedule, read from the bucket's velero-backup.json files: whether it
     reaches back the retention, failed backups, runs the cron expression
     (backups.scheduleCron, else the source's Schedule) expected that left
     no backup, the worst gap against the RPO, the object lock of every
     backup in it (or --window-sample N of them), and what is kept past
     maxRetention (window.* findings).

No cluster is needed. Credentials are read from the environment variables,
profile or file the scenario references, and never printed.

Exit codes: 0 every check passed, 3 a check failed, 1 the checks could not
run, 2 usage.

Examples:
  firedrill verify region-loss
  firedrill verify ./scenarios/shop.yaml -o json | jq '.copies[].comparison'
  firedrill verify shop --window-sample 50 -o json | jq '.window.worst_gap'`,
		Flags:  append([]cli.Flag{tableOutput.flag()}, windowFlags()...),
		Action: a.verify,
	}
}

func (a *app) verify(c *cli.Context) error {
	sc, format, err := a.drillScenarioArg(c, tableOutput)
	if err != nil {
		return err
	}
	sample, seed, err := windowSample(c)
	if err != nil {
		return err
	}
	res, err := drill.Verify(c.Context, sc, drill.ProtectionOptions{Getenv: a.env.getenv, Log: a.log, WindowSample: sample, WindowSeed: seed})
	if err != nil {
		return fmt.Errorf("verify the backups of scenario %s: %w", sc.Metadata.Name, err)
	}
	if err := writeOutput(a.env.Stdout, format, document{
		doc:   verifyDoc{Schema: schemaVerify, Result: res},
		table: func(w io.Writer) error { return writeProtection(w, res) },
	}); err != nil {
		return err
	}
	if res.Failed() {
		n := finding.Count(res.Findings)[finding.StatusFail]
		return failedf("%s of %d protection checks failed", count(n, "check"), len(res.Findings))
	}
	return nil
}

func writeProtection(w io.Writer, res backup.Result) error {
	if res.Backup != "" {
		fmt.Fprintf(w, "Backup: %s\n\n", res.Backup)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tSEVERITY\tCHECK\tSUBJECT\tMESSAGE")
	for _, f := range res.Findings {
		msg := f.Message
		if f.Hint != "" && f.Status != finding.StatusPass {
			msg += " (hint: " + f.Hint + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Status, f.Severity, f.ID, f.Subject, msg)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(res.Copies) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COPY\tMODE\tSAME\tMISSING\tNOT REPLICATED\tEXTRA\tDIFFERS\tERRORS\tTARGET")
	for _, cp := range res.Copies {
		cm := cp.Comparison
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", cp.Name, cp.Mode, cm.Same, cm.Missing, cm.NotReplicated, cm.Extra, cm.Differs, cm.Errors, cp.Target)
	}
	return tw.Flush()
}
