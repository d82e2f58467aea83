package drill

import (
	"fmt"
	"time"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/backup/scope"
	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/recoverypoint"
	"github.com/firedrill-dev/firedrill/restore"
	"github.com/firedrill-dev/firedrill/runbooks"
)

// ReportSchema versions report.json. A change that removes or renames a
// field gets a new version; adding fields does not. v2 renamed the
// runbook steps' duration_ns (nanoseconds) to duration_seconds; records of
// v1 are still read (decodeReport).
const ReportSchema = "firedrill.dev/report/v2"

// Result is how a drill ended.
type Result string

// The values of Report.Result.
const (
	// ResultPass: every recovery step passed, every objective was met and no
	// finding failed.
	ResultPass Result = "pass"
	// ResultFail: the drill ran to the end and missed an objective or has a
	// failed finding (a protection check, the restore order, a check, a
	// runbook step).
	ResultFail Result = "fail"
	// ResultError: the drill could not run to the end (unreachable cluster,
	// missing backup, invalid input).
	ResultError Result = "error"
	// ResultInterrupted: the drill was stopped (Ctrl-C, SIGTERM); cleanup
	// still ran.
	ResultInterrupted Result = "interrupted"
	// ResultRunning is what the drill's record says while it runs; a
	// record left in this state means firedrill died mid-drill.
	ResultRunning Result = "running"
	// ResultDied: the record says running and its heartbeat stopped (the
	// process was killed, lost its node or its machine): Settle shows it
	// so when it reads the record; no drill writes it. For alerting it is
	// a failed drill. 'firedrill cleanup' removes what it left behind.
	ResultDied Result = "died"
)

// Report is report.json: everything a drill measured and found. Field
// names are part of the schema (ReportSchema).
type Report struct {
	Schema   string `json:"schema"`
	DrillID  string `json:"drill_id"`
	Scenario string `json:"scenario"`
	// Cluster names the cluster the drill protects (--cluster), under
	// which the shared history keeps its record; empty when not given.
	Cluster        string    `json:"cluster,omitempty"`
	ScenarioSource string    `json:"scenario_source,omitempty"`
	Summary        string    `json:"summary,omitempty"`
	Narrative      string    `json:"narrative,omitempty"`
	Lead           string    `json:"lead,omitempty"`
	Observers      []string  `json:"observers,omitempty"`
	FiredrillVer   string    `json:"firedrill_version,omitempty"`
	StartedAt      time.Time `json:"started_at"`
	FinishedAt     time.Time `json:"finished_at"`
	// DisasterAt is when the disaster was declared: the scenario's
	// declaredAt, else the drill's start. RTO and RPO count from it.
	DisasterAt time.Time `json:"disaster_at"`
	Result     Result    `json:"result"`
	// Error says why a drill ended in error (the error of the step it
	// stopped at) or was interrupted; empty otherwise.
	Error string `json:"error,omitempty"`
	// ErrorStep names the step the drill stopped at when it ended in
	// error, or the step that was running when it was interrupted.
	ErrorStep StepName `json:"error_step,omitempty"`
	// Heartbeat shows the drill's process alive while the record says
	// running (see Heartbeat, Settle); absent from records of firedrill
	// before it.
	Heartbeat *Heartbeat `json:"heartbeat,omitempty"`

	RTO Objective `json:"rto"`
	RPO Objective `json:"rpo"`
	// RPOData is the RPO the application's data shows (the data canary),
	// when the scenario has one.
	RPOData *Objective `json:"rpo_data,omitempty"`
	// RPODataCheck names the data canary check RPOData comes from: the
	// first in check order that read a time.
	RPODataCheck string `json:"rpo_data_check,omitempty"`

	// ManualSteps are the runbook's manual steps: each timed (the
	// operator confirmed it) or declared (its estimate counts). Absent
	// without manual steps, and from records before them.
	ManualSteps []ManualStep `json:"manual_steps,omitempty"`
	// RTOBudget splits the RTO judged against its objective by recovery
	// step; nil when the RTO was not measured.
	RTOBudget *RTOBudget `json:"rto_budget,omitempty"`

	Phases   []Phase           `json:"phases"`
	Findings []finding.Finding `json:"findings"`

	Backup        *BackupRef            `json:"backup,omitempty"`
	Restores      []RestoreRef          `json:"restores,omitempty"`
	OrderVerified *bool                 `json:"order_verified"`
	Checks        []CheckRef            `json:"checks,omitempty"`
	Runbook       []runbooks.StepResult `json:"runbook,omitempty"`
	// Scope says which PersistentVolumeClaims of the source the backup
	// holds and why not, when the drill read the source (scope.Read).
	Scope *scope.Result `json:"scope,omitempty"`
	// ItemCounts set the backup's items against what the Restores
	// created, kind by kind (scope.ReadCounts).
	ItemCounts *scope.Counts `json:"item_counts,omitempty"`
	// Window is the recovery window of the scenario's schedule, read
	// from the bucket by the protection step (backup.CheckWindow).
	Window *backup.Window `json:"window,omitempty"`

	// What the reader asks next (report_context.go, trend.go,
	// nextsteps.go): the drill's context from the scenario, how it
	// compares with the earlier drills, what to do now, and where the
	// drill's other files are.
	Detection     string               `json:"detection,omitempty"`
	Goals         []string             `json:"goals,omitempty"`
	RecoveryPoint *RecoveryPointChoice `json:"recovery_point_choice,omitempty"`
	Trend         *Trend               `json:"trend,omitempty"`
	NextSteps     []NextStep           `json:"next_steps"`
	Links         []Link               `json:"links,omitempty"`
	// RetroQuestions are the runbook's own retrospective questions
	// (runbooks.Runbook.RetroQuestions).
	RetroQuestions []string `json:"retro_questions,omitempty"`

	// ScenarioSHA256, RunbookSHA256 and TargetSHA256 are the SHA-256 (hex)
	// of the scenario file, of its runbook file and of the target's
	// description (TargetDescription): a drill is due again when one of
	// them changed since the last pass (Due). Empty when not known
	// (records of firedrill before them, a scenario without a runbook).
	ScenarioSHA256 string `json:"scenario_sha256,omitempty"`
	RunbookSHA256  string `json:"runbook_sha256,omitempty"`
	TargetSHA256   string `json:"target_sha256,omitempty"`
	// Compliance are the frameworks the scenario serves (its compliance
	// field), whose testing cadence applies (DueOf).
	Compliance []string `json:"compliance,omitempty"`
	// ErrorBudgetTarget and ErrorBudgetWindowSeconds are the scenario's
	// error budget (objectives.errorBudget, defaults filled in), which
	// ErrorBudgetOf measures the drills against.
	ErrorBudgetTarget        float64 `json:"error_budget_target,omitempty"`
	ErrorBudgetWindowSeconds float64 `json:"error_budget_window_seconds,omitempty"`
	// Outlook is the scenario's RTO forecast and error budget with this
	// drill, from the drills of the history it was recorded in (the shared
	// history, else the state directory); nil when it could not be read.
	Outlook *Outlook `json:"outlook,omitempty"`
}

// Phase is one step of the drill on its timeline.
type Phase struct {
	Name            StepName  `json:"name"`
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	DurationSeconds float64   `json:"duration_seconds"`
	CountsTowardRTO bool      `json:"counts_toward_rto"`
	Status          string    `json:"status"` // passed, failed, error, skipped
	Error           string    `json:"error,omitempty"`
}

// The values of Phase.Status.
const (
	PhasePassed  = "passed"
	PhaseFailed  = "failed" // ran, and found something wrong
	PhaseError   = "error"  // could not run to the end
	PhaseSkipped = "skipped"
)

// BackupRef is the recovery point the drill restored.
type BackupRef struct {
	Name            string    `json:"name"`
	StorageLocation string    `json:"storage_location"`
	Started         time.Time `json:"started"`
	Completed       time.Time `json:"completed"`
	// Phase is Velero's phase of the backup: Completed, or PartiallyFailed
	// when the scenario sets allowPartiallyFailed.
	Phase string `json:"phase,omitempty"`
	// Warnings and Errors are the backup's status.warnings and status.errors.
	Warnings int `json:"warnings,omitempty"`
	Errors   int `json:"errors,omitempty"`
	// ErrorMessages and WarningMessages are Velero's per-item messages of
	// a PartiallyFailed backup ("namespace: message"), from its results
	// object; ResultsError says why they could not be read.
	ErrorMessages   []string `json:"error_messages,omitempty"`
	WarningMessages []string `json:"warning_messages,omitempty"`
	ResultsError    string   `json:"results_error,omitempty"`
	// Skipped are the newer backups of the selector that could not be
	// restored, newest first: the RPO counts from an older backup.
	Skipped []SkippedBackup `json:"skipped,omitempty"`
}

// SkippedBackup is a backup newer than the recovery point that was passed
// over: its Velero phase, counts and why (recoverypoint.SkippedBackup, the
// one type backup and restore share).
type SkippedBackup = recoverypoint.SkippedBackup

// RestoreRef is one Velero Restore the drill created.
type RestoreRef struct {
	Name          string    `json:"name"`
	Phase         string    `json:"phase"` // the drill's restore phase, e.g. network-policies
	VeleroPhase   string    `json:"velero_phase"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	ItemsRestored int       `json:"items_restored"`
	TotalItems    int       `json:"total_items"`
	Warnings      int       `json:"warnings"`
	Errors        int       `json:"errors"`
	// PodVolumeRestores are the volume data the Restore wrote into the
	// pods it restored (Velero's file-system backup), one per volume.
	PodVolumeRestores []PodVolumeRestore `json:"pod_volume_restores,omitempty"`
}

// PodVolumeRestore is one Velero PodVolumeRestore of a Restore: pod,
// volume, Velero's phase and message, bytes done of total, and its
// duration on Velero's clock (restore.PodVolumeRestoreResult).
type PodVolumeRestore = restore.PodVolumeRestoreResult

// CheckRef is one check after the restore.
type CheckRef struct {
	Name            string  `json:"name"`
	Kind            string  `json:"kind"`
	Passed          bool    `json:"passed"`
	DurationSeconds float64 `json:"duration_seconds"`
	Message         string  `json:"message,omitempty"`
}

// Objective is one measurement against its objective (RTO or RPO).
type Objective struct {
	ObjectiveSeconds float64 `json:"objective_seconds"`
	// MeasuredSeconds is null when the drill could not measure it (for
	// RTO: the recovery did not complete).
	MeasuredSeconds *float64 `json:"measured_seconds"`
	Met             *bool    `json:"met"`
	Status          string   `json:"status"` // met, missed, not-measured
	// MarginSeconds is objective minus measured (for RTO: minus
	// TotalSeconds, when set): negative when missed.
	MarginSeconds *float64 `json:"margin_seconds,omitempty"`
	Note          string   `json:"note,omitempty"`
	// DeclaredManualSeconds (RTO only) is the sum of the declared
	// estimates of the runbook's manual steps nobody timed; set when
	// there is one (see WithDeclaredManual). TotalSeconds is then
	// MeasuredSeconds plus it: what the objective is judged on.
	DeclaredManualSeconds *float64 `json:"declared_manual_seconds,omitempty"`
	TotalSeconds          *float64 `json:"total_seconds,omitempty"`
}

// Judged is the time the objective was judged on: TotalSeconds when the
// RTO has declared manual time, else MeasuredSeconds (nil when not
// measured). Records from before manual steps have no TotalSeconds.
func (o Objective) Judged() *float64 {
	if o.TotalSeconds != nil {
		return o.TotalSeconds
	}
	return o.MeasuredSeconds
}

// The values of Objective.Status.
const (
	ObjectiveMet         = "met"
	ObjectiveMissed      = "missed"
	ObjectiveNotMeasured = "not-measured"
)

// StatusText is an Objective.Status in words, for people: "met",
// "missed", "not measured".
func StatusText(status string) string {
	if status == ObjectiveNotMeasured {
		return "not measured"
	}
	return status
}

// Measure compares a measurement with its objective. A measurement equal
// to the objective meets it.
func Measure(objective, measured time.Duration) Objective {
	m := measured.Seconds()
	margin := (objective - measured).Seconds()
	met := measured <= objective
	o := Objective{ObjectiveSeconds: objective.Seconds(), MeasuredSeconds: &m, Met: &met, MarginSeconds: &margin, Status: ObjectiveMissed}
	if met {
		o.Status = ObjectiveMet
	}
	return o
}

// NotMeasured is an objective the drill could not measure, and why.
func NotMeasured(objective time.Duration, why string) Objective {
	return Objective{ObjectiveSeconds: objective.Seconds(), Status: ObjectiveNotMeasured, Note: why}
}

// MeasureRTO measures the recovery time: from the disaster declaration to
// the end of the last step that counts toward RTO. Recovery is only
// achieved when every such step passed; otherwise the RTO is not measured
// (a failed restore has no recovery time, only a failure), unless the
// objective had already passed when the drill stopped recovering (the end
// of the last such step, failed, errored or skipped: a drill stopped by a
// scheduled drill's deadline, say). Then the RTO is missed, and the time
// measured is how long the drill had gone without recovering: the recovery
// time is at least that.
func MeasureRTO(objective time.Duration, disasterAt time.Time, phases []Phase) Objective {
	var last time.Time
	counted := 0
	unfinished := ""
	for _, p := range phases {
		if !p.CountsTowardRTO {
			continue
		}
		counted++
		if p.Status != PhasePassed && unfinished == "" {
			unfinished = "step " + string(p.Name) + " " + p.Status
		}
		if p.End.After(last) {
			last = p.End
		}
	}
	if counted == 0 {
		return NotMeasured(objective, "no recovery step ran")
	}
	if unfinished != "" {
		if gone := last.Sub(disasterAt); gone > objective {
			o := Measure(objective, gone)
			o.Note = fmt.Sprintf("recovery had not completed %s after the disaster (%s): at least that long, more than the objective", fmtSeconds(gone.Seconds()), unfinished)
			return o
		}
		return NotMeasured(objective, "recovery did not complete: "+unfinished)
	}
	return Measure(objective, last.Sub(disasterAt))
}

// MeasureRPO measures the data lost: from the recovery point (the newest
// data the backup holds) to the disaster declaration.
func MeasureRPO(objective time.Duration, disasterAt, recoveryPoint time.Time) Objective {
	if recoveryPoint.IsZero() {
		return NotMeasured(objective, "no recovery point was chosen")
	}
	return Measure(objective, disasterAt.Sub(recoveryPoint))
}

// StoppedBy is the first step that could not run to the end (status
// error), the one a drill in error stopped at; nil when there is none.
// Cleanup and evidence do not count: they come after what the drill
// proved, and their failures are warning findings, not a drill in error
// (the steps' errorIsWarning).
func (r *Report) StoppedBy() *Phase {
	for i, p := range r.Phases {
		if p.Status == PhaseError && !stepNamed(p.Name).errorIsWarning {
			return &r.Phases[i]
		}
	}
	return nil
}

// Decide is the drill's result from what it measured and found: error
// when a step could not run (StoppedBy), fail when an objective was
// missed or not measured or a finding failed, else pass.
func (r *Report) Decide() Result {
	if r.StoppedBy() != nil {
		return ResultError
	}
	if r.RTO.Status != ObjectiveMet || r.RPO.Status != ObjectiveMet {
		return ResultFail
	}
	if r.RPOData != nil && r.RPOData.Status == ObjectiveMissed {
		return ResultFail
	}
	if finding.Failed(r.Findings) {
		return ResultFail
	}
	return ResultPass
}
