package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/kube"
	"github.com/firedrill-dev/firedrill/internal/plural"
	"github.com/firedrill-dev/firedrill/restore"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// CleanupOptions are how a Cleaner reads records and the target.
type CleanupOptions struct {
	// Records are where drills are recorded: the state directory, then
	// the shared history; a drill's record is read from the first that
	// has it.
	Records []Records
	// Now is the clock the heartbeats are read against; time.Now when nil.
	Now func() time.Time
	// DryRun lists what would be deleted and deletes nothing.
	DryRun bool
	// Wait bounds the wait for a dead drill's Restore that Velero is still
	// running (DefaultLeftoverWait when zero; none in a dry run).
	Wait time.Duration
	// Progress gets a line per drill and what was deleted.
	Progress io.Writer
	Log      *slog.Logger
}

// DefaultLeftoverWait bounds the wait for a dead drill's Restores to end:
// Velero goes on with a Restore after firedrill dies, and records what it
// created only when it ends.
const DefaultLeftoverWait = 5 * time.Minute

// DrillCleanup is what a cleanup found and did for one drill.
type DrillCleanup struct {
	DrillID  string `json:"drill_id"`
	Scenario string `json:"scenario"`
	// Result is the drill's result as read (died for a dead drill).
	Result    Result   `json:"result"`
	ErrorStep StepName `json:"error_step,omitempty"`
	// LastSignAt is the drill's last heartbeat (its start without one).
	LastSignAt time.Time `json:"last_sign_at"`
	DryRun     bool      `json:"dry_run"`
	// Found is what the drill left, each item proven its own, and what is
	// in the way but not its own (found.not_owned), never deleted.
	Found *restore.Leftovers `json:"found"`
	// Deleted is what was deleted, as kind/name; empty in a dry run.
	Deleted []string `json:"deleted"`
	// Error says what could not be deleted.
	Error string `json:"error,omitempty"`
}

// Clean reports whether nothing of the drill is left in the target and
// nothing else is in the way.
func (d *DrillCleanup) Clean() bool {
	return d.Error == "" && !d.DryRun && len(d.Found.NotOwned) == 0 && len(d.Found.Pending) == 0
}

// DrillAliveError refuses to clean up after a drill whose heartbeat is
// fresh: its process is running and owns what it created.
type DrillAliveError struct{ Report *Report }

// Error names the drill, its process and its last heartbeat.
func (e *DrillAliveError) Error() string {
	r := e.Report
	where := ""
	if hb := r.Heartbeat; hb != nil {
		where = fmt.Sprintf(" (process %d on %s, step %s, heartbeat at %s)", hb.PID, hb.Host, hb.Step, hb.At.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("drill %s of scenario %s is alive%s: it cleans up after itself; it counts as dead %s after its last heartbeat",
		r.DrillID, r.Scenario, where, FormatSeconds(r.DeadAfter().Seconds()))
}

// Hint says how to get past it.
func (e *DrillAliveError) Hint() string {
	return fmt.Sprintf("let it end ('firedrill history %s'); if its process is gone, it is shown as died %s after its last heartbeat, and can be cleaned up then",
		e.Report.Scenario, FormatSeconds(e.Report.DeadAfter().Seconds()))
}

// ErrNoRecord is returned (wrapped) when a drill has no record in any of
// the Records: whether it is alive cannot be told.
var ErrNoRecord = errors.New("no record of the drill")

// Cleaner removes what drills of one scenario left in its target, only
// what it can prove each drill's own (restore.LeftoversOf), after the
// scratch guard. Drills that are alive are refused.
type Cleaner struct {
	sc   *scenarios.Scenario
	opts CleanupOptions
	// reach reaches the guarded target (c.target); tests give fakes.
	reach func(ctx context.Context) (restore.Target, error)
	// resourceList, when set, reads Velero's records of Restores in
	// place of DownloadRequests (tests).
	resourceList func(ctx context.Context, name string) (map[string][]string, error)
}

// NewCleaner is a Cleaner of the drills of sc; it contacts nothing yet.
func NewCleaner(sc *scenarios.Scenario, opts CleanupOptions) *Cleaner {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Wait == 0 {
		opts.Wait = DefaultLeftoverWait
	}
	if opts.DryRun {
		opts.Wait = -1
	}
	c := &Cleaner{sc: sc, opts: opts}
	c.reach = c.target
	return c
}

// FindRecord reads drill id's record from the first of records that has
// it, settled at now (see Settle). The error wraps ErrNoRecord when none
// has.
func FindRecord(ctx context.Context, records []Records, id string, now time.Time) (*Report, error) {
	var where []string
	for _, rs := range records {
		rep, err := ReadReport(ctx, rs, id)
		if errors.Is(err, fs.ErrNotExist) {
			where = append(where, rs.URL("", ""))
			continue
		}
		if err != nil {
			return nil, err
		}
		Settle(rep, now)
		return rep, nil
	}
	return nil, fmt.Errorf("drill %s: %w in %s: whether it is alive cannot be told (name the history it is recorded in with --history)",
		id, ErrNoRecord, strings.Join(where, " or "))
}

// DeadDrills are the drills of the scenario whose process died (result
// died), in every Records, each once, newest first.
func (c *Cleaner) DeadDrills(ctx context.Context) ([]*Report, error) {
	seen := map[string]bool{}
	var out []*Report
	var errs []error
	for _, rs := range c.opts.Records {
		reps, err := ListReports(ctx, rs, c.sc.Metadata.Name)
		if err != nil {
			errs = append(errs, err)
		}
		for _, r := range reps {
			if seen[r.DrillID] {
				continue
			}
			seen[r.DrillID] = true
			Settle(r, c.opts.Now())
			if r.Result == ResultDied {
				out = append(out, r)
			}
		}
	}
	return out, errors.Join(errs...)
}

// Drills cleans up after each drill of reps (records as read): a drill
// that is alive is refused (*DrillAliveError) before the target is
// contacted; the target must carry the scratch marker (kube.Guard). It
// returns one DrillCleanup per drill, and an error when the target could
// not be reached or read.
func (c *Cleaner) Drills(ctx context.Context, reps []*Report) ([]DrillCleanup, error) {
	for _, r := range reps {
		if r.Result == ResultRunning {
			return nil, &DrillAliveError{Report: r}
		}
	}
	if len(reps) == 0 {
		return []DrillCleanup{}, nil
	}
	target, err := c.reach(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]DrillCleanup, 0, len(reps))
	for _, r := range reps {
		d, err := c.drill(ctx, target, r)
		if err != nil {
			return out, err
		}
		out = append(out, *d)
	}
	return out, nil
}

// target reaches the scenario's target and refuses it unless it is a
// scratch cluster, as a drill's preflight does.
func (c *Cleaner) target(ctx context.Context) (restore.Target, error) {
	t := c.sc.Spec.Target
	target, err := kube.New(t.Kubeconfig, t.Context)
	if err != nil {
		return restore.Target{}, targetError(c.sc, err)
	}
	var source *kube.Clients
	if src := c.sc.Spec.Source; src.Kubeconfig != "" || src.Context != "" {
		source, _ = kube.New(src.Kubeconfig, src.Context)
	}
	if err := kube.Guard(ctx, target.Kube, target.Config, configOf(source)); err != nil {
		return restore.Target{}, err
	}
	return restore.Target{Kube: target.Kube, Dynamic: target.Dynamic}, nil
}

func (c *Cleaner) drill(ctx context.Context, target restore.Target, r *Report) (*DrillCleanup, error) {
	s := c.sc.Spec
	lo := restore.LeftoverOptions{Namespaces: restoreSelection(c.sc, r.DrillID).TargetNamespaces()}
	if c.opts.Wait > 0 {
		lo.Wait = c.opts.Wait
	}
	lo.ResourceList = c.resourceList
	if location, from := c.sc.RestoreFrom(); from != nil {
		lo.SecretNames = []string{restore.CopySecretName(location)}
	}
	fmt.Fprintf(c.opts.Progress, "drill %s of %s (%s%s, last sign of life %s): looking for what it left in the target\n",
		r.DrillID, r.Scenario, r.Result, inStep(r), r.LastSign().UTC().Format(time.RFC3339))
	found, err := restore.LeftoversOf(ctx, target, s.Backups.VeleroNamespace, r.DrillID, lo)
	if err != nil {
		return nil, fmt.Errorf("drill %s: %w", r.DrillID, err)
	}
	d := &DrillCleanup{DrillID: r.DrillID, Scenario: r.Scenario, Result: r.Result, ErrorStep: r.ErrorStep, LastSignAt: r.LastSign().UTC(),
		DryRun: c.opts.DryRun, Found: found, Deleted: []string{}}
	if c.opts.DryRun {
		for _, it := range found.Items() {
			fmt.Fprintf(c.opts.Progress, "  would delete %s\n", it)
		}
		return d, nil
	}
	if items := found.Items(); len(items) > 0 {
		fmt.Fprintf(c.opts.Progress, "  deleting %s\n", strings.Join(items, ", "))
		d.Deleted, err = restore.RemoveLeftovers(ctx, target, s.Backups.VeleroNamespace, found, time.Duration(s.Cleanup.Timeout))
		if err != nil {
			d.Error = err.Error()
		}
	}
	return d, nil
}

func inStep(r *Report) string {
	if r.ErrorStep == "" || r.Result == ResultPass {
		return ""
	}
	return " in step " + string(r.ErrorStep)
}

// cleanupDead is the start of the preflight step: a drill of the same
// scenario whose process died left its namespaces and Restores in the
// target, and the preflight would refuse it ("namespace shop already
// exists"). Each such drill is cleaned up first, saying so in the
// progress and in a finding; what is not provably its own stays, and the
// preflight names it.
func (r *run) cleanupDead(ctx context.Context) {
	c := r.opts.Cleaner
	if c == nil {
		return
	}
	dead, err := c.DeadDrills(ctx)
	if err != nil {
		r.opts.Logger.Warn("read the records of earlier drills", "err", err)
	}
	var others []*Report
	for _, d := range dead {
		if d.DrillID != r.opts.DrillID {
			others = append(others, d)
		}
	}
	if len(others) == 0 {
		return
	}
	fmt.Fprintf(r.opts.Progress, "[%s] %d earlier %s of %s died: cleaning up after %s first\n", r.elapsed(), len(others),
		plural.Of(len(others), "drill", "drills"), r.sc.Metadata.Name, plural.Of(len(others), "it", "them"))
	done, err := c.Drills(ctx, others)
	for _, d := range done {
		r.report.Findings = append(r.report.Findings, deadDrillFinding(d))
	}
	if err != nil {
		r.report.Findings = append(r.report.Findings, finding.Warn("preflight.dead-drill", "scratch cluster",
			"could not clean up after the earlier drills that died: "+err.Error()).
			With("", "", "run 'firedrill cleanup --stale "+r.sc.Metadata.Name+"' and read what it says"))
	}
}

// deadDrillFinding says what the cleanup after a dead drill did.
func deadDrillFinding(d DrillCleanup) finding.Finding {
	subject := fmt.Sprintf("drill %s (died%s at %s)", d.DrillID, stepSuffix(d.ErrorStep), d.LastSignAt.Format(time.RFC3339))
	msg := "an earlier drill of this scenario died; firedrill removed what it left in the scratch cluster before this drill"
	if len(d.Deleted) > 0 {
		msg += ": " + strings.Join(d.Deleted, ", ")
	} else {
		msg += " (nothing of it was left)"
	}
	f := finding.Warn("preflight.dead-drill", subject, msg)
	var hint []string
	for _, n := range d.Found.NotOwned {
		hint = append(hint, fmt.Sprintf("%s %s is in the way and not provably the dead drill's (%s): if it is not needed, %s", n.Kind, n.Name, n.Why, n.Command))
	}
	if d.Error != "" {
		f.Message += "; not everything could be deleted: " + d.Error
	}
	hint = append(hint, "find out why the drill died (OOM, eviction, a lost node): its record is in 'firedrill history'")
	return f.With("", "", strings.Join(hint, "; "))
}

func stepSuffix(s StepName) string {
	if s == "" {
		return ""
	}
	return " in step " + string(s)
}
