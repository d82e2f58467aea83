package drill

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var forecastT0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// synthetic is a history of drills every 30 days from forecastT0: drill i
// restored bytes(i) and recovered in rto(i) seconds, against an RTO
// objective of objective seconds.
func synthetic(n int, objective float64, bytes func(day float64) float64, rto func(i int, bytes float64) float64) []DrillSummary {
	var out []DrillSummary
	for i := range n {
		day := float64(30 * i)
		b := bytes(day)
		r := rto(i, b)
		status := ObjectiveMet
		if r > objective {
			status = ObjectiveMissed
		}
		out = append(out, DrillSummary{
			ID: fmt.Sprintf("d%d", i), Scenario: "shop", Result: ResultPass,
			StartedAt: forecastT0.Add(time.Duration(day*24) * time.Hour), RTOSeconds: &r, RTOStatus: status, RPOStatus: ObjectiveMet,
			RTOObjectiveSeconds: objective, RestoredBytes: int64(b), RestoredItems: 120,
		})
	}
	return out
}

// growing: the volume data grows by 10 MB a day from 1 GB and every byte
// costs 0.2 µs on top of 100 s: 300 s on day 0, 600 s on day 150. An
// objective of 900 s is reached at 4 GB, on day 300.
func growing(n int, objective float64) []DrillSummary {
	return synthetic(n, objective, func(day float64) float64 { return 1e9 + 1e7*day },
		func(_ int, b float64) float64 { return 100 + 2e-7*b })
}

func TestForecast_Growing(t *testing.T) {
	h := growing(6, 900)
	// Drills that did not recover are left out of the fit.
	h = append(h, DrillSummary{ID: "err", Result: ResultError, StartedAt: forecastT0.Add(24 * time.Hour), RTOStatus: ObjectiveNotMeasured, RTOObjectiveSeconds: 900})
	now := forecastT0.Add(150 * 24 * time.Hour)
	f := Forecast(h, now)
	require.Equal(t, ForecastTrend, f.State, f.Reason)
	assert.Equal(t, 6, f.Drills)
	assert.Equal(t, SizeRestoredBytes, f.Size)
	require.NotNil(t, f.DaysToObjective)
	assert.InDelta(t, 150, *f.DaysToObjective, 0.01)
	assert.InDelta(t, 600, *f.PredictedRTOSeconds, 0.01)
	assert.InDelta(t, 1e7, f.UnitsPerDay, 1)
	assert.InDelta(t, 1, f.R2Size, 1e-9)
	assert.Equal(t, "2026-11-01", f.MissAt.Format(time.DateOnly))
	assert.Contains(t, f.Reason, "in 150 days")

	// Machines read seconds (*_seconds), and records written with
	// days_to_objective still read.
	b, err := json.Marshal(f)
	require.NoError(t, err)
	var keys map[string]any
	require.NoError(t, json.Unmarshal(b, &keys))
	assert.InDelta(t, 150*86400, keys["seconds_to_objective"], 1)
	assert.NotContains(t, keys, "days_to_objective")
	var back, legacy RTOForecast
	require.NoError(t, json.Unmarshal(b, &back))
	assert.InDelta(t, 150, *back.DaysToObjective, 0.01)
	require.NoError(t, json.Unmarshal([]byte(`{"state":"trend","days_to_objective":40}`), &legacy))
	assert.Equal(t, 40.0*86400, *legacy.SecondsToObjective)
	assert.Equal(t, 40.0, *legacy.DaysToObjective)

	// Asked 60 days later, 90 days are left.
	f = Forecast(h, now.Add(60*24*time.Hour))
	assert.InDelta(t, 90, *f.DaysToObjective, 0.01)
}

func TestForecast_AlreadyPastTheObjective(t *testing.T) {
	f := Forecast(growing(6, 500), forecastT0.Add(150*24*time.Hour))
	require.Equal(t, ForecastTrend, f.State, f.Reason)
	assert.Equal(t, 0.0, *f.DaysToObjective)
	assert.Contains(t, f.Reason, "has reached the RTO objective")
}

func TestForecast_Steady(t *testing.T) {
	// 1% up and down around 2 GB, the recovery time 300 s ± 10 s.
	wobble := []float64{1, -1, 0.5, -0.5, 1, 0}
	h := synthetic(6, 900, func(day float64) float64 { return 2e9 * (1 + wobble[int(day)/30]/100) },
		func(i int, _ float64) float64 { return 300 + 10*wobble[i] })
	f := Forecast(h, forecastT0.Add(200*24*time.Hour))
	assert.Equal(t, ForecastSteady, f.State, f.Reason)
	assert.Nil(t, f.DaysToObjective)
	assert.Contains(t, f.Reason, "steady")

	// Shrinking data is no trend toward the objective either.
	h = synthetic(6, 900, func(day float64) float64 { return 4e9 - 1e7*day }, func(_ int, b float64) float64 { return 100 + 2e-7*b })
	f = Forecast(h, forecastT0.Add(200*24*time.Hour))
	assert.Equal(t, ForecastSteady, f.State, f.Reason)
	assert.Contains(t, f.Reason, "not growing")
}

func TestForecast_NoisyIsNoForecast(t *testing.T) {
	// The data grows, but the recovery time jumps about regardless.
	noise := []float64{250, -200, 300, -250, 200, -300, 150, -100}
	h := synthetic(8, 900, func(day float64) float64 { return 1e9 + 1e7*day },
		func(i int, b float64) float64 { return 100 + 2e-7*b + noise[i] })
	f := Forecast(h, forecastT0.Add(210*24*time.Hour))
	assert.Equal(t, ForecastNone, f.State)
	assert.Nil(t, f.DaysToObjective)
	assert.Contains(t, f.Reason, "too poor")
	assert.Less(t, f.R2Size, ForecastMinR2)
}

func TestForecast_TooShort(t *testing.T) {
	f := Forecast(growing(3, 900), forecastT0.Add(90*24*time.Hour))
	assert.Equal(t, ForecastNone, f.State)
	assert.Equal(t, 3, f.Drills)
	assert.Equal(t, "no forecast: 3 drills with a measured recovery time, at least 4 needed", f.Reason)

	// Enough drills, all in one afternoon.
	h := growing(6, 900)
	for i := range h {
		h[i].StartedAt = forecastT0.Add(time.Duration(i) * time.Hour)
	}
	f = Forecast(h, forecastT0.Add(24*time.Hour))
	assert.Equal(t, ForecastNone, f.State)
	assert.True(t, strings.HasPrefix(f.Reason, "no forecast: the drills span 5h"), f.Reason)

	assert.Equal(t, ForecastNone, Forecast(nil, forecastT0).State)
}
