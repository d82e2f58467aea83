package cli

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/drill"
)

func (a *app) historyCommand() *cli.Command {
	return &cli.Command{
		Name:      "history",
		Usage:     "list past drills with their result, RTO, RPO and the trend per scenario",
		UsageText: "firedrill history [SCENARIO] [--state-dir DIR | --history s3://BUCKET/PREFIX] [-o table|wide|json|yaml]\nfiredrill history show DRILL_ID\nfiredrill history prune (--keep N | --older-than DURATION)",
		Description: `Lists every drill recorded in the state directory, newest first: when it ran,
the scenario, the result (pass, fail, error, interrupted, running for a
drill still going, or died for one whose process was killed or lost: its
heartbeat is more than 3 intervals old), the measured RTO and RPO
against their objectives, and how the RTO moved since the previous drill of
the same scenario. Every drill leaves a record, also those that errored or
were interrupted; below the table, one line per such drill says in which
step and why it stopped or died (error and error_step in -o json). Remove
what a dead drill left in the scratch cluster with 'firedrill cleanup'.
After them, one line per scenario gives its outlook (outlook in -o json): the RTO
forecast (when the trend of recovery time against what was restored
reaches the RTO objective; at least 4 drills over 14 days and a good fit,
else "no forecast" and why) and its error budget (drills of the last 365
days, or the scenario's objectives.errorBudget.window, that met RTO and
RPO, against objectives.errorBudget.target, default 0.75).
-o wide adds where each drill's report is ("-" for a drill still running or
that died before writing one). 'firedrill history show ID' describes one
drill; 'firedrill history prune' removes old ones.

Exit codes: 0 listed (no drills too), 1 the records cannot be read, 2 usage.

With --history (or $FIREDRILL_HISTORY) the drills come from the history a
team shares in an S3 bucket ('firedrill run --history ...') instead of the
state directory. Credentials come from $FIREDRILL_HISTORY_ACCESS_KEY_ID and
$FIREDRILL_HISTORY_SECRET_ACCESS_KEY when set, else the AWS SDK's chain.

Examples:
  firedrill history
  firedrill history region-loss
  firedrill history -o json | jq '.drills[0].rto'
  firedrill history --history s3://dr-drills/team-shop`,
		Flags:       append([]cli.Flag{historyOutput.flag(), stateDirFlag()}, historyFlags()...),
		Action:      a.history,
		Subcommands: []*cli.Command{a.historyShowCommand(), a.historyPruneCommand()},
	}
}

// historyRow is one drill as `history -o json` prints it.
type historyRow struct {
	DrillID   string       `json:"drill_id"`
	Scenario  string       `json:"scenario"`
	StartedAt string       `json:"started_at"`
	Result    drill.Result `json:"result"`
	// Error and ErrorStep say why a drill in error or interrupted stopped,
	// as in report.json.
	Error     string          `json:"error,omitempty"`
	ErrorStep drill.StepName  `json:"error_step,omitempty"`
	RTO       drill.Objective `json:"rto"`
	RPO       drill.Objective `json:"rpo"`
	// RTOTrendSeconds is the RTO minus that of the scenario's previous
	// drill that measured one (positive: slower); none without one.
	RTOTrendSeconds *float64 `json:"rto_trend_seconds,omitempty"`
	Findings        int      `json:"failed_findings"`
	// ReportPath is where the drill's report.html is; none for a drill
	// without one (running, or dead before its report step), as
	// 'history show' says "Report: none".
	ReportPath string `json:"report,omitempty"`
	// rtoTrend is RTOTrendSeconds for the table: "faster by 12.0s", "same".
	rtoTrend string
}

func (a *app) history(c *cli.Context) error {
	format, err := historyOutput.format(c)
	if err != nil {
		return err
	}
	if c.NArg() > 1 {
		return usageErrorf(helpHint(c), "history takes at most one SCENARIO, got %d arguments", c.NArg())
	}
	stores, err := a.recordStores(c, nil)
	if err != nil {
		return err
	}
	records := stores.history()
	reports, err := drill.ListReports(c.Context, records, c.Args().First())
	if err != nil && len(reports) == 0 {
		return err
	}
	if err != nil {
		a.log.Warn("some drill records could not be read", "err", err)
	}
	if name := c.Args().First(); name != "" && len(reports) == 0 {
		return a.noDrillsOf(c, format, records, name)
	}
	rows := make([]historyRow, 0, len(reports))
	for i, r := range reports {
		row := historyRow{DrillID: r.DrillID, Scenario: r.Scenario, StartedAt: r.StartedAt.UTC().Format("2006-01-02T15:04:05Z"),
			Result: r.Result, Error: r.Error, ErrorStep: r.ErrorStep, RTO: r.RTO, RPO: r.RPO}
		if format != formatTable {
			// The plain table has no REPORT column: no listing for it.
			if row.ReportPath, err = drill.ReportHTMLURL(c.Context, records, r); err != nil {
				a.log.Warn("the drill's files could not be listed: its report is not shown", "drill", r.DrillID, "err", err)
			}
		}
		for _, f := range r.Findings {
			if f.Status == "fail" {
				row.Findings++
			}
		}
		row.RTOTrendSeconds, row.rtoTrend = drill.RTOChange(r, reports[i+1:]), drill.RTOTrend(r, reports[i+1:])
		rows = append(rows, row)
	}
	wide := format == formatWide
	outlooks := drill.Outlooks(reports, a.env.now())
	return writeOutput(a.env.Stdout, format, document{
		doc: historyDoc{Schema: schemaHistory, Drills: rows, Outlook: outlooks},
		table: func(w io.Writer) error {
			if err := writeHistoryTable(w, rows, reports, records.URL("", ""), wide); err != nil {
				return err
			}
			writeOutlook(w, outlooks)
			return nil
		},
	})
}

// noDrillsOf answers 'history NAME' when no drill of NAME is recorded: a
// name that is neither a scenario firedrill finds nor in the history is an
// error with close matches (due's knownScenarios), a scenario never drilled
// says so, beside how many drills of other scenarios there are.
func (a *app) noDrillsOf(c *cli.Context, format string, records drill.Records, name string) error {
	all, _ := drill.ListReports(c.Context, records, "")
	if _, err := a.knownScenarios(c, all); err != nil {
		return err
	}
	return writeOutput(a.env.Stdout, format, document{
		doc: historyDoc{Schema: schemaHistory, Drills: []historyRow{}, Outlook: []drill.Outlook{}},
		table: func(w io.Writer) error {
			fmt.Fprintf(w, "No drills of scenario %q recorded in %s yet (%s of other scenarios). Run one with 'firedrill run %s'.\n",
				name, records.URL("", ""), count(len(all), "drill"), name)
			return nil
		},
	})
}

// historyOutput is history's -o: wide adds the REPORT column, where each
// drill's report is.
var historyOutput = output{formatTable, formatJSON, formatYAML, formatWide}

func writeHistoryTable(w io.Writer, rows []historyRow, reports []*drill.Report, where string, wide bool) error {
	if len(rows) == 0 {
		fmt.Fprintf(w, "No drills recorded in %s yet. Run one with 'firedrill run NAME'.\n", where)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := "STARTED\tSCENARIO\tRESULT\tRTO\tRPO\tTREND\tFAILED\tDRILL"
	if wide {
		header += "\tREPORT"
	}
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s", r.StartedAt, r.Scenario, r.Result,
			objectiveCell(r.RTO), objectiveCell(r.RPO), r.rtoTrend, r.Findings, r.DrillID)
		if wide {
			fmt.Fprintf(tw, "\t%s", orDash(r.ReportPath))
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// Why a drill stopped is too long for a column: one line per drill.
	for _, r := range reports {
		if line := stopLine(r); line != "" {
			fmt.Fprintf(w, "%s: %s\n", r.DrillID, line)
		}
	}
	return nil
}

func objectiveCell(o drill.Objective) string {
	if o.MeasuredSeconds == nil {
		return "-"
	}
	mark := "ok"
	if o.Status == drill.ObjectiveMissed {
		mark = "MISSED"
	}
	// An RTO with declared manual work is judged on the total (drill.Objective.Judged).
	return fmt.Sprintf("%s of %s %s", drill.FormatSeconds(*o.Judged()), drill.FormatSeconds(o.ObjectiveSeconds), mark)
}
