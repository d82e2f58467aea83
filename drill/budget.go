package drill

import (
	"fmt"
	"time"

	"github.com/firedrill-dev/firedrill/internal/plural"
)

// BudgetState says where a scenario's error budget stands.
type BudgetState string

// The values of ErrorBudget.State.
const (
	// BudgetOK: some budget remains (BudgetRemainingRatio > 0).
	BudgetOK BudgetState = "ok"
	// BudgetExhausted: the drills that missed an objective used the whole
	// budget or more (BudgetRemainingRatio <= 0).
	BudgetExhausted BudgetState = "exhausted"
	// BudgetNoDrills: no drill in the window counts.
	BudgetNoDrills BudgetState = "no-drills"
)

// ErrorBudget is a scenario's drills against its error budget, reported
// as a service-level objective's burn is: the share of drills in the
// window that met both RTO and RPO, the target share, and how much of the
// budget (1 - target: the share of drills that may miss) remains.
type ErrorBudget struct {
	State         BudgetState `json:"state"`
	WindowSeconds float64     `json:"window_seconds"`
	// Target is the share of drills that must meet both objectives.
	Target float64 `json:"target"`
	// Drills counts the drills in the window; Met those of them that met
	// both RTO and RPO.
	Drills int `json:"drills"`
	Met    int `json:"met"`
	// MetRatio is Met / Drills; nil without drills.
	MetRatio *float64 `json:"met_ratio"`
	// BudgetRemainingRatio is 1 - (1 - MetRatio) / (1 - Target): 1 when
	// no drill missed, 0 when the misses used the whole budget, negative
	// when they overspent it; nil without drills. With Target 1 there is
	// no budget to divide by: 1 when every drill met both, else 0
	// (exhausted).
	BudgetRemainingRatio *float64 `json:"budget_remaining_ratio"`
}

// ErrorBudgetOf measures history (one scenario's summaries) against an
// error budget: target is the share of drills that must meet both
// objectives (0 < target <= 1; scenarios.ErrorBudget), window how far
// before now drills count (scenarios.DefaultErrorBudgetWindow: the last
// four quarters).
//
// A drill counts when it started within the window and ended: it met the
// budget's objectives when both its RTO and its RPO were met (a drill
// that failed on something else, a check say, still met them). A drill
// in error or that died did not recover, so it missed; a drill still
// running is not counted, nor one interrupted before its RTO had passed
// (someone stopped it: it proved nothing either way).
func ErrorBudgetOf(history []DrillSummary, target float64, window time.Duration, now time.Time) ErrorBudget {
	b := ErrorBudget{State: BudgetNoDrills, WindowSeconds: window.Seconds(), Target: target}
	from := now.Add(-window)
	for _, s := range history {
		if s.StartedAt.Before(from) || s.StartedAt.After(now) || s.Result == ResultRunning {
			continue
		}
		if s.Result == ResultInterrupted && s.RTOStatus != ObjectiveMissed {
			continue
		}
		b.Drills++
		if s.RTOStatus == ObjectiveMet && s.RPOStatus == ObjectiveMet {
			b.Met++
		}
	}
	if b.Drills == 0 {
		return b
	}
	met := float64(b.Met) / float64(b.Drills)
	remaining := 1.0
	if target < 1 {
		remaining = 1 - (1-met)/(1-target)
	} else if b.Met < b.Drills {
		remaining = 0
	}
	b.MetRatio, b.BudgetRemainingRatio = ptrFloat(round(met)), ptrFloat(round(remaining))
	b.State = BudgetOK
	if remaining <= 0 {
		b.State = BudgetExhausted
	}
	return b
}

// String is the budget in words, for tables: "3/4 met (75%), target 90%,
// budget -150%".
func (b ErrorBudget) String() string {
	if b.Drills == 0 {
		return "no drills in the window"
	}
	return fmt.Sprintf("%d/%d met (%.0f%%), target %.0f%%, budget %.0f%%", b.Met, b.Drills, *b.MetRatio*100, b.Target*100, *b.BudgetRemainingRatio*100)
}

// Summary is the budget in a sentence, for the report and history: "3 of
// 4 drills in the last 365d met RTO and RPO (75%), target 90%: -150% of
// the budget left".
func (b ErrorBudget) Summary() string {
	window := "the last " + fmtSeconds(b.WindowSeconds)
	if b.Drills == 0 {
		return "no drill in " + window
	}
	return fmt.Sprintf("%d of %d %s in %s met RTO and RPO (%.0f%%), target %.0f%%: %.0f%% of the budget left",
		b.Met, b.Drills, plural.Of(b.Drills, "drill", "drills"), window, *b.MetRatio*100, b.Target*100, *b.BudgetRemainingRatio*100)
}
