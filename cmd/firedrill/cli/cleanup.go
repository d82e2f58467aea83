package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/scenarios"
)

func (a *app) cleanupCommand() *cli.Command {
	return &cli.Command{
		Name:  "cleanup",
		Usage: "remove what a drill that died left in the scratch cluster",
		UsageText: "firedrill cleanup DRILL_ID [--scenario NAME|FILE|-] [--dry-run] [-o table|json|yaml]\n" +
			"   firedrill cleanup --stale NAME|FILE|- [--dry-run] [-o table|json|yaml]",
		Description: `Removes what a drill whose process died (SIGKILL, OOM, an evicted pod, a lost
node or laptop) left in the scenario's target, which must carry the scratch
marker, as 'run' requires. It removes only what it can prove is the drill's:

  Restores                      labelled firedrill.dev/drill-id=DRILL_ID
  namespaces                    those Velero's record of one of its Restores (the
                                restore resource list, 'velero restore describe
                                --details') says it created, and not made again since
  CustomResourceDefinitions     labelled velero.io/restore-name by one of its Restores
  BackupStorageLocation, Secret of a drill restoring from a copy (labelled with
                                the drill id), and the Backup it pointed at the copy
                                goes back to its own location

Anything else in the way (a namespace that existed before, or whose Restore's
record cannot be read) is named with the command a person would run, never
deleted. A Restore Velero is still running is waited for (--wait).

With DRILL_ID the drill's record is read from the state directory, then the
shared history (--history): a drill whose heartbeat is fresh is alive and
refused. The scenario is the one the drill ran (scenario.yaml in its
directory in the state directory), else the record's scenario by name, or
--scenario. With --stale SCENARIO
every drill of the scenario shown as died in the history is cleaned up, as
'run' does on its own before its preflight.

Exit codes: 0 everything of the drill is gone (or --dry-run listed it), 3
something not provably the drill's is in the way or a Restore is still
running (named on stdout), 1 it could not run (no record, a drill alive, no
scratch marker, a deletion failed), 2 usage.

Examples:
  firedrill cleanup fd-20261201-101500-3f9a --dry-run
  firedrill cleanup --stale region-loss
  firedrill cleanup fd-20261201-101500-3f9a -o json`,
		Flags: append([]cli.Flag{
			tableOutput.flag(),
			stateDirFlag(),
			&cli.BoolFlag{Name: "stale", Usage: "clean up after every drill of the SCENARIO given as argument that died"},
			&cli.StringFlag{Name: "scenario", Usage: "the drill's scenario `NAME|FILE|-` (default: the one its record names)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "list what would be deleted; delete nothing"},
			&cli.DurationFlag{Name: "wait", Value: drill.DefaultLeftoverWait, Usage: "wait up to `DURATION` for a Restore Velero is still running to end"},
		}, append(historyFlags(), clusterFlags()...)...),
		Action: a.cleanup,
	}
}

// cleanupDoc is `cleanup -o json`.
type cleanupDoc struct {
	Schema string               `json:"schema"`
	DryRun bool                 `json:"dry_run"`
	Drills []drill.DrillCleanup `json:"drills"`
}

func (a *app) cleanup(c *cli.Context) error {
	format, err := tableOutput.format(c)
	if err != nil {
		return err
	}
	if err := exactArgs(c, 1, "one DRILL_ID, or with --stale one SCENARIO"); err != nil {
		return err
	}
	if c.Bool("stale") && c.String("scenario") != "" {
		return usageErrorf(helpHint(c), "--stale takes the scenario as its argument; --scenario is for a DRILL_ID")
	}
	stores, err := a.recordStores(c, nil)
	if err != nil {
		return err
	}
	rs := []drill.Records{stores.local}
	if stores.shared != nil {
		rs = append(rs, stores.shared)
	}
	opts := drill.CleanupOptions{Records: rs, DryRun: c.Bool("dry-run"), Wait: c.Duration("wait"),
		Progress: a.progressOut(), Log: a.log}

	var sc *scenarios.Scenario
	var reps []*drill.Report
	if c.Bool("stale") {
		if sc, err = a.findScenario(c, c.Args().First()); err != nil {
			return err
		}
		cl := drill.NewCleaner(sc, opts)
		if reps, err = cl.DeadDrills(c.Context); err != nil && len(reps) == 0 {
			return err
		}
	} else {
		// The record first: which scenario, and whether it is alive.
		rep, err := drill.FindRecord(c.Context, rs, c.Args().First(), time.Now())
		if err != nil {
			return err
		}
		// The scenario as the drill ran it, kept in its directory, else
		// the one of that name.
		name := rep.Scenario
		if f := filepath.Join(stores.local.StateDir, "drills", rep.DrillID, "scenario.yaml"); fileExists(f) {
			name = f
		}
		if s := c.String("scenario"); s != "" {
			name = s
		}
		if sc, err = a.findScenario(c, name); err != nil {
			return err
		}
		if sc.Metadata.Name != rep.Scenario {
			return usageErrorf(helpHint(c), "drill %s is a drill of scenario %s, not %s", rep.DrillID, rep.Scenario, sc.Metadata.Name)
		}
		reps = []*drill.Report{rep}
	}
	done, err := drill.NewCleaner(sc, opts).Drills(c.Context, reps)
	if err != nil && len(done) == 0 {
		return err
	}
	if werr := writeOutput(a.env.Stdout, format, document{
		doc:   cleanupDoc{Schema: schemaCleanup, DryRun: opts.DryRun, Drills: done},
		table: func(w io.Writer) error { return writeCleanupTable(w, sc.Metadata.Name, done, opts.DryRun) },
	}); werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	var failed, inTheWay []string
	for _, d := range done {
		if d.Error != "" {
			failed = append(failed, fmt.Sprintf("drill %s: %s", d.DrillID, d.Error))
		}
		for _, n := range d.Found.NotOwned {
			inTheWay = append(inTheWay, strings.ToLower(n.Kind)+" "+n.Name)
		}
		for _, p := range d.Found.Pending {
			inTheWay = append(inTheWay, "restore "+p+" (still running)")
		}
	}
	switch {
	case len(failed) > 0:
		return fmt.Errorf("cleanup did not finish: %s", strings.Join(failed, "; "))
	case len(inTheWay) > 0:
		return failedf("not removed, not provably the drill's or not ended: %s (see above for the commands)", strings.Join(inTheWay, ", "))
	}
	return nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// findScenario finds a scenario by name or file, as every command does,
// with its secrets noted.
func (a *app) findScenario(c *cli.Context, name string) (*scenarios.Scenario, error) {
	sc, err := scenarios.Find(c.Context, a.scenarioEnv(), name)
	if err != nil {
		return nil, err
	}
	if err := a.selectClusters(c, sc); err != nil {
		return nil, err
	}
	a.secrets.Add(drill.Secrets(sc, a.env.getenv)...)
	return sc, nil
}

func writeCleanupTable(w io.Writer, scenario string, done []drill.DrillCleanup, dryRun bool) error {
	if len(done) == 0 {
		fmt.Fprintf(w, "No drill of %s died: nothing to clean up.\n", scenario)
		return nil
	}
	for _, d := range done {
		step := ""
		if d.ErrorStep != "" && d.Result != drill.ResultPass {
			step = " in step " + string(d.ErrorStep)
		}
		fmt.Fprintf(w, "Drill %s of %s: %s%s, last sign of life %s\n", d.DrillID, d.Scenario, d.Result, step, d.LastSignAt.Format(time.RFC3339))
		items := d.Found.Items()
		switch {
		case dryRun && len(items) > 0:
			for _, it := range items {
				fmt.Fprintf(w, "  would delete  %s\n", it)
			}
		case dryRun:
			fmt.Fprintln(w, "  nothing of it is left")
		case len(d.Deleted) > 0:
			for _, it := range d.Deleted {
				fmt.Fprintf(w, "  deleted       %s\n", it)
			}
		default:
			fmt.Fprintln(w, "  nothing of it was left")
		}
		for _, p := range d.Found.Pending {
			fmt.Fprintf(w, "  still running restore/%s: Velero records what it created when it ends; run the cleanup again then\n", p)
		}
		for _, n := range d.Found.NotOwned {
			fmt.Fprintf(w, "  not the drill's: %s %s: %s\n    if it is not needed: %s\n", strings.ToLower(n.Kind), n.Name, n.Why, n.Command)
		}
		if d.Error != "" {
			fmt.Fprintf(w, "  error: %s\n", d.Error)
		}
	}
	return nil
}
