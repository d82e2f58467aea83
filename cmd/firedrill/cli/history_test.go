package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/drill"
)

// writeHistory records three drills: two of region-loss (the newer one
// faster) and one interrupted drill of another scenario.
func writeHistory(t *testing.T) string {
	t.Helper()
	state := t.TempDir()
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	recs := []struct {
		id, scenario string
		at           time.Duration
		result       drill.Result
		rto          float64
	}{
		{"fd-20261101-090000-aaaa", "region-loss", 0, drill.ResultPass, 120},
		{"fd-20261102-090000-bbbb", "namespace-deletion", 24 * time.Hour, drill.ResultInterrupted, 0},
		{"fd-20261103-090000-cccc", "region-loss", 48 * time.Hour, drill.ResultFail, 95},
	}
	for _, r := range recs {
		d, err := drill.CreateDir(state, r.id)
		require.NoError(t, err)
		rep := &drill.Report{DrillID: r.id, Scenario: r.scenario, StartedAt: t0.Add(r.at), Result: r.result,
			RTO: drill.NotMeasured(4*time.Hour, "interrupted"), RPO: drill.Measure(24*time.Hour, 3*time.Hour)}
		if r.rto > 0 {
			rep.RTO = drill.Measure(4*time.Hour, time.Duration(r.rto*float64(time.Second)))
		}
		require.NoError(t, d.WriteReport(rep))
	}
	return state
}

func TestHistory_TableNewestFirstWithTrend(t *testing.T) {
	state := writeHistory(t)
	res := run(t, context.Background(), map[string]string{"FIREDRILL_STATE_DIR": state}, "history")
	require.Equal(t, ExitOK, res.code, res.String())
	golden(t, "history-table", res.stdout)
	assert.Contains(t, res.stdout, "faster by 25.0s")
}

func TestHistory_JSONFilteredByScenario(t *testing.T) {
	state := writeHistory(t)
	html := filepath.Join(state, "drills", "fd-20261103-090000-cccc", "report.html")
	require.NoError(t, os.WriteFile(html, []byte("<html>"), 0o644))
	res := run(t, context.Background(), nil, "history", "region-loss", "-o", "json", "--state-dir", state)
	require.Equal(t, ExitOK, res.code, res.String())
	var doc struct {
		Schema string           `json:"schema"`
		Drills []map[string]any `json:"drills"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &doc))
	assert.Equal(t, "firedrill.dev/history/v2", doc.Schema)
	rows := doc.Drills
	require.Len(t, rows, 2)
	assert.Equal(t, "fd-20261103-090000-cccc", rows[0]["drill_id"], "newest first")
	for _, k := range []string{"drill_id", "scenario", "started_at", "result", "rto", "rpo"} {
		assert.Contains(t, rows[0], k)
	}
	assert.Equal(t, html, rows[0]["report"])
	assert.NotContains(t, rows[1], "report", "no report.html: no report")
	assert.Equal(t, -25.0, rows[0]["rto_trend_seconds"], "95 s after 120 s: 25 s faster, a signed number of seconds")
	assert.NotContains(t, rows[1], "rto_trend_seconds", "no older drill of the scenario")
	assert.NotContains(t, rows[0], "rto_trend", "no duration as text")
}

func TestHistory_EmptyStateSaysHowToStart(t *testing.T) {
	res := run(t, context.Background(), map[string]string{"FIREDRILL_STATE_DIR": t.TempDir()}, "history")
	require.Equal(t, ExitOK, res.code, res.String())
	assert.Contains(t, res.stdout, "No drills recorded")
}

// An errored drill says in which step and why, in the table and in JSON
// (issue 14, item 11).
func TestHistory_ErroredDrillSaysWhy(t *testing.T) {
	state := t.TempDir()
	d, err := drill.CreateDir(state, "fd-20261104-090000-dddd")
	require.NoError(t, err)
	require.NoError(t, d.WriteReport(&drill.Report{DrillID: "fd-20261104-090000-dddd", Scenario: "region-loss",
		StartedAt: time.Date(2026, 11, 4, 9, 0, 0, 0, time.UTC), Result: drill.ResultError,
		Error: `no Completed backup of schedule "daily"`, ErrorStep: drill.StepRecoveryPoint,
		RTO: drill.NotMeasured(4*time.Hour, "no recovery"), RPO: drill.NotMeasured(24*time.Hour, "no recovery point was chosen")}))

	res := run(t, context.Background(), nil, "history", "--state-dir", state)
	require.Equal(t, ExitOK, res.code, res.String())
	assert.Contains(t, res.stdout, "fd-20261104-090000-dddd: error in step recovery-point: no Completed backup of schedule \"daily\"\n")

	res = run(t, context.Background(), nil, "history", "-o", "json", "--state-dir", state)
	require.Equal(t, ExitOK, res.code, res.String())
	var doc struct {
		Drills []map[string]any `json:"drills"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &doc))
	rows := doc.Drills
	require.Len(t, rows, 1)
	assert.Equal(t, "recovery-point", rows[0]["error_step"])
	assert.Equal(t, `no Completed backup of schedule "daily"`, rows[0]["error"])
}

func TestRunSummary_ErroredDrillSaysWhy(t *testing.T) {
	var b strings.Builder
	writeRunSummary(&b, &drill.Report{DrillID: "fd-1", Scenario: "region-loss", Result: drill.ResultError,
		Error: "reach the target cluster: i/o timeout", ErrorStep: drill.StepPreflight,
		RTO: drill.NotMeasured(time.Hour, "no recovery"), RPO: drill.NotMeasured(time.Hour, "no recovery point was chosen")}, "/state/drills/fd-1")
	assert.True(t, strings.HasPrefix(b.String(), "Drill fd-1 of region-loss: error\n  error in step preflight: reach the target cluster: i/o timeout\n"), b.String())
}

// TestRunSummary_NamesTheCanaryCheck (review): the application RPO line
// names the data canary check it comes from.
func TestRunSummary_NamesTheCanaryCheck(t *testing.T) {
	var b strings.Builder
	data := drill.MeasureRPO(24*time.Hour, t0Summary, t0Summary.Add(-90*time.Second))
	writeRunSummary(&b, &drill.Report{DrillID: "fd-1", Scenario: "lab", Result: drill.ResultPass,
		RTO: drill.NotMeasured(time.Hour, "x"), RPO: drill.NotMeasured(time.Hour, "x"), RPOData: &data, RPODataCheck: "volume-canary"}, "/state/drills/fd-1")
	assert.Contains(t, b.String(), "\n  RPO seen by check volume-canary  ")
}

var t0Summary = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func TestHistory_OutlookForecastsAGrowingScenario(t *testing.T) {
	state := t.TempDir()
	// Every 30 days up to testNow, 1 GB more volume data and 30 s more to
	// recover it: 300 s now, 1 s a day more, the 600 s objective in 300 days.
	for i := range 6 {
		at := testNow.Add(-time.Duration(150-30*i) * 24 * time.Hour)
		rto := time.Duration(150+30*i) * time.Second
		id := fmt.Sprintf("fd-grow-%d", i)
		d, err := drill.CreateDir(state, id)
		require.NoError(t, err)
		require.NoError(t, d.WriteReport(&drill.Report{DrillID: id, Scenario: "region-loss", StartedAt: at, Result: drill.ResultPass,
			RTO: drill.Measure(10*time.Minute, rto), RPO: drill.Measure(time.Hour, time.Minute), ErrorBudgetTarget: 0.9,
			Restores: []drill.RestoreRef{{ItemsRestored: 50, PodVolumeRestores: []drill.PodVolumeRestore{{BytesDone: int64(i+1) * 1e9}}}}}))
	}
	res := run(t, context.Background(), nil, "history", "-o", "json", "--state-dir", state)
	require.Equal(t, ExitOK, res.code, res.String())
	var doc struct {
		Outlook []drill.Outlook `json:"outlook"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &doc))
	require.Len(t, doc.Outlook, 1)
	f := doc.Outlook[0].RTOForecast
	require.Equal(t, drill.ForecastTrend, f.State, f.Reason)
	assert.InDelta(t, 300, *f.DaysToObjective, 0.01)
	assert.Equal(t, drill.SizeRestoredBytes, f.Size)
	b := doc.Outlook[0].ErrorBudget
	assert.Equal(t, 0.9, b.Target)
	assert.Equal(t, 6, b.Met)

	res = run(t, context.Background(), nil, "history", "--state-dir", state)
	require.Equal(t, ExitOK, res.code, res.String())
	assert.Contains(t, res.stdout, "region-loss: RTO forecast: RTO objective reached in 300d (2027-09-27); error budget: 6 of 6 drills in the last 365d met RTO and RPO (100%), target 90%: 100% of the budget left")
}
