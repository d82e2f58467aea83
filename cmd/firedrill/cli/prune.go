package cli

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// schemaHistoryPrune is the document `history prune -o json|yaml` prints.
const schemaHistoryPrune = "firedrill.dev/history-prune/v1"

func (a *app) historyPruneCommand() *cli.Command {
	return &cli.Command{
		Name:      "prune",
		Usage:     "remove old drills from the state directory",
		UsageText: "firedrill history prune (--keep N | --older-than DURATION) [--dry-run] [--force] [--state-dir DIR] [-o table|json|yaml]",
		Description: `Removes the folders of old drills (STATE/drills/ID: record, reports, runbook
logs, evidence bundle) from the state directory. --keep N keeps the N
newest drills of each scenario; --older-than DURATION (a Go duration or
whole days, weeks or years: 90d, 12w, 1y) keeps every drill started more
recently. With both, a drill is removed only when both say so.

Never removed:
  - a running drill (its heartbeat is fresh), --force or not; a drill whose
    heartbeat stopped is died and can be removed once 'firedrill cleanup'
    has removed what it left in the scratch cluster;
  - without --force, a drill whose evidence bundle was exported or pushed
    (its evidence.json records the export): the bundle was built from that
    folder, and an auditor re-verifying it needs the folder;
  - a folder whose record cannot be read (it is reported, not touched).

The shared history (--history) is never pruned: it is a team's record,
kept as long as its bucket's lifecycle rules say. --dry-run lists what
would be removed and removes nothing.

Exit codes: 0 pruned (or listed with --dry-run; folders not removed are
reported, not failed), 1 a folder cannot be removed, 2 usage (neither
--keep nor --older-than, a bad value).

Examples:
  firedrill history prune --keep 10 --dry-run
  firedrill history prune --older-than 90d`,
		Flags: []cli.Flag{
			tableOutput.flag(),
			stateDirFlag(),
			&cli.IntFlag{Name: "keep", DefaultText: "none", Usage: "keep the `N` newest drills of each scenario"},
			&cli.StringFlag{Name: "older-than", Usage: "remove drills started more than `DURATION` ago (90d, 12w, 720h)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "list what would be removed, remove nothing"},
			&cli.BoolFlag{Name: "force", Usage: "also remove drills whose evidence bundle was exported or pushed"},
		},
		Before: inheritFlags,
		Action: a.historyPrune,
	}
}

// pruneDoc is what `history prune -o json` prints.
type pruneDoc struct {
	Schema   string `json:"schema"`
	StateDir string `json:"state_dir"`
	DryRun   bool   `json:"dry_run"`
	// Removed are the drills removed (with --dry-run: those that would be).
	Removed []prunedDrill `json:"removed"`
	// Kept are the drills the rules selected and that were kept, with why.
	Kept []prunedDrill `json:"kept"`
}

// prunedDrill is one drill prune removed or kept.
type prunedDrill struct {
	DrillID   string       `json:"drill_id"`
	Scenario  string       `json:"scenario"`
	StartedAt string       `json:"started_at"`
	Result    drill.Result `json:"result"`
	Folder    string       `json:"folder"`
	Reason    string       `json:"reason,omitempty"`
}

func (a *app) historyPrune(c *cli.Context) error {
	format, err := tableOutput.format(c)
	if err != nil {
		return err
	}
	if c.NArg() > 0 {
		return usageErrorf(helpHint(c), "prune takes no arguments, got %d", c.NArg())
	}
	keep := c.Int("keep")
	var olderThan time.Duration
	if s := c.String("older-than"); s != "" {
		d, err := scenarios.ParseDuration(s)
		if err != nil || d <= 0 {
			return usageErrorf(helpHint(c), "invalid --older-than %q: want a positive duration such as 90d, 12w or 720h", s)
		}
		olderThan = time.Duration(d)
	}
	if c.IsSet("keep") && keep < 0 {
		return usageErrorf(helpHint(c), "invalid --keep %d: want 0 or more", keep)
	}
	if !c.IsSet("keep") && olderThan == 0 {
		return usageErrorf(helpHint(c), "prune needs --keep N or --older-than DURATION")
	}
	state, err := a.stateDir(c)
	if err != nil {
		return err
	}
	local := drill.LocalRecords{StateDir: state}
	reports, err := drill.ListReports(c.Context, local, "")
	if err != nil && len(reports) == 0 {
		return err
	}
	if err != nil {
		a.log.Warn("some drill records could not be read; their folders are kept", "err", err)
	}
	now := time.Now()
	doc := pruneDoc{Schema: schemaHistoryPrune, StateDir: local.StateDir, DryRun: c.Bool("dry-run"),
		Removed: []prunedDrill{}, Kept: []prunedDrill{}}
	seen := map[string]int{} // drills of each scenario, newest first
	for _, r := range reports {
		seen[r.Scenario]++
		if c.IsSet("keep") && seen[r.Scenario] <= keep {
			continue
		}
		if olderThan > 0 && now.Sub(r.StartedAt) <= olderThan {
			continue
		}
		p := prunedDrill{DrillID: r.DrillID, Scenario: r.Scenario, StartedAt: utc(r.StartedAt), Result: r.Result,
			Folder: local.URL(r.DrillID, "")}
		if p.Reason = a.pruneKeepReason(c, local, r); p.Reason != "" {
			doc.Kept = append(doc.Kept, p)
			continue
		}
		if !doc.DryRun {
			if err := os.RemoveAll(p.Folder); err != nil {
				return fmt.Errorf("remove drill %s: %w", r.DrillID, err)
			}
		}
		doc.Removed = append(doc.Removed, p)
	}
	return writeOutput(a.env.Stdout, format, document{
		doc:   doc,
		table: func(w io.Writer) error { return writePrune(w, doc) },
	})
}

// pruneKeepReason says why prune keeps a drill it selected, empty when it
// may be removed.
func (a *app) pruneKeepReason(c *cli.Context, local drill.LocalRecords, r *drill.Report) string {
	if r.Result == drill.ResultRunning {
		return fmt.Sprintf("running: its heartbeat is fresh (last sign %s)", utc(r.LastSign()))
	}
	if c.Bool("force") {
		return ""
	}
	exports, err := drill.ReadEvidenceRecords(c.Context, local, r.DrillID)
	if err != nil {
		return fmt.Sprintf("its evidence record cannot be read (%v)", err)
	}
	if len(exports) == 0 {
		return ""
	}
	last := exports[len(exports)-1]
	if last.Pushed != nil {
		return fmt.Sprintf("its evidence bundle was pushed to %s (--force removes it)", last.Pushed.URL)
	}
	return fmt.Sprintf("its evidence bundle was exported %s (--force removes it)", utc(last.ExportedAt))
}

func writePrune(w io.Writer, d pruneDoc) error {
	verb := "Removed"
	if d.DryRun {
		verb = "Would remove"
	}
	if len(d.Removed) == 0 && len(d.Kept) == 0 {
		fmt.Fprintf(w, "Nothing to prune in %s.\n", d.StateDir)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, p := range d.Removed {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", verb, p.DrillID, p.Scenario, p.StartedAt, p.Result)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range d.Kept {
		fmt.Fprintf(w, "Kept %s (%s): %s\n", p.DrillID, p.Scenario, p.Reason)
	}
	fmt.Fprintf(w, "%s %s from %s; kept %d.\n", verb, count(len(d.Removed), "drill"), d.StateDir, len(d.Kept))
	return nil
}
