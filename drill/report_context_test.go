package drill

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/runbooks"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// writeHistory records earlier drills of the scenario "unit" in rs, as
// sampleHistory makes them (a day apart before at), each with report.json
// and report.html.
func writeHistory(t *testing.T, rs Records, at time.Time, rtos, rpos []float64) []*Report {
	t.Helper()
	hs := sampleHistory("unit", at, rtos, rpos)
	for i, h := range hs {
		h.DrillID = "fd-earlier-" + string(rune('a'+i))
		h.Schema = ReportSchema
		b, err := json.Marshal(h)
		require.NoError(t, err)
		require.NoError(t, rs.WriteFile(context.Background(), h.DrillID, ReportFile, b))
		require.NoError(t, rs.WriteFile(context.Background(), h.DrillID, "report.html", []byte("<html></html>")))
	}
	return hs
}

// TestRun_TrendFromTheHistory: a drill reads the earlier drills of its
// scenario from the history it writes to (the state directory, else the
// shared history) and puts the trend, the next steps and the links in
// report.json.
func TestRun_TrendFromTheHistory(t *testing.T) {
	for _, shared := range []bool{false, true} {
		name := "state directory"
		if shared {
			name = "shared history"
		}
		t.Run(name, func(t *testing.T) {
			state := t.TempDir()
			opts := Options{StateDir: state, DrillID: "fd-test", Recovery: &fakeRecovery{Takes: defaultTakes}, Protection: &fakeProtection{}}
			var rs Records = LocalRecords{StateDir: state}
			if shared {
				h, _ := sharedHistory(t)
				opts.History, rs = h, h
				// The state directory's drills are not the team's: left out.
				writeHistory(t, LocalRecords{StateDir: state}, t0, []float64{1, 1, 1}, []float64{1, 1, 1})
			}
			// This drill's RTO is 5m24s (defaultTakes): worse than the
			// median of 3m20s, 3m30s, 3m40s.
			hs := writeHistory(t, rs, t0, []float64{200, 210, 220}, []float64{7200, 7200, 7200})
			clock := &stepClock{t: t0}
			opts.Recovery.(*fakeRecovery).Clock, opts.Protection.(*fakeProtection).Clock = clock, clock
			opts.Protection.(*fakeProtection).Takes = defaultTakes.Protection
			opts.Now = clock.Now
			rb, err := runbooks.Parse("rb.md", []byte("# Runbook\n\n## Retrospective questions\n\n- Who held the keys?\n"))
			require.NoError(t, err)
			opts.Runbook = rb
			out, err := Run(context.Background(), testScenario(t, "4h"), opts)
			require.NoError(t, err)
			dir := filepath.Join(state, "drills", "fd-test")
			b, err := os.ReadFile(filepath.Join(dir, ReportFile))
			require.NoError(t, err)
			rep, err := decodeReport(b, "report.json")
			require.NoError(t, err)
			require.Equal(t, ResultPass, out.Report.Result)

			require.NotNil(t, rep.Trend)
			assert.Equal(t, rs.URL("", ""), rep.Trend.History)
			require.Len(t, rep.Trend.Previous, 3)
			assert.Equal(t, hs[0].DrillID, rep.Trend.Previous[0].DrillID)
			assert.Equal(t, TrendWorse, rep.Trend.RTO.Verdict)
			assert.InDelta(t, 210, *rep.Trend.RTO.MedianSeconds, 1e-9)
			assert.InDelta(t, 324, *rep.Trend.RTO.ThisSeconds, 1e-9)
			require.Len(t, rep.NextSteps, 1)
			assert.Equal(t, NextStep{Kind: NextStepTrend, Finding: "trend.rto", Anchor: "#trend", ReadmeSection: "The report", ReadmeAnchor: "the-report",
				Text: "RTO 5m24s is worse than the median of the last 3 drills (3m30s)"}, rep.NextSteps[0])
			assert.Equal(t, "../"+hs[0].DrillID+"/report.html", rep.Link("previous"))
			assert.Equal(t, "runbook.md", rep.Link("runbook"))
			assert.Equal(t, []string{"Who held the keys?"}, rep.RetroQuestions)
			assert.Equal(t, "test", rep.Detection)
			require.NotNil(t, rep.RecoveryPoint)
			assert.Equal(t, "schedule", rep.RecoveryPoint.Selector)
			kept, err := os.ReadFile(filepath.Join(dir, "runbook.md"))
			require.NoError(t, err)
			assert.Equal(t, string(rb.Markdown), string(kept))
			for _, f := range []string{"report.md", "retrospective.md"} {
				b, err := os.ReadFile(filepath.Join(dir, f))
				require.NoError(t, err)
				assert.Contains(t, string(b), "(../"+hs[0].DrillID+"/report.html)", f)
			}
		})
	}
}

// TestRun_FirstDrillHasNoTrend: no earlier drill is no trend and no
// previous link, not an error.
func TestRun_FirstDrillHasNoTrend(t *testing.T) {
	rep, dir := runDrill(t, context.Background(), testScenario(t, "4h"), &fakeRecovery{}, &fakeProtection{}, nil)
	require.NotNil(t, rep.Trend)
	assert.Empty(t, rep.Trend.Previous)
	assert.Equal(t, TrendTooFew, rep.Trend.RTO.Verdict)
	assert.Empty(t, rep.Trend.Error)
	assert.Empty(t, rep.Link("previous"))
	assert.Empty(t, rep.Link("runbook"), "no runbook, no link")
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "No earlier drill of scenario unit in ")
}

func TestRecoveryPointChoice(t *testing.T) {
	seed := int64(42)
	for _, tt := range []struct {
		b        scenarios.Backups
		selector string
		pick     string
		seed     *int64
	}{
		{scenarios.Backups{BackupName: "b1"}, "backupName", "", nil},
		{scenarios.Backups{Schedule: "daily"}, "schedule", "", nil},
		{scenarios.Backups{Window: &scenarios.Window{Within: scenarios.Duration(48 * time.Hour)}}, "window", "latest", nil},
		{scenarios.Backups{Window: &scenarios.Window{Within: scenarios.Duration(48 * time.Hour), Pick: scenarios.PickRandom, Seed: &seed}}, "window", "random", &seed},
		// A window of one schedule is a window pick: its seed is kept.
		{scenarios.Backups{Schedule: "daily", Window: &scenarios.Window{Within: scenarios.Duration(48 * time.Hour), Pick: scenarios.PickRandom, Seed: &seed}}, "window", "random", &seed},
	} {
		c := recoveryPointChoice(tt.b)
		require.NotNil(t, c)
		assert.Equal(t, tt.selector, c.Selector)
		assert.Equal(t, tt.pick, c.Pick)
		assert.Equal(t, tt.seed, c.Seed)
		assert.NotEmpty(t, c.Why)
	}
	assert.Nil(t, recoveryPointChoice(scenarios.Backups{}))
}

// TestRun_RecoveryPointChoiceOnce: the choice is one object of report.json
// (recovery_point_choice: the scenario's selector completed by the pick,
// backup holds no second account of it) and one sentence of report.md,
// report.html and the retrospective.
func TestRun_RecoveryPointChoiceOnce(t *testing.T) {
	sc := testScenario(t, "4h")
	sc.Spec.Backups.Schedule = ""
	sc.Spec.Backups.Window = &scenarios.Window{Within: scenarios.Duration(48 * time.Hour), Pick: scenarios.PickRandom}
	seed := int64(7)
	pick := "picked at random with seed 7 among 3 Completed backups started within 2d before the disaster (newest first, it is number 2); window.seed: 7 replays the pick"
	_, dir := runDrill(t, context.Background(), sc, &fakeRecovery{Choice: &RecoveryPointChoice{Why: pick, Candidates: 3, Seed: &seed}}, &fakeProtection{}, nil)

	b, err := os.ReadFile(filepath.Join(dir, ReportFile))
	require.NoError(t, err)
	var rep map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &rep))
	var backup map[string]any
	require.NoError(t, json.Unmarshal(rep["backup"], &backup))
	assert.NotContains(t, backup, "chosen")
	var choice map[string]any
	require.NoError(t, json.Unmarshal(rep["recovery_point_choice"], &choice))
	assert.Equal(t, map[string]any{"selector": "window", "pick": "random", "within_seconds": 172800.0, "candidates": 3.0, "seed": 7.0,
		"why": pick}, choice)

	for _, f := range []string{"report.md", "report.html", "retrospective.md"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.Equal(t, 1, strings.Count(string(b), "window.seed: 7 replays the pick"), f)
		assert.NotContains(t, string(b), "(seed ", "%s: the pick's why names the seed", f)
	}
}

// TestRecoveryPointChoice_Picked: the pick completes the scenario's choice;
// without one (a failed pick, a Recovery that does not say) the
// scenario's stays, its seed included.
func TestRecoveryPointChoice_Picked(t *testing.T) {
	seed, drawn := int64(42), int64(9)
	c := recoveryPointChoice(scenarios.Backups{Window: &scenarios.Window{Within: scenarios.Duration(time.Hour), Pick: scenarios.PickRandom, Seed: &seed}})
	assert.Same(t, c, c.picked(nil))
	assert.Equal(t, "picked at random among the restorable backups started within 1h00m before the disaster", c.Why)

	p := recoveryPointChoice(scenarios.Backups{Schedule: "daily"}).picked(&RecoveryPointChoice{Why: `the newest of 2 Completed backups of schedule "daily"`, Candidates: 2})
	assert.Equal(t, &RecoveryPointChoice{Selector: "schedule", Candidates: 2,
		Why: `the newest of 2 Completed backups of schedule "daily". A real recovery restores the newest too, so the RPO measured is the one a disaster now would see`}, p)

	r := c.picked(&RecoveryPointChoice{Why: "picked", Candidates: 5, Seed: &drawn})
	assert.Equal(t, &drawn, r.Seed)
	assert.Equal(t, &seed, c.Seed, "c is not changed")
}
