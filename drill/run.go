package drill

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/plural"
	"github.com/firedrill-dev/firedrill/internal/recoverypoint"
	"github.com/firedrill-dev/firedrill/internal/secret"
	"github.com/firedrill-dev/firedrill/runbooks"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// Protection proves the backups are protected (the protection step).
// backup.CheckProtection is behind the real one.
type Protection interface {
	// Check returns the protection findings for the chosen backup (nil
	// when no backup could be chosen: bucket checks only) and details to
	// keep in the drill directory. An error means the checks could not
	// run at all (e.g. unreachable endpoint): the step errors, the drill
	// goes on.
	Check(ctx context.Context, backup *BackupRef) ([]finding.Finding, any, error)
}

// Recovery is everything the drill does in the scratch cluster. The
// restore package is behind the real one.
type Recovery interface {
	// Preflight reaches the clusters, refuses a target that is not a
	// scratch cluster, and checks Velero and its storage location.
	// disasterAt is the drill's disaster time (Report.DisasterAt): every
	// RPO the recovery measures, the data canaries' included, counts
	// from it.
	Preflight(ctx context.Context, disasterAt time.Time) error
	// RecoveryPoint chooses the backup to restore, and says how: the
	// choice's Candidates, Seed and Why (the rest of it the drill reads
	// from the scenario); a nil choice says nothing. Called once.
	RecoveryPoint(ctx context.Context) (*BackupRef, *RecoveryPointChoice, error)
	// Restore restores the backup phase by phase, writing progress.
	Restore(ctx context.Context, backup *BackupRef, progress io.Writer) (RestoreOutcome, error)
	// Verify runs the checks after the restore.
	Verify(ctx context.Context) (VerifyOutcome, error)
	// RunbookEnv is the environment of runbook steps (KUBECONFIG of the
	// target and the FIREDRILL_* variables of the runbook contract).
	RunbookEnv() []string
	// Evidence reads, before cleanup, what the drill keeps as evidence of
	// the restore: the Velero objects and what came back, Secret values
	// redacted. A partial read returns what it has and an error.
	Evidence(ctx context.Context) (Collected, error)
	// Cleanup removes what the drill created in the target, on a context
	// Ctrl-C does not cancel. passed says whether the drill passed (or was
	// interrupted), for the onSuccess policy. Idempotent.
	Cleanup(ctx context.Context, passed bool) error
}

// RestoreOutcome is what the restore step did.
type RestoreOutcome struct {
	// Restores are the Velero Restores, in order; the restore completed
	// when there is at least one, every one is Completed and Incomplete
	// is false.
	Restores []RestoreRef
	// Incomplete: the restore did not complete though every Restore may
	// be Completed (volume data that did not come back, say); its
	// findings say why.
	Incomplete    bool
	OrderVerified *bool
	Findings      []finding.Finding
	// Details are kept as restore.json in the drill directory.
	Details any
	// SecretValues are the values of the restored Secrets: nothing the
	// drill writes after the restore may hold them. Never kept.
	SecretValues []string
}

// VerifyOutcome is what the checks after the restore found.
type VerifyOutcome struct {
	Checks   []CheckRef
	Findings []finding.Finding
	// DataTime is the time the data canary holds; zero without a canary.
	// DataCheck names that check: the first data canary, in check order,
	// that read a time.
	DataTime  time.Time
	DataCheck string
	Details   any
}

// Options are how a drill runs. Protection and Recovery are the parts that
// touch real systems; tests give fakes.
type Options struct {
	// StateDir holds the drill directories (StateDir/drills/ID).
	StateDir string
	// DrillID names the drill; generated when empty.
	DrillID string
	// Now is the drill's clock; time.Now (which carries a monotonic
	// reading) when nil.
	Now func() time.Time
	// Progress gets human-readable progress lines (stderr).
	Progress io.Writer
	Logger   *slog.Logger
	// Version is firedrill's version, for the report.
	Version    string
	Protection Protection
	Recovery   Recovery
	// Scope reads the chosen backup's scope in the source and compares
	// item counts after the restore; nil checks neither.
	Scope Scope
	// Runbook is the scenario's runbook, resolved by the caller; nil
	// when the scenario has none.
	Runbook *runbooks.Runbook
	// Operator does the runbook's manual steps in an interactive drill,
	// each timed until confirmed; nil (CI, a scheduled pod, --yes)
	// declares their estimates instead (see WithDeclaredManual).
	Operator runbooks.Operator
	// Secrets are every secret the drill holds (credentials it read,
	// URLs with tokens, the evidence key): replaced in everything the
	// drill writes and uploads. The drill adds the restored Secrets'
	// values and the target's kubeconfig credentials to it. A new empty
	// set when nil.
	Secrets *secret.Set
	// StepTimeout bounds each step but report (one minute) and cleanup
	// (CleanupTimeout); 30 minutes when zero. The restore phases and
	// checks have their own timeouts inside it.
	StepTimeout time.Duration
	// CleanupTimeout bounds cleanup, which runs even after Ctrl-C; the
	// scenario's cleanup.timeout when zero.
	CleanupTimeout time.Duration
	// History, when set, is the team's shared history: every time the
	// record is written it is uploaded there too (at the end with
	// report.md, report.html and retrospective.md). A failed upload never
	// fails the drill: it is a warn finding "history.upload". nil keeps
	// the record in StateDir only. An *S3Records in one of the scenario's
	// backup buckets is refused (BackupBucketError).
	History Records
	// Cluster names the cluster the drill protects (Report.Cluster,
	// CheckClusterName); empty for none. The caller keeps History under
	// the same name (S3Records.Cluster).
	Cluster string
	// Evidence, when set, signs the evidence bundle of the drill after
	// cleanup, and pushes it, locked, when it has a target. A failed push
	// is Run's error; the drill's result stands.
	Evidence *EvidenceOptions
	// Metrics are exported after the drill, with the history (see
	// Outcome.Warnings for their failures).
	Metrics []MetricsExporter
	// Notifiers are told how the drill ended, last.
	Notifiers []Notifier
	// HeartbeatInterval is how often the running record's heartbeat is
	// renewed (see Heartbeat); DefaultHeartbeatInterval when zero.
	HeartbeatInterval time.Duration
	// Cleaner, when set, cleans up after the earlier drills of the
	// scenario whose process died, at the start of the preflight step
	// (each a finding "preflight.dead-drill"); nil leaves them.
	Cleaner *Cleaner
}

// ErrInterrupted is the cause recorded when a drill is stopped.
var ErrInterrupted = errors.New("drill interrupted")

// NewDrillID returns a sortable, unique drill id that fits in Velero
// object names with a phase suffix: fd-20261122-174512-3f9a.
func NewDrillID(now time.Time) string {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return "fd-" + now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

// run is one drill in progress.
type run struct {
	opts   Options
	sc     *scenarios.Scenario
	dir    *Dir
	report *Report
	now    func() time.Time

	backup       *BackupRef
	choice       *RecoveryPointChoice // how backup was chosen, as the Recovery says
	backupErr    error
	backupChosen bool
	dataTime     time.Time
	stop         string // why later steps are skipped
	// secrets are values nothing the drill writes or uploads may hold:
	// the credentials it read and the restored Secrets' values.
	secrets *secret.Set
	// shareErr is the first failed upload to the shared history; after it
	// only the final upload is tried, so a bucket that is down delays
	// the drill by at most two upload timeouts.
	shareErr error

	// mu guards snapshot and the writes of report.json, which the
	// heartbeat goroutine renews (see heartbeat.go).
	mu       sync.Mutex
	snapshot *Report
	hbStop   chan struct{}
	hbDone   chan struct{}
}

// reportFiles are the files of a drill that go to the shared history.
var reportFiles = []string{"report.json", "report.md", "report.html", "retrospective.md"}

// Run runs a complete drill of the scenario: the steps (see steps), its
// record in the state directory as the drill goes (so a crash leaves one)
// and in the shared history, then, once the record is final, the signed
// evidence bundle and its push, the metrics and the notifications. The
// Outcome's report says whether the drill passed. Cleanup runs whatever
// happens, on a context that survives ctx's cancellation, and so do the
// outputs after it.
//
// Run returns a nil Outcome and an error when it cannot keep a record at
// all, or when opts name a shared history or an evidence bucket that is
// one of the scenario's backup buckets (*BackupBucketError, before the
// drill starts). It returns the Outcome and an error when the evidence
// asked for was not kept (a push failed, say). A failed metrics export or
// notification is one of Outcome.Warnings, never an error.
func Run(ctx context.Context, sc *scenarios.Scenario, opts Options) (*Outcome, error) {
	if err := checkTargets(sc, opts); err != nil {
		return nil, err
	}
	if opts.Cluster != "" {
		if err := CheckClusterName(opts.Cluster); err != nil {
			return nil, err
		}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.StepTimeout == 0 {
		opts.StepTimeout = 30 * time.Minute
	}
	if opts.CleanupTimeout == 0 {
		opts.CleanupTimeout = time.Duration(sc.Spec.Cleanup.Timeout)
	}
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = DefaultHeartbeatInterval
	}
	start := opts.Now()
	if opts.DrillID == "" {
		opts.DrillID = NewDrillID(start)
	}
	if opts.Secrets == nil {
		opts.Secrets = secret.New()
	}
	dir, err := CreateDir(opts.StateDir, opts.DrillID)
	if err != nil {
		return nil, err
	}
	dir.Secrets = opts.Secrets
	r := &run{opts: opts, sc: sc, dir: dir, now: opts.Now, secrets: opts.Secrets}
	r.report = r.newReport(start)
	if err := dir.WriteScenario(sc); err != nil {
		return nil, err
	}
	if err := dir.WriteRunbook(opts.Runbook); err != nil {
		return nil, err
	}
	if err := r.writeRecord(StepLoad); err != nil {
		return nil, err
	}
	r.hbStop, r.hbDone = make(chan struct{}), make(chan struct{})
	go r.heartbeat(ctx, r.hbStop, r.hbDone)
	defer r.stopHeartbeat()
	fmt.Fprintf(opts.Progress, "drill %s of scenario %s; record in %s\n", opts.DrillID, sc.Metadata.Name, dir.Path)
	if opts.History != nil {
		fmt.Fprintf(opts.Progress, "shared history: %s\n", opts.History.URL(opts.DrillID, ""))
	}
	r.share(ctx, false, "report.json")

	list := steps()
	recovering := true
	for i, st := range list {
		if st.afterStop && recovering {
			// The recovery is over: an interruption up to here is the
			// drill's result, whatever the steps after it do.
			recovering = false
			r.endRecovery(ctx)
		}
		// After the last step, finish writes and uploads every file.
		r.step(ctx, st, i < len(list)-1)
	}
	if err := r.finish(ctx); err != nil {
		return nil, err
	}
	out := &Outcome{Report: r.report}
	return out, r.afterRecord(ctx, out)
}

func (r *run) newReport(start time.Time) *Report {
	sc := r.sc
	disaster := start
	if d := sc.Spec.Disaster.DeclaredAt; !d.IsZero() {
		disaster = d
	}
	fp := FingerprintOf(sc, r.opts.Runbook)
	budget := sc.Spec.Objectives.Budget()
	return &Report{
		Schema: ReportSchema, DrillID: r.opts.DrillID, Scenario: sc.Metadata.Name,
		ScenarioSource: fmt.Sprintf("%s: %s", sc.Origin.Source, sc.Origin.File), Summary: sc.Spec.Disaster.Summary, Narrative: sc.Spec.Disaster.Narrative,
		Lead: sc.Spec.Disaster.Lead, Observers: sc.Spec.Disaster.Observers, FiredrillVer: r.opts.Version,
		StartedAt: start, DisasterAt: disaster, Result: ResultRunning,
		Cluster:   r.opts.Cluster,
		Heartbeat: newHeartbeat(start, r.opts.HeartbeatInterval),
		RTO:       NotMeasured(time.Duration(sc.Spec.Objectives.RTO), "the drill is running"),
		RPO:       NotMeasured(time.Duration(sc.Spec.Objectives.RPO), "the drill is running"),
		Phases:    []Phase{},
		Findings:  []finding.Finding{},
		Detection: sc.Spec.Disaster.Detection, Goals: sc.Spec.Disaster.Goals,
		RecoveryPoint:  recoveryPointChoice(sc.Spec.Backups),
		RetroQuestions: retroQuestions(r.opts.Runbook),
		// What "after a major change" compares (DueOf).
		ScenarioSHA256: fp.ScenarioSHA256, RunbookSHA256: fp.RunbookSHA256, TargetSHA256: fp.TargetSHA256,
		Compliance:               slices.Clone(sc.Spec.Compliance),
		ErrorBudgetTarget:        budget.Target,
		ErrorBudgetWindowSeconds: time.Duration(budget.Window).Seconds(),
	}
}

// endRecovery records an interruption of the recovery as the drill's
// result, naming the step it stopped.
func (r *run) endRecovery(ctx context.Context) {
	if ctx.Err() == nil {
		return
	}
	r.report.Result = ResultInterrupted
	r.report.Error = ErrInterrupted.Error()
	if r.report.ErrorStep == "" {
		r.report.ErrorStep = interruptedAt(r.report.Phases)
	}
}

// step runs one step within its timeout and records it on the timeline,
// then, when record is set, writes the record and uploads it to the shared
// history. The step's run returns PhasePassed, PhaseFailed or
// PhaseSkipped, or an error (PhaseError). After an interruption (but for
// a detached step), when an earlier step stopped the drill (but for a
// step that runs after a stop), or when the step says so, it is skipped.
func (r *run) step(ctx context.Context, st step, record bool) {
	switch {
	case ctx.Err() != nil && !st.detached:
		r.skip(st, skippedInterrupted)
		return
	case r.stop != "" && !st.afterStop:
		r.skip(st, r.stop)
		return
	}
	if st.skip != nil {
		if why := st.skip(r); why != "" {
			r.skip(st, why)
			return
		}
	}
	timeout := r.opts.StepTimeout
	if st.timeout != nil {
		timeout = st.timeout(r)
	}
	parent := ctx
	if st.detached {
		parent = context.WithoutCancel(ctx)
	}
	sctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	// The record names the step before the progress line does: a drill
	// killed after the line is recorded as dead in that step.
	if err := r.writeRecord(st.name); err != nil {
		r.opts.Logger.Warn("write drill record", "err", err)
		if !st.afterStop {
			r.unrecorded(st, err)
			return
		}
	}
	fmt.Fprintf(r.opts.Progress, "[%s] %s ...\n", r.elapsed(), st.name)
	p := Phase{Name: st.name, Start: r.now(), CountsTowardRTO: st.countsTowardRTO}
	found := len(r.report.Findings)
	status, err := st.run(r, sctx)
	p.End = r.now()
	p.DurationSeconds = p.End.Sub(p.Start).Seconds()
	p.Status = status
	if err != nil {
		p.Status = PhaseError
		p.Error = err.Error()
		if errors.Is(err, context.DeadlineExceeded) && (st.detached || ctx.Err() == nil) {
			p.Error = fmt.Sprintf("step did not finish within %s: %v", FormatSeconds(timeout.Seconds()), err)
		}
		if ctx.Err() != nil && !st.detached {
			p.Error = "interrupted: " + err.Error()
		}
	}
	r.report.Phases = append(r.report.Phases, p)
	if stop := r.report.StoppedBy(); stop != nil && r.report.ErrorStep == "" {
		// Recorded at once, so the record says why even if firedrill
		// dies before the end.
		r.report.Error, r.report.ErrorStep = stop.Error, stop.Name
	}
	line := fmt.Sprintf("[%s] %s %s in %s", r.elapsed(), st.name, p.Status, fmtSeconds(p.DurationSeconds))
	if p.Error != "" {
		line += ": " + p.Error
	} else if p.Status == PhaseFailed {
		line += firstFailure(r.report.Findings[found:])
	}
	fmt.Fprintln(r.opts.Progress, line)
	if !record {
		return
	}
	if err := r.writeRecord(st.name); err != nil {
		r.opts.Logger.Warn("write drill record", "err", err)
		return
	}
	if st.publishes && p.Status == PhasePassed {
		r.share(ctx, false, reportFiles...)
	} else {
		r.share(ctx, false, "report.json")
	}
}

// unrecorded ends the recovery at step st because the drill's record
// cannot be written (a full disk, ENOSPC): the step is an error naming
// the write, the recovery steps after it are skipped, and the report,
// evidence and cleanup still run, so the scratch cluster is cleaned up.
// Going on would restore and verify for nothing: no record would say so,
// and a record whose heartbeat no longer renews is soon read as died.
func (r *run) unrecorded(st step, err error) {
	t := r.now()
	msg := "the drill's record cannot be written: " + err.Error()
	r.report.Phases = append(r.report.Phases, Phase{Name: st.name, Start: t, End: t, CountsTowardRTO: st.countsTowardRTO, Status: PhaseError, Error: msg})
	r.stop = "the drill's record cannot be written"
	if r.report.ErrorStep == "" {
		r.report.Error, r.report.ErrorStep = msg, st.name
	}
	fmt.Fprintf(r.opts.Progress, "[%s] %s %s: %s\n", r.elapsed(), st.name, PhaseError, msg)
}

// share uploads files of the drill directory, as written, to the shared
// history, on a context Ctrl-C does not cancel (the record of an
// interrupted drill matters too), each upload within the history's
// timeout. The first failure is logged and becomes one warn finding; after
// it, only final uploads are tried.
func (r *run) share(ctx context.Context, final bool, names ...string) {
	h := r.opts.History
	if h == nil || (r.shareErr != nil && !final) {
		return
	}
	ctx = context.WithoutCancel(ctx)
	for _, name := range names {
		b, err := os.ReadFile(r.dir.File(name))
		if err == nil {
			b = r.secrets.Redact(b)
			err = h.WriteFile(ctx, r.opts.DrillID, name, b)
		}
		if err != nil {
			r.opts.Logger.Warn("upload drill record to the shared history", "history", h.URL("", ""), "err", err)
			if r.shareErr == nil {
				r.report.Findings = append(r.report.Findings, finding.Warn("history.upload", h.URL("", ""),
					"the drill's record could not be uploaded to the shared history: "+err.Error()).
					With("", "", "check --history, --history-endpoint and the credentials; the local record in "+r.dir.Path+" is complete"))
			}
			r.shareErr = err
			return
		}
	}
}

// firstFailure is ": " and the first failed finding of fs, cut to one
// short line for the progress output (the report has it whole); "" when
// none failed.
func firstFailure(fs []finding.Finding) string {
	for _, f := range fs {
		if f.Status != finding.StatusFail {
			continue
		}
		s := f.ID + ": " + f.Message
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[:i]
		}
		if r := []rune(s); len(r) > progressReasonRunes {
			s = string(r[:progressReasonRunes]) + "..."
		}
		return ": " + s
	}
	return ""
}

// progressReasonRunes bounds the reason on a failed step's progress line.
const progressReasonRunes = 160

// interruptedAt is the step an interruption stopped: the first one it
// skipped when it came between steps.
func interruptedAt(phases []Phase) StepName {
	for _, p := range phases {
		if p.Status == PhaseSkipped && p.Error == skippedInterrupted {
			return p.Name
		}
	}
	return ""
}

// skippedInterrupted is why a step after an interruption is skipped.
const skippedInterrupted = "the drill was interrupted"

func (r *run) skip(st step, why string) {
	t := r.now()
	r.report.Phases = append(r.report.Phases, Phase{Name: st.name, Start: t, End: t, CountsTowardRTO: st.countsTowardRTO, Status: PhaseSkipped, Error: why})
	fmt.Fprintf(r.opts.Progress, "[%s] %s skipped: %s\n", r.elapsed(), st.name, why)
}

func (r *run) elapsed() string { return fmtSeconds(r.now().Sub(r.report.StartedAt).Seconds()) }

func (r *run) preflight(ctx context.Context) (string, error) {
	if r.opts.Recovery == nil {
		r.stop = "no scratch cluster to recover into"
		return "", errors.New("no recovery configured")
	}
	r.cleanupDead(ctx)
	if err := r.opts.Recovery.Preflight(ctx, r.report.DisasterAt); err != nil {
		r.stop = "preflight failed"
		if f, ok := scratchInUse(err); ok {
			r.stop = "another drill holds the scratch cluster"
			r.report.Findings = append(r.report.Findings, f)
		}
		return "", err
	}
	return PhasePassed, nil
}

// chosenBackup asks for the recovery point once; protection needs it to
// check the objects of the backup the drill will restore.
func (r *run) chosenBackup(ctx context.Context) (*BackupRef, error) {
	if !r.backupChosen {
		r.backup, r.choice, r.backupErr = r.opts.Recovery.RecoveryPoint(ctx)
		// Keep the answer, unless the protection step's timeout cut the
		// choice short: the recovery-point step then asks again.
		r.backupChosen = r.backupErr == nil || ctx.Err() == nil
	}
	return r.backup, r.backupErr
}

func (r *run) protection(ctx context.Context) (string, error) {
	if r.opts.Protection == nil {
		return PhaseSkipped, nil
	}
	b, _ := r.chosenBackup(ctx) // a failed choice is the recovery-point step's to report
	fs, details, err := r.opts.Protection.Check(ctx, b)
	r.report.Findings = append(r.report.Findings, fs...)
	if res, ok := details.(backup.Result); ok {
		r.report.Window = res.Window
	}
	if details != nil {
		if werr := r.dir.WriteJSON("protection.json", details); werr != nil {
			r.opts.Logger.Warn("write protection details", "err", werr)
		}
	}
	// A protection failure does not stop the restore: both are findings of
	// the same drill.
	if err != nil {
		return "", err
	}
	if finding.Failed(fs) {
		return PhaseFailed, nil
	}
	return PhasePassed, nil
}

func (r *run) recoveryPoint(ctx context.Context) (string, error) {
	b, err := r.chosenBackup(ctx)
	if err != nil {
		r.stop = "no recovery point"
		return "", err
	}
	r.report.Backup = b
	r.report.RecoveryPoint = r.report.RecoveryPoint.picked(r.choice)
	r.report.RPO = MeasureRPO(time.Duration(r.sc.Spec.Objectives.RPO), r.report.DisasterAt, b.Started)
	r.report.Findings = append(r.report.Findings, recoveryPointFindings(r.sc.Spec.Backups.VeleroNamespace, b)...)
	if !r.readScope(ctx, b.Name) {
		// Data outside the backup fails the recovery point, not the
		// restore: the drill still shows what does come back.
		return PhaseFailed, nil
	}
	return PhasePassed, nil
}

// recoveryPointFindings say which backup the RPO counts from, on what
// evidence (the Velero Backup object of the target, its status), which
// newer backups were passed over, and what a PartiallyFailed one lacks.
func recoveryPointFindings(veleroNS string, b *BackupRef) []finding.Finding {
	subject := fmt.Sprintf("Velero Backup %s/%s in the target", veleroNS, b.Name)
	phase := cmp.Or(b.Phase, "Completed")
	fs := []finding.Finding{finding.Pass("recovery-point.backup", subject,
		fmt.Sprintf("recovery point: status.phase %s, status.startTimestamp %s (the RPO counts from it)", phase, b.Started.UTC().Format(time.RFC3339)))}
	if len(b.Skipped) > 0 {
		fs = append(fs, finding.Warn("recovery-point.skipped", subject,
			fmt.Sprintf("%s could not be restored, so the RPO counts from %s: %s", plural.Count(len(b.Skipped), "newer backup", "newer backups"), b.Name, recoverypoint.Join(b.Skipped))).
			With("the newest backup before the disaster is restorable", plural.Count(len(b.Skipped), "newer backup", "newer backups")+" not restorable",
				"read why with `velero backup describe NAME --details` and `velero backup logs NAME`; fix the cause so the next scheduled backup completes"))
	}
	if b.Phase == "PartiallyFailed" {
		msg := fmt.Sprintf("the recovery point is PartiallyFailed (allowPartiallyFailed): %s, %s; the items Velero could not back up are not restored",
			plural.Count(b.Errors, "error", "errors"), plural.Count(b.Warnings, "warning", "warnings"))
		if len(b.ErrorMessages) > 0 {
			msg += ": " + strings.Join(firstN(b.ErrorMessages, 5), "; ")
		} else if b.ResultsError != "" {
			msg += " (per-item messages not read: " + b.ResultsError + ")"
		}
		fs = append(fs, finding.Warn("recovery-point.partially-failed", subject, msg).
			With("status.phase Completed", fmt.Sprintf("status.phase PartiallyFailed, status.errors %d, status.warnings %d", b.Errors, b.Warnings),
				"read the errors with `velero backup describe "+b.Name+" --details`; check that the checks cover what the backup lacks"))
	}
	return fs
}

// firstN is at most n of ss, and "and K more" when there are more.
func firstN(ss []string, n int) []string {
	if len(ss) <= n {
		return ss
	}
	return append(slices.Clone(ss[:n]), fmt.Sprintf("and %d more", len(ss)-n))
}

func (r *run) restore(ctx context.Context) (string, error) {
	out, err := r.opts.Recovery.Restore(ctx, r.backup, r.opts.Progress)
	r.secrets.AddData(out.SecretValues...)
	r.report.Restores = out.Restores
	r.report.OrderVerified = out.OrderVerified
	r.report.Findings = append(r.report.Findings, out.Findings...)
	if err == nil && restored(out.Restores) {
		r.countItems(ctx, r.backup.Name, out.Restores)
	}
	if out.Details != nil {
		if werr := r.dir.WriteJSON("restore.json", out.Details); werr != nil {
			r.opts.Logger.Warn("write restore details", "err", werr)
		}
	}
	if err != nil {
		r.stop = "the restore did not complete"
		return "", err
	}
	if !restored(out.Restores) || out.Incomplete {
		// Velero ran and the restore failed (refused objects, volumes
		// without their data, say): a finding of the drill, not an error
		// of firedrill. The checks and the runbook do not run on it.
		r.stop = "the restore did not complete"
		return PhaseFailed, nil
	}
	if finding.Failed(out.Findings) {
		return PhaseFailed, nil
	}
	return PhasePassed, nil
}

func restored(rs []RestoreRef) bool {
	for _, r := range rs {
		if r.VeleroPhase != "Completed" {
			return false
		}
	}
	return len(rs) > 0
}

func (r *run) verify(ctx context.Context) (string, error) {
	out, err := r.opts.Recovery.Verify(ctx)
	r.report.Checks = out.Checks
	r.report.Findings = append(r.report.Findings, out.Findings...)
	r.dataTime = out.DataTime
	r.report.RPODataCheck = out.DataCheck
	if out.Details != nil {
		if werr := r.dir.WriteJSON("checks.json", out.Details); werr != nil {
			r.opts.Logger.Warn("write check details", "err", werr)
		}
	}
	if err != nil {
		return "", err
	}
	if finding.Failed(out.Findings) {
		return PhaseFailed, nil
	}
	return PhasePassed, nil
}

func (r *run) runbook(ctx context.Context) (string, error) {
	rb := r.opts.Runbook
	if rb == nil || len(rb.Steps) == 0 {
		return PhasePassed, nil
	}
	env := append(r.opts.Recovery.RunbookEnv(), "FIREDRILL_DRILL_ID="+r.opts.DrillID)
	// The steps' working directory is a private one of their own, never
	// the drill's directory (whose files are about to be signed).
	res := runbooks.Run(ctx, rb, runbooks.RunOptions{Env: env, Secrets: r.secrets, Now: r.now, Progress: r.opts.Progress, Operator: r.opts.Operator})
	r.report.Runbook = res
	if err := r.dir.WriteRunbookOutput(res); err != nil {
		r.opts.Logger.Warn("write runbook output", "err", err)
	}
	status := PhasePassed
	for _, s := range res {
		if s.Manual && s.Status == runbooks.StepFailed {
			status = PhaseFailed
			if ctx.Err() != nil {
				continue // interrupted, not declined: the drill's result says so
			}
			r.report.Findings = append(r.report.Findings, finding.Fail("runbook.manual-step-not-done", finding.SeverityFail,
				fmt.Sprintf("runbook %s, manual step %q (line %d)", rb.File, s.Name, s.Line),
				fmt.Sprintf("manual step %q was not done: %s", s.Name, s.Error)).
				With("the operator confirms the step", s.Error, "find out what stopped the step (access, a missing approval, an unclear instruction) and fix it, or the instruction, before the real disaster"))
			continue
		}
		if s.Status == runbooks.StepFailed || s.Status == runbooks.StepTimedOut {
			status = PhaseFailed
			r.report.Findings = append(r.report.Findings, finding.Fail("runbook.out-of-date", finding.SeverityFail,
				fmt.Sprintf("runbook %s, step %q (line %d)", rb.File, s.Name, s.Line),
				fmt.Sprintf("runbook step %q %s: the runbook is out of date", s.Name, s.Status)).
				With("the step succeeds", firstLine(s.Error+": "+lastLine(s.Output)), "update the runbook so it matches the platform as it is today"))
		}
	}
	return status, nil
}

// measure fills in RTO, RPO and the result from what the steps recorded.
func (r *run) measure() {
	rep := r.report
	obj := r.sc.Spec.Objectives
	rep.RTO = MeasureRTO(time.Duration(obj.RTO), rep.DisasterAt, rep.Phases)
	rep.ManualSteps = ManualSteps(rep.Runbook)
	if recovered(rep.Phases) {
		rep.RTO = WithDeclaredManual(rep.RTO, DeclaredManual(rep.ManualSteps))
	}
	rep.RTOBudget = NewRTOBudget(rep)
	if rep.Backup == nil {
		rep.RPO = NotMeasured(time.Duration(obj.RPO), "no recovery point was chosen")
	}
	if !r.dataTime.IsZero() {
		o := MeasureRPO(time.Duration(obj.RPO), rep.DisasterAt, r.dataTime)
		rep.RPOData = &o
	}
	if rep.Result != ResultInterrupted {
		rep.Result = rep.Decide()
	}
}

func (r *run) writeReport(ctx context.Context) (string, error) {
	r.measure()
	r.report.FinishedAt = r.now()
	r.addReaderContext(ctx)
	r.report.Outlook = r.outlook(ctx)
	if err := r.writeReportFiles(); err != nil {
		return "", err
	}
	return PhasePassed, nil
}

// outlook is the scenario's outlook with this drill: its earlier drills
// from the shared history, else the state directory; nil when they cannot
// be read within 20 seconds (the report step has a minute).
func (r *run) outlook(ctx context.Context) *Outlook {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var records Records = LocalRecords{StateDir: r.opts.StateDir}
	if r.opts.History != nil {
		records = r.opts.History
	}
	earlier, err := ListReports(ctx, records, r.report.Scenario)
	if err != nil && len(earlier) == 0 {
		r.opts.Logger.Warn("no outlook in the report: the history could not be read", "err", err)
		return nil
	}
	history := []DrillSummary{Summarize(r.report)}
	for _, e := range earlier {
		if e.DrillID != r.report.DrillID {
			history = append(history, Summarize(e))
		}
	}
	o := OutlookOf(r.report.Scenario, history, r.now())
	return &o
}

// writeReportFiles renders the report files from the report with every
// secret the drill knows of replaced first: report.md and report.html
// escape what they print, and an escaped secret ("a\_b", "a&amp;b") is no
// longer found by the scrubbing of the drill's files and uploads.
func (r *run) writeReportFiles() error {
	if err := scrubReport(r.report, r.secrets); err != nil {
		return fmt.Errorf("scrub secrets from the report: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.snapshot != nil {
		// The heartbeat renews what was written last.
		snap, err := cloneReport(r.report)
		if err != nil {
			return err
		}
		r.snapshot = snap
	}
	return r.dir.WriteReportFiles(r.report)
}

// cleanup removes what the drill created (the cleanup step, detached: on
// a context that Ctrl-C does not cancel, within its own timeout).
func (r *run) cleanup(ctx context.Context) (string, error) {
	// An interrupted drill is cleaned up like a passed one, whatever the
	// policy but never: half a restore is nothing to investigate, and the
	// person who pressed Ctrl-C expects the scratch cluster back.
	passed := r.report.Result == ResultPass || r.report.Result == ResultInterrupted
	if err := r.opts.Recovery.Cleanup(ctx, passed); err != nil {
		// A cleanup that failed does not change what the drill proved, but
		// the scratch cluster needs a person.
		r.report.Findings = append(r.report.Findings, finding.Warn("cleanup", "scratch cluster",
			"cleanup did not finish: "+err.Error()).With("", "", "delete the drill's namespaces and Velero objects by hand"))
		return "", err
	}
	return PhasePassed, nil
}

// finish writes the final report files, cleanup included, and uploads
// them to the shared history.
func (r *run) finish(ctx context.Context) error {
	r.stopHeartbeat()
	r.measure() // keeps an interrupted result
	r.report.FinishedAt = r.now()
	if r.report.Trend == nil {
		r.addReaderContext(ctx)
	} else {
		// Cleanup and evidence may have added findings since the report step.
		r.report.NextSteps = NextSteps(r.report)
	}
	if err := r.writeReportFiles(); err != nil {
		return err
	}
	if r.opts.History != nil {
		hadFailed := r.shareErr != nil
		r.share(ctx, true, reportFiles...)
		if !hadFailed && r.shareErr != nil {
			// The warning is part of the record; the local copy keeps it.
			if err := r.writeReportFiles(); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(r.opts.Progress, "drill %s: %s; report %s\n", r.opts.DrillID, r.report.Result, r.dir.File("report.html"))
	return nil
}
