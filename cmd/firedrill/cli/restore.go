package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/restore"
)

func (a *app) restoreCommand() *cli.Command {
	return &cli.Command{
		Name:      "restore",
		Usage:     "restore a scenario's backup into its scratch cluster and run its checks, without the rest of a drill",
		UsageText: "firedrill restore NAME|FILE|- [-o text|json|yaml]",
		Description: `Runs the restore part of a drill on its own, for engineers re-running a step:
preflight (the target must carry the scratch marker and must not be the
source; Velero's storage location Available), recovery point (the backup the
scenario selects; RPO), the restore phases (NetworkPolicies first by
default; from the off-site copy when the scenario loses the primary
storage), the order proof, the checks, and cleanup per the scenario's
policy (default: delete on success, keep on failure; also after Ctrl-C).

--kubeconfig and --context select the target instead of the scenario's
spec.target (neither set: $KUBECONFIG, then ~/.kube/config, as kubectl);
the scratch marker is required all the same.

Progress goes to stderr; the result to stdout.

Exit codes:
  0    restored, order proven and every check passed
  1    error: the restore could not be run
  2    usage: a bad flag or argument
  3    the restore ran and failed, the order proof failed or a check failed
  4    another drill held the scratch cluster's Lease past --lock-wait
  130  interrupted (cleaned up per the scenario's policy)

Examples:
  firedrill restore lab-region-loss
  firedrill restore region-loss --kubeconfig ~/.kube/scratch.yaml --context kind-scratch
  firedrill restore ./scenarios/shop.yaml -o json`,
		Flags:  append([]cli.Flag{textOutput.flag(), lockWaitFlag()}, clusterFlags()...),
		Action: a.restore,
	}
}

func (a *app) restore(c *cli.Context) error {
	sc, format, err := a.drillScenarioArg(c, textOutput)
	if err != nil {
		return err
	}
	wait, err := lockWait(c)
	if err != nil {
		return err
	}
	progress := newProgressLines(a.progressOut())
	res, err := drill.RunRestore(c.Context, sc, drill.RestoreOptions{
		LockWait:        wait,
		Getenv:          a.env.getenv,
		Progress:        progress,
		RestoreProgress: progress.Restore,
		Log:             a.log,
		Secrets:         a.secrets,
	})
	if res != nil {
		werr := writeOutput(a.env.Stdout, format, document{
			doc:   restoreDoc{Schema: schemaRestore, Result: res},
			table: func(w io.Writer) error { writeRestoreText(w, sc.Metadata.Name, res); return nil },
		})
		if werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return err
	}
	if !res.Passed {
		return failedf("%s", restoreVerdict(res))
	}
	return nil
}

func restoreVerdict(res *restore.Result) string {
	switch {
	case !res.Restored:
		return "the restore failed"
	case !res.OrderVerified:
		return "the restore order was not proven: a workload came before the NetworkPolicies of its namespace"
	}
	n := 0
	for _, ch := range res.Checks {
		if !ch.Passed {
			n++
		}
	}
	return fmt.Sprintf("%s of %d failed", count(n, "check"), len(res.Checks))
}

// isTerminal reports whether w is a terminal, for progress rewritten in
// place (progressLines).
func isTerminal(w io.Writer) bool {
	f, ok := unwrapped(w).(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func writeRestoreText(w io.Writer, scenario string, res *restore.Result) {
	verdict := "PASSED"
	if !res.Passed {
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "Restore of scenario %s (drill %s): %s\n", scenario, res.DrillID, verdict)
	if b := res.Backup; b != nil {
		fmt.Fprintf(w, "Backup:  %s (started %s, completed %s, storage location %s)\n", b.Backup,
			b.Started.UTC().Format(time.RFC3339), b.Completed.UTC().Format(time.RFC3339), b.StorageLocation)
		fmt.Fprintf(w, "RPO:     %s (disaster at %s)\n", seconds(res.RPOSeconds), b.DisasterTime.UTC().Format(time.RFC3339))
	}
	if res.ApplicationRPOSeconds != nil {
		fmt.Fprintf(w, "RPO seen by the application (data canary): %s\n", seconds(*res.ApplicationRPOSeconds))
	}
	if res.FromCopy != "" {
		fmt.Fprintf(w, "Restored from copy %s\n", res.FromCopy)
	}
	for i, r := range res.Restores {
		fmt.Fprintf(w, "Phase %d %s: restore %s %s, %d/%d items in %.2fs, %d warnings, %d errors\n",
			i+1, r.Phase, r.Name, r.Status, r.ItemsRestored, r.TotalItems, r.DurationSeconds, r.Warnings, r.Errors)
		if r.Status != velerov1.RestorePhaseCompleted {
			fmt.Fprintf(w, "  reason: %s\n", r.Reason())
		}
		if r.Results != nil {
			for _, l := range r.Results.Errors.Lines() {
				fmt.Fprintf(w, "  error:   %s\n", l)
			}
			for _, l := range r.Results.Warnings.Lines() {
				fmt.Fprintf(w, "  warning: %s\n", l)
			}
		}
	}
	if res.Order != nil {
		if res.OrderVerified {
			fmt.Fprintf(w, "Order:   verified, every workload appeared after a NetworkPolicy of its namespace (%d objects, by %s)\n",
				len(res.Order.Appearances), res.Order.Method)
		} else {
			fmt.Fprintf(w, "Order:   NOT verified: %s\n", strings.Join(res.Order.Violations, "; "))
		}
	}
	for _, ch := range res.Checks {
		mark := "pass"
		switch {
		case ch.Skipped:
			mark = "skipped"
		case !ch.Passed:
			mark = "FAIL"
		}
		fmt.Fprintf(w, "Check %s [%s] %s: %s\n", ch.Name, ch.Kind, mark, ch.Message)
	}
	cl := res.Cleanup
	switch {
	case cl.Error != "":
		fmt.Fprintf(w, "Cleanup: incomplete: %s\n", cl.Error)
	case cl.Done:
		fmt.Fprintf(w, "Cleanup: deleted %d objects (policy %s)\n", len(cl.Deleted), cl.Policy)
	case len(cl.Kept) > 0:
		fmt.Fprintf(w, "Cleanup: kept for investigation (policy %s): %s\n", cl.Policy, strings.Join(cl.Kept, ", "))
	}
}

func seconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Second).String()
}
