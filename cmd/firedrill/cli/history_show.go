package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/drill"
)

// schemaDrill is the document `history show -o json|yaml` prints.
const schemaDrill = "firedrill.dev/drill/v1"

func (a *app) historyShowCommand() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Aliases:   []string{"describe"},
		Usage:     "describe one drill: summary, timeline, findings and where its files are",
		UsageText: "firedrill history show DRILL_ID [--state-dir DIR | --history s3://BUCKET/PREFIX] [-o table|json|yaml]",
		Description: `Describes one drill, as 'kubectl describe' does an object: its summary
(scenario, result, RTO and RPO against their objectives, why it stopped),
its timeline (each step with its status and duration, and whether it counts
toward the RTO), its findings, and where its report, retrospective, runbook
logs and evidence bundle are (each only when the drill has it). A running
drill whose heartbeat stopped shows as died, as in 'firedrill history'.

The drill is read from the state directory, else from the shared history
(--history or $FIREDRILL_HISTORY). -o json or yaml prints the record
(report.json) under "record", the files under "files" and the evidence
exports (evidence.json) under "evidence".

Exit codes: 0 described, 1 no such drill, or its record cannot be read,
2 usage.

Examples:
  firedrill history show fd-20261122-174512-3f9a
  firedrill history show fd-20261122-174512-3f9a -o json | jq .record.rto`,
		Flags:  append([]cli.Flag{tableOutput.flag(), stateDirFlag()}, historyFlags()...),
		Before: inheritFlags,
		Action: a.historyShow,
	}
}

// inheritFlags gives a subcommand the values of the flags it shares with
// the commands above it, set there: `history --state-dir DIR show ID` is
// `history show ID --state-dir DIR`. A value set on the subcommand wins.
func inheritFlags(c *cli.Context) error {
	own := map[string]bool{}
	for _, f := range c.Command.Flags {
		for _, n := range f.Names() {
			own[n] = true
		}
	}
	for _, l := range c.Lineage()[1:] {
		if l.Command == nil {
			continue
		}
		for _, f := range l.Command.Flags {
			name := f.Names()[0]
			if !own[name] || c.IsSet(name) || !l.IsSet(name) {
				continue
			}
			if err := c.Set(name, fmt.Sprint(l.Value(name))); err != nil {
				return err
			}
		}
	}
	return nil
}

// drillDoc is one drill as `history show -o json` prints it.
type drillDoc struct {
	Schema string `json:"schema"`
	// Record is the drill's report.json, settled (a dead drill is died).
	Record *drill.Report `json:"record"`
	// Files says where the drill's files are, paths or s3:// URLs.
	Files drillFiles `json:"files"`
	// Evidence are the bundle's exports, oldest first.
	Evidence []drill.EvidenceRecord `json:"evidence"`
}

// drillFiles are where a drill's files are; a file the drill does not
// have is left out.
type drillFiles struct {
	Folder        string   `json:"folder"`
	Report        string   `json:"report,omitempty"`
	ReportMD      string   `json:"report_markdown,omitempty"`
	Retrospective string   `json:"retrospective,omitempty"`
	Scenario      string   `json:"scenario,omitempty"`
	RunbookLogs   []string `json:"runbook_logs,omitempty"`
	Evidence      string   `json:"evidence_bundle,omitempty"`
}

func (a *app) historyShow(c *cli.Context) error {
	format, err := tableOutput.format(c)
	if err != nil {
		return err
	}
	if err := exactArgs(c, 1, "one DRILL_ID (see 'firedrill history')"); err != nil {
		return err
	}
	id := c.Args().First()
	stores, err := a.recordStores(c, nil)
	if err != nil {
		return err
	}
	from := []drill.Records{stores.local}
	if stores.shared != nil {
		from = append(from, stores.shared)
	}
	var rs drill.Records
	var unread []error
	for _, r := range from {
		names, err := r.Files(c.Context, id)
		if err != nil {
			// Not "no record": the record may be there, unread.
			unread = append(unread, err)
			continue
		}
		if len(names) > 0 {
			rs = r
			break
		}
	}
	if rs == nil && len(unread) > 0 {
		return errors.Join(unread...)
	}
	if rs == nil {
		where := []string{}
		for _, r := range from {
			where = append(where, r.URL("", ""))
		}
		return withHint(fmt.Errorf("drill %s: %w in %s", id, drill.ErrNoRecord, strings.Join(where, " or ")),
			"list the drills with 'firedrill history'; name a shared history with --history")
	}
	rep, err := drill.ReadReport(c.Context, rs, id)
	if err != nil {
		return err
	}
	drill.Settle(rep, time.Now())
	names, err := rs.Files(c.Context, id)
	if err != nil {
		return err
	}
	exports, err := drill.ReadEvidenceRecords(c.Context, rs, id)
	if err != nil {
		a.log.Warn("the evidence record could not be read", "err", err)
	}
	doc := drillDoc{Schema: schemaDrill, Record: rep, Files: filesOf(rs, id, names), Evidence: exports}
	if doc.Evidence == nil {
		doc.Evidence = []drill.EvidenceRecord{}
	}
	return writeOutput(a.env.Stdout, format, document{
		doc:   doc,
		table: func(w io.Writer) error { return writeDrillDescription(w, doc) },
	})
}

// filesOf sorts the drill's files (names, from Records.Files) by role.
func filesOf(rs drill.Records, id string, names []string) drillFiles {
	f := drillFiles{Folder: rs.URL(id, "")}
	for _, n := range names {
		u := rs.URL(id, n)
		switch {
		case n == "report.html":
			f.Report = u
		case n == "report.md":
			f.ReportMD = u
		case n == "retrospective.md":
			f.Retrospective = u
		case n == "scenario.yaml":
			f.Scenario = u
		case n == drill.EvidenceBundleFile:
			f.Evidence = u
		case strings.HasPrefix(n, "runbook/"):
			f.RunbookLogs = append(f.RunbookLogs, u)
		}
	}
	return f
}

// writeDrillDescription writes the description for people.
func writeDrillDescription(w io.Writer, d drillDoc) error {
	r := d.Record
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	line("Drill", r.DrillID)
	line("Scenario", r.Scenario)
	line("Summary", r.Summary)
	line("Lead", r.Lead)
	line("Result", string(r.Result))
	line("Stopped", stopLine(r))
	line("Started", utc(r.StartedAt))
	if !r.FinishedAt.IsZero() {
		line("Finished", fmt.Sprintf("%s (after %s)", utc(r.FinishedAt), drill.FormatSeconds(r.FinishedAt.Sub(r.StartedAt).Seconds())))
	}
	line("RTO", objectiveText(r.RTO))
	line("RPO", objectiveText(r.RPO))
	if r.Backup != nil {
		line("Backup", r.Backup.Name)
	}
	line("Version", r.FiredrillVer)
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nTimeline:")
	if len(r.Phases) == 0 {
		fmt.Fprintln(w, "  no step recorded")
	} else {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  STEP\tSTATUS\tSTART\tDURATION\tRTO")
		for _, p := range r.Phases {
			rto := "-"
			if p.CountsTowardRTO {
				rto = "counts"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", p.Name, p.Status, utc(p.Start), drill.FormatSeconds(p.DurationSeconds), rto)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, p := range r.Phases {
			if p.Error != "" {
				fmt.Fprintf(w, "  %s: %s\n", p.Name, p.Error)
			}
		}
	}

	fmt.Fprintln(w, "\nFindings:")
	if len(r.Findings) == 0 {
		fmt.Fprintln(w, "  none")
	} else {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  STATUS\tSEVERITY\tID\tSUBJECT\tMESSAGE")
		for _, f := range r.Findings {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", f.Status, f.Severity, f.ID, f.Subject, f.Message)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	fmt.Fprintln(w, "\nFiles:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	f := d.Files
	fmt.Fprintf(tw, "  Folder:\t%s\n", f.Folder)
	fileLine := func(k, v string) {
		if v == "" {
			v = "none"
		}
		fmt.Fprintf(tw, "  %s:\t%s\n", k, v)
	}
	fileLine("Report", f.Report)
	fileLine("Retrospective", f.Retrospective)
	if len(f.RunbookLogs) == 0 {
		fileLine("Runbook logs", "")
	}
	for i, l := range f.RunbookLogs {
		k := ""
		if i == 0 {
			k = "Runbook logs:"
		}
		fmt.Fprintf(tw, "  %s\t%s\n", k, l)
	}
	bundle := f.Evidence
	if bundle == "" && len(d.Evidence) > 0 {
		bundle = d.Evidence[len(d.Evidence)-1].Path
	}
	fileLine("Evidence", bundle)
	for _, e := range d.Evidence {
		exp := fmt.Sprintf("exported %s, sha256 %s", utc(e.ExportedAt), e.SHA256)
		if e.Pushed != nil {
			exp += ", pushed to " + e.Pushed.URL
			if e.Pushed.VersionID != "" {
				exp += " (version " + e.Pushed.VersionID + ")"
			}
			if e.Pushed.Mode != "" && e.Pushed.RetainUntil != nil {
				exp += fmt.Sprintf(", %s until %s", e.Pushed.Mode, utc(*e.Pushed.RetainUntil))
			}
		}
		fmt.Fprintf(tw, "  \t%s\n", exp)
	}
	return tw.Flush()
}

// utc is t as RFC 3339 in UTC, whole seconds; "-" for the zero time.
func utc(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
