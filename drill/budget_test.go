package drill

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestErrorBudgetOf(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	ago := func(days int) time.Time { return now.Add(-time.Duration(days) * 24 * time.Hour) }
	d := func(days int, result Result, rto, rpo string) DrillSummary {
		return DrillSummary{StartedAt: ago(days), Result: result, RTOStatus: rto, RPOStatus: rpo}
	}
	met, missed, nm := ObjectiveMet, ObjectiveMissed, ObjectiveNotMeasured
	h := []DrillSummary{
		d(400, ResultFail, missed, met), // before the window
		d(300, ResultPass, met, met),
		d(200, ResultFail, met, missed),      // RPO missed
		d(150, ResultFail, met, met),         // a check failed: both objectives met
		d(100, ResultError, nm, nm),          // did not recover: missed
		d(90, ResultInterrupted, nm, nm),     // stopped by someone: not counted
		d(60, ResultInterrupted, missed, nm), // stopped after its RTO: missed
		d(30, ResultPass, met, met),
		d(1, ResultRunning, nm, nm), // not counted
	}
	b := ErrorBudgetOf(h, 0.5, 365*24*time.Hour, now)
	assert.Equal(t, 6, b.Drills)
	assert.Equal(t, 3, b.Met)
	require.NotNil(t, b.MetRatio)
	assert.Equal(t, 0.5, *b.MetRatio)
	// Half may miss, half did: the whole budget is used.
	assert.Equal(t, 0.0, *b.BudgetRemainingRatio)
	assert.Equal(t, BudgetExhausted, b.State)
	assert.Equal(t, float64(365*24*3600), b.WindowSeconds)

	// A window of 120 days.
	b = ErrorBudgetOf(h, 0.25, 120*24*time.Hour, now)
	assert.Equal(t, 3, b.Drills) // error, interrupted-missed, pass
	assert.Equal(t, 1, b.Met)
	// 2/3 missed against 3/4 allowed: 1 - (2/3)/(3/4) = 1/9 remains.
	assert.InDelta(t, 1.0/9, *b.BudgetRemainingRatio, 1e-4)
	assert.Equal(t, BudgetOK, b.State)
	assert.Equal(t, "1/3 met (33%), target 25%, budget 11%", b.String())

	// Only passes: the whole budget remains.
	b = ErrorBudgetOf(h[7:8], 0.9, 365*24*time.Hour, now)
	assert.Equal(t, 1.0, *b.BudgetRemainingRatio)
	assert.Equal(t, "1 of 1 drill in the last 365d met RTO and RPO (100%), target 90%: 100% of the budget left", b.Summary())

	// Overspent: negative.
	b = ErrorBudgetOf(h[:4], 0.9, 365*24*time.Hour, now)
	assert.Equal(t, 3, b.Drills)
	assert.InDelta(t, 1-(1.0/3)/0.1, *b.BudgetRemainingRatio, 1e-3)

	// Target 1, every drill must meet both: no division by zero; the
	// budget is whole while all met, exhausted at the first miss.
	b = ErrorBudgetOf(h[7:8], 1, 365*24*time.Hour, now)
	assert.Equal(t, 1.0, *b.BudgetRemainingRatio)
	assert.Equal(t, BudgetOK, b.State)
	b = ErrorBudgetOf(h[:4], 1, 365*24*time.Hour, now)
	assert.Equal(t, 0.0, *b.BudgetRemainingRatio)
	assert.Equal(t, BudgetExhausted, b.State)

	b = ErrorBudgetOf(nil, 0.9, 365*24*time.Hour, now)
	assert.Equal(t, BudgetNoDrills, b.State)
	assert.Nil(t, b.MetRatio)
	assert.Equal(t, "no drills in the window", b.String())
}
