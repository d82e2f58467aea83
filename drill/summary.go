package drill

import (
	"slices"
	"time"

	"github.com/firedrill-dev/firedrill/scenarios"
)

// DrillSummary is the small per-drill summary the fleet index keeps and
// the forecast, the error budget and the due rules read (Forecast,
// ErrorBudgetOf, DueOf): one line of a scenario's history, without the
// report's phases, findings and checks. Its JSON keys are snake_case;
// durations are seconds; times are RFC 3339 in UTC.
type DrillSummary struct {
	ID         string    `json:"drill_id"`
	Scenario   string    `json:"scenario"`
	Cluster    string    `json:"cluster,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Result     Result    `json:"result"`
	// ErrorStep is the step a drill that did not pass stopped or died in.
	ErrorStep StepName `json:"error_step,omitempty"`
	// RTOSeconds and RPOSeconds are the recovery time the objective is
	// judged on (measured plus declared manual time, Objective.Judged)
	// and the measured recovery point; null when the drill did not measure them (for RTO:
	// the recovery did not complete). RTOStatus and RPOStatus are the
	// report's Objective.Status: met, missed or not-measured.
	RTOSeconds          *float64 `json:"rto_seconds"`
	RPOSeconds          *float64 `json:"rpo_seconds"`
	RTOStatus           string   `json:"rto_status"`
	RPOStatus           string   `json:"rpo_status"`
	RTOObjectiveSeconds float64  `json:"rto_objective_seconds"`
	RPOObjectiveSeconds float64  `json:"rpo_objective_seconds"`
	// RestoredItems are the items the drill's Restores created (Velero's
	// status.progress.itemsRestored, summed); RestoredBytes the volume
	// data bytes node-agent wrote back (PodVolumeRestores' bytesDone,
	// summed).
	RestoredItems int   `json:"restored_items"`
	RestoredBytes int64 `json:"restored_bytes"`
	// ScenarioSHA256, RunbookSHA256 and TargetSHA256 are the report's
	// (Report.ScenarioSHA256): what "after a major change" compares.
	ScenarioSHA256 string   `json:"scenario_sha256,omitempty"`
	RunbookSHA256  string   `json:"runbook_sha256,omitempty"`
	TargetSHA256   string   `json:"target_sha256,omitempty"`
	Compliance     []string `json:"compliance,omitempty"`
	// ErrorBudgetTarget and ErrorBudgetWindowSeconds are the report's:
	// the scenario's error budget when the drill ran (0 in records of
	// firedrill before them: the defaults apply).
	ErrorBudgetTarget        float64 `json:"error_budget_target,omitempty"`
	ErrorBudgetWindowSeconds float64 `json:"error_budget_window_seconds,omitempty"`
}

// RecordedBudget is the error budget history is measured against: the
// target and window the newest drill (by start) recorded, the scenario's
// objectives.errorBudget when it ran. Each part the newest drill lacks
// (records and index entries of firedrill before them, or no drills) is
// scenarios.DefaultErrorBudgetTarget or DefaultErrorBudgetWindow.
// OutlookOf and `firedrill fleet` both measure with it.
func RecordedBudget(history []DrillSummary) (target float64, window time.Duration) {
	target, window = scenarios.DefaultErrorBudgetTarget, time.Duration(scenarios.DefaultErrorBudgetWindow)
	if len(history) == 0 {
		return target, window
	}
	newest := slices.MaxFunc(history, func(a, b DrillSummary) int { return a.StartedAt.Compare(b.StartedAt) })
	if newest.ErrorBudgetTarget > 0 {
		target = newest.ErrorBudgetTarget
	}
	if newest.ErrorBudgetWindowSeconds > 0 {
		window = time.Duration(newest.ErrorBudgetWindowSeconds * float64(time.Second))
	}
	return target, window
}

// Summarize makes the DrillSummary of a drill's report. A nil report
// gives the zero summary.
func Summarize(r *Report) DrillSummary {
	if r == nil {
		return DrillSummary{}
	}
	s := DrillSummary{
		ID:                       r.DrillID,
		Scenario:                 r.Scenario,
		Cluster:                  r.Cluster,
		StartedAt:                r.StartedAt.UTC(),
		FinishedAt:               r.FinishedAt.UTC(),
		Result:                   r.Result,
		ErrorStep:                r.ErrorStep,
		RTOSeconds:               copyFloat(r.RTO.Judged()),
		RPOSeconds:               copyFloat(r.RPO.MeasuredSeconds),
		RTOStatus:                r.RTO.Status,
		RPOStatus:                r.RPO.Status,
		RTOObjectiveSeconds:      r.RTO.ObjectiveSeconds,
		RPOObjectiveSeconds:      r.RPO.ObjectiveSeconds,
		ScenarioSHA256:           r.ScenarioSHA256,
		RunbookSHA256:            r.RunbookSHA256,
		TargetSHA256:             r.TargetSHA256,
		Compliance:               append([]string(nil), r.Compliance...),
		ErrorBudgetTarget:        r.ErrorBudgetTarget,
		ErrorBudgetWindowSeconds: r.ErrorBudgetWindowSeconds,
	}
	if len(s.Compliance) == 0 {
		s.Compliance = nil
	}
	for _, rs := range r.Restores {
		s.RestoredItems += rs.ItemsRestored
		for _, pvr := range rs.PodVolumeRestores {
			s.RestoredBytes += pvr.BytesDone
		}
	}
	return s
}

func copyFloat(f *float64) *float64 {
	if f == nil {
		return nil
	}
	v := *f
	return &v
}
