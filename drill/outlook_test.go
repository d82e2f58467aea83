package drill

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOutlooks(t *testing.T) {
	now := forecastT0.Add(150 * 24 * time.Hour)
	var reports []*Report
	for i, s := range growing(6, 900) {
		rto := *s.RTOSeconds
		r := &Report{DrillID: s.ID, Scenario: "shop", StartedAt: s.StartedAt, Result: ResultPass,
			RTO: Measure(900*time.Second, time.Duration(rto*float64(time.Second))), RPO: Measure(time.Hour, time.Minute),
			Restores: []RestoreRef{{ItemsRestored: 120, PodVolumeRestores: []PodVolumeRestore{{BytesDone: s.RestoredBytes}}}}}
		if i == 5 {
			r.RPO = Measure(time.Hour, 2*time.Hour)
			r.ErrorBudgetTarget, r.ErrorBudgetWindowSeconds = 0.5, 100*24*3600
		}
		reports = append(reports, r)
	}
	reports = append(reports, &Report{DrillID: "x", Scenario: "audit", StartedAt: now, Result: ResultError})

	got := Outlooks(reports, now)
	require.Len(t, got, 2)
	assert.Equal(t, "audit", got[0].Scenario)
	assert.Equal(t, ForecastNone, got[0].RTOForecast.State)
	assert.Equal(t, 0.75, got[0].ErrorBudget.Target, "the default target")
	assert.Equal(t, 0.0, *got[0].ErrorBudget.MetRatio)

	shop := got[1]
	require.Equal(t, ForecastTrend, shop.RTOForecast.State, shop.RTOForecast.Reason)
	assert.InDelta(t, 150, *shop.RTOForecast.DaysToObjective, 0.01)
	// The newest drill's budget: 0.5 over 100 days, drills on days 60,
	// 90, 120 and 150; the last missed its RPO: 1/4 missed of 1/2 allowed.
	assert.Equal(t, 0.5, shop.ErrorBudget.Target)
	assert.Equal(t, 4, shop.ErrorBudget.Drills)
	assert.Equal(t, 3, shop.ErrorBudget.Met)
	assert.Equal(t, 0.5, *shop.ErrorBudget.BudgetRemainingRatio)
}
