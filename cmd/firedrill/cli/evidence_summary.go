package cli

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/drill/oscal"
)

func (a *app) evidenceSummaryCommand() *cli.Command {
	return &cli.Command{
		Name:      "summary",
		Usage:     "one row per drill of an audit period: result, RTO, RPO, findings, controls, bundle hash and where it is kept",
		UsageText: "firedrill evidence summary [--from DATE] [--to DATE] [--scenario NAME] [-o table|json|yaml|csv|oscal] [-f FILE|-]",
		Description: `Lists every drill recorded in the state directory that started in the period
(--from and --to are inclusive dates, YYYY-MM-DD, in UTC, or RFC 3339
times; --to is now when not given), oldest first: scenario, date, result,
RTO and RPO measured against their objectives, findings by severity, the
controls the drill supports, and the SHA-256 of its latest evidence bundle
with where it was pushed and how long it is locked. Drills never exported
have an empty bundle column: run 'firedrill evidence export ID' for them.

With --history s3://BUCKET/PREFIX (or $FIREDRILL_HISTORY) the drills come from
the history a team shares, as drills run by a CronJob record them.

It is the table an auditor asks for at the end of a period, like AWS Backup
Audit Manager's restore-job report; -o csv opens in a spreadsheet. -o oscal
writes an OSCAL 1.2.2 assessment-results document for GRC tools: a result
per drill, an observation per finding, check and runbook step pointing at the
drill's kept bundle by SHA-256, a finding per control (not-satisfied with
why, or satisfied).

Written to standard output unless -f (--file) names a file, which is
replaced whole (a failed write leaves it as it was); -o is its format.

Exit codes: 0 listed (a period without drills too: no rows), 1 error (the
state directory or history cannot be read; -o oscal of a period without
drills, since OSCAL needs at least one result), 2 usage.

Examples:
  firedrill evidence summary --from 2026-01-01 --to 2026-12-31 -o csv -f drills-2026.csv
  firedrill evidence summary --from 2026-10-01 -o json | jq '.drills[] | select(.result != "pass")'
  firedrill evidence summary --from 2026-01-01 --to 2026-12-31 -o oscal -f assessment-results-2026.json`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "from", Usage: "first `DATE` of the period (default: the beginning)"},
			&cli.StringFlag{Name: "to", Usage: "last `DATE` of the period, or its end as a time (default: now)"},
			&cli.StringFlag{Name: "scenario", Usage: "only drills of scenario `NAME`"},
			&cli.StringSliceFlag{Name: "controls", Usage: "extend the control mapping with `FILE` (repeatable; default $" + controlsEnv + ")"},
			summaryOutput.flag(),
			&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "write the summary (in the format of -o) to `FILE`, replacing it (- for stdout, the default)"},
			stateDirFlag(),
		}, historyFlags()...),
		Action: a.evidenceSummary,
	}
}

// defaultToText is the default --to, now, as the message that compares it
// with --from says it: the date when --from is a date of a later day,
// else the time (--from has a time, or is today's date), so that "--to
// ... is not after --from ..." reads true.
func defaultToText(now, from time.Time, fromDay bool) string {
	text := now.Format(time.RFC3339)
	if fromDay && now.Format(time.DateOnly) < from.Format(time.DateOnly) {
		text = now.Format(time.DateOnly)
	}
	return text + " (the default: now)"
}

// parseDay reads YYYY-MM-DD (the start of that day, UTC) or RFC 3339.
func parseDay(flag, s string) (time.Time, bool, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, false, nil
	}
	return time.Time{}, false, fmt.Errorf("--%s %q: want a date like 2026-01-31 or a time like 2026-01-31T12:00:00Z", flag, s)
}

func (a *app) evidenceSummary(c *cli.Context) error {
	format, err := summaryOutput.format(c)
	if err != nil {
		return err
	}
	if err := exactArgs(c, 0, "no arguments (use --from, --to, --scenario)"); err != nil {
		return err
	}
	var from, to time.Time
	fromDay := true
	if s := c.String("from"); s != "" {
		if from, fromDay, err = parseDay("from", s); err != nil {
			return usageErrorf(helpHint(c), "%v", err)
		}
	}
	to = a.env.now().UTC()
	if s := c.String("to"); s != "" {
		t, day, err := parseDay("to", s)
		if err != nil {
			return usageErrorf(helpHint(c), "%v", err)
		}
		if day {
			t = t.AddDate(0, 0, 1) // inclusive: the whole day
		}
		to = t
	}
	if !from.IsZero() && !to.After(from) {
		toText := c.String("to")
		if toText == "" {
			toText = defaultToText(to, from, fromDay)
		}
		return usageErrorf("give a --from before --to, or a --to after --from", "--to %s is not after --from %s", toText, c.String("from"))
	}
	mapping, err := a.controlMapping(c, "controls")
	if err != nil {
		return err
	}
	stores, err := a.recordStores(c, nil)
	if err != nil {
		return err
	}
	period := drill.AuditPeriod{From: from, To: to, Scenario: c.String("scenario"), Mapping: mapping}
	file := c.String("file")
	toFile := file != "" && file != "-"
	var buf bytes.Buffer
	out := a.env.Stdout
	if toFile {
		out = &buf
	}
	var n int
	if format == formatOSCAL {
		n, err = a.summaryOSCAL(c, out, stores.history(), period)
	} else {
		n, err = writeSummary(c, out, format, stores.history(), period)
	}
	if err != nil || !toFile {
		return err
	}
	// As on standard output: the secret policy applies to the file too.
	if err := drill.WriteFileAtomic(a.abs(file), a.secrets.Redact(buf.Bytes())); err != nil {
		return fmt.Errorf("write the summary: %w", err)
	}
	fmt.Fprintf(a.env.Stdout, "Summary of %s (-o %s): %s\n", count(n, "drill"), format, file)
	return nil
}

// writeSummary writes the rows of the period to out in format and
// returns how many.
func writeSummary(c *cli.Context, out io.Writer, format string, rs drill.Records, p drill.AuditPeriod) (int, error) {
	rows, err := drill.AuditRows(c.Context, rs, p)
	if err != nil {
		return 0, err
	}
	if rows == nil {
		rows = []drill.AuditRow{} // "drills": [], not null
	}
	return len(rows), writeOutput(out, format, summaryWriter{
		document: document{doc: auditDoc{Schema: schemaAuditSummary, Drills: rows}, table: func(w io.Writer) error { return writeSummaryTable(w, rows) }},
		rows:     rows,
	})
}

// summaryOutput is evidence summary's -o: csv and oscal besides the others.
var summaryOutput = output{formatTable, formatJSON, formatYAML, formatCSV, formatOSCAL}

// summaryOSCAL writes the drills of the period to w as an OSCAL
// assessment-results document, one result per drill, and returns how
// many.
func (a *app) summaryOSCAL(c *cli.Context, w io.Writer, rs drill.Records, p drill.AuditPeriod) (int, error) {
	drills, err := drill.AuditDrills(c.Context, rs, p)
	if err != nil {
		return 0, err
	}
	// The period as given: --to is inclusive, p.To the instant after it.
	period := ""
	if from := c.String("from"); from != "" {
		period += " from " + from
	}
	to := c.String("to")
	if to == "" {
		to = p.To.Format(time.DateOnly)
	}
	period += " to " + to
	if len(drills) == 0 {
		of, in := "", period
		if p.Scenario != "" {
			of = " of scenario " + p.Scenario
		}
		if c.String("from") == "" {
			in = " up" + period
		}
		return 0, withHint(fmt.Errorf("no drills%s in the period%s, and an OSCAL assessment-results document needs at least one drill to report", of, in),
			"widen --from/--to, or check --scenario and the history ('firedrill history'); -o table lists a period without drills")
	}
	title := "firedrill disaster-recovery drills"
	if p.Scenario != "" {
		title += " of scenario " + p.Scenario
	}
	title += period
	out := make([]oscal.Drill, len(drills))
	for i, d := range drills {
		out[i] = oscalDrillOf(d)
	}
	return len(drills), writeOSCAL(w, title, out)
}

// summaryWriter is evidence summary's outputWriter, csv included.
type summaryWriter struct {
	document
	rows []drill.AuditRow
}

// WriteCSV writes one row per drill, keys of the JSON as the header.
func (s summaryWriter) WriteCSV(out io.Writer) error { return writeSummaryCSV(out, s.rows) }

func writeSummaryTable(out io.Writer, rows []drill.AuditRow) error {
	if len(rows) == 0 {
		fmt.Fprintln(out, "no drills in the period")
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DATE\tSCENARIO\tRESULT\tRTO\tRPO\tFINDINGS (crit/fail/warn)\tCONTROLS\tBUNDLE\tPUSHED TO")
	for _, r := range rows {
		controls := strconv.Itoa(len(r.Controls))
		if r.Missing != "" {
			controls += " (" + r.Missing + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s / %s\t%s / %s\t%d/%d/%d\t%s\t%s\t%s\n", r.StartedAt.Format("2006-01-02 15:04"), r.Scenario, r.Result,
			secondsCell(r.RTOSeconds), drill.FormatSeconds(r.RTOObjSec), secondsCell(r.RPOSeconds), drill.FormatSeconds(r.RPOObjSec),
			r.Findings.Critical, r.Findings.Fail, r.Findings.Warn, controls, orDash(shortSum(r.Bundle)), orDash(r.PushedTo))
	}
	return tw.Flush()
}

func secondsCell(s *float64) string {
	if s == nil {
		return "-"
	}
	return drill.FormatSeconds(*s)
}

func shortSum(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// gaps is "ID: why" of each control, one after the other.
func gaps(gs []drill.ControlGap) string {
	parts := make([]string, len(gs))
	for i, g := range gs {
		parts[i] = g.ID + ": " + g.Why
	}
	return strings.Join(parts, "; ")
}

// csvCell neutralises a cell a spreadsheet would run as a formula: one
// that starts with =, +, -, @, a tab or a carriage return gets a leading
// apostrophe (OWASP's advice on CSV injection), unless it is a plain
// number. Drill ids, scenario names and control ids come from records and
// mapping files anyone with write access to the history could shape.
func csvCell(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	if plainNumber(s) {
		return s
	}
	return "'" + s
}

// plainNumber reports whether s is a decimal like -12 or -0.5, nothing more.
func plainNumber(s string) bool {
	s = strings.TrimPrefix(s, "-")
	whole, frac, dot := strings.Cut(s, ".")
	digits := func(d string) bool {
		return d != "" && strings.Trim(d, "0123456789") == ""
	}
	return digits(whole) && (!dot || digits(frac))
}

// safeCSV writes records with every cell passed through csvCell.
type safeCSV struct{ *csv.Writer }

func (w safeCSV) Write(record []string) error {
	for i := range record {
		record[i] = csvCell(record[i])
	}
	return w.Writer.Write(record)
}

func writeSummaryCSV(out io.Writer, rows []drill.AuditRow) error {
	w := safeCSV{csv.NewWriter(out)}
	_ = w.Write([]string{"drill_id", "scenario", "started_at", "result",
		"rto_seconds", "rto_objective_seconds", "rto_status", "rpo_seconds", "rpo_objective_seconds", "rpo_status",
		"findings_critical", "findings_fail", "findings_warn", "findings_passed", "controls", "bundle_sha256", "pushed_to", "retain_until",
		"controls_not_supported"})
	num := func(f *float64) string {
		if f == nil {
			return ""
		}
		return strconv.FormatFloat(*f, 'f', 1, 64)
	}
	for _, r := range rows {
		until := ""
		if r.RetainUntil != nil {
			until = r.RetainUntil.Format(time.RFC3339)
		}
		_ = w.Write([]string{r.DrillID, r.Scenario, r.StartedAt.Format(time.RFC3339), r.Result,
			num(r.RTOSeconds), strconv.FormatFloat(r.RTOObjSec, 'f', 0, 64), r.RTOStatus,
			num(r.RPOSeconds), strconv.FormatFloat(r.RPOObjSec, 'f', 0, 64), r.RPOStatus,
			strconv.Itoa(r.Findings.Critical), strconv.Itoa(r.Findings.Fail), strconv.Itoa(r.Findings.Warn), strconv.Itoa(r.Findings.Passed),
			strings.Join(r.Controls, "; "), r.Bundle, r.PushedTo, until, gaps(r.NotSupported)})
	}
	w.Flush()
	return w.Error()
}
