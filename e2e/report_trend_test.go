//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// earlierDrill writes the record of a drill of scenario that ran before
// this test (report.json, and report.html so the previous-drill link has
// something to point at) into the state directory, as the drill's own
// history: the trend and the next steps are read from there.
func earlierDrill(t *testing.T, state, scenario, id string, started time.Time, rtoS, rpoS float64) {
	t.Helper()
	objective := func(measured, objective float64) map[string]any {
		met := measured <= objective
		return map[string]any{"objective_seconds": objective, "measured_seconds": measured, "met": met,
			"status": map[bool]string{true: "met", false: "missed"}[met], "margin_seconds": objective - measured}
	}
	rec := map[string]any{
		"schema": "firedrill.dev/report/v2", "drill_id": id, "scenario": scenario, "result": "pass",
		"started_at": started.UTC(), "finished_at": started.Add(time.Minute).UTC(), "disaster_at": started.UTC(),
		"rto": objective(rtoS, 15*60), "rpo": objective(rpoS, 24*3600), "phases": []any{}, "findings": []any{},
	}
	b, err := json.Marshal(rec)
	require.NoError(t, err)
	dir := filepath.Join(state, "drills", id)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "report.json"), b, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "report.html"), []byte("<!DOCTYPE html><title>earlier</title>"), 0o644))
}

// TestReport_TrendAndNextStepsOfARealDrill runs one drill of the lab's
// scenario after three earlier drills of it that recovered in 1, 2 and 3
// seconds with an RPO of 20h: this drill's real restore (tens of seconds)
// is worse than the median RTO of 2s, its RPO (the lab's backups are
// recent) better than the median of 20h. report.json must say so, the
// next steps must be the drill's warnings, once per finding id, then the
// worse RTO, and the report must link the previous drill, the runbook as
// run and the retrospective with the runbook's own question.
func TestReport_TrendAndNextStepsOfARealDrill(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 5*time.Minute)
	const name = "e2e-trend"
	file, targets := drillScenario(t, l, name,
		"    lead: on-call platform engineer\n", "    goals: [prove the shop comes back within 15m]\n    lead: on-call platform engineer\n")
	rb := filepath.Join(filepath.Dir(file), l.Scenario+".md")
	f, err := os.OpenFile(rb, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("\n## Retrospective questions\n\n- Who watched the Restore's progress?\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())

	state := t.TempDir()
	now := time.Now()
	for i, rto := range []float64{1, 2, 3} {
		earlierDrill(t, state, name, fmt.Sprintf("fd-earlier-%d", i), now.Add(-time.Duration(3-i)*24*time.Hour), rto, 20*3600)
	}
	// A drill of another scenario is no part of the trend.
	earlierDrill(t, state, "another-scenario", "fd-other", now.Add(-time.Hour), 1000, 1)

	res := firedrill(t, ctx, drillEnv(), "run", file, "--state-dir", state, "-o", "json", "--log-level", "warn")
	require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	var id struct {
		DrillID string `json:"drill_id"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &id))
	dir := filepath.Join(state, "drills", id.DrillID)
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	var rep struct {
		Result string `json:"result"`
		RTO    struct {
			Measured  *float64 `json:"measured_seconds"`
			Total     *float64 `json:"total_seconds"`
			Objective float64  `json:"objective_seconds"`
		} `json:"rto"`
		RPO struct {
			Measured  *float64 `json:"measured_seconds"`
			Objective float64  `json:"objective_seconds"`
		} `json:"rpo"`
		Findings  []struct{ ID, Status string } `json:"findings"`
		Detection string                        `json:"detection"`
		Goals     []string                      `json:"goals"`
		Choice    struct {
			Selector, Why string
			Candidates    int
		} `json:"recovery_point_choice"`
		Trend struct {
			History  string `json:"history"`
			Previous []struct {
				DrillID string `json:"drill_id"`
			} `json:"previous"`
			RTO, RPO struct {
				Drills  int      `json:"drills"`
				Median  *float64 `json:"median_seconds"`
				This    *float64 `json:"this_seconds"`
				Verdict string   `json:"verdict"`
			}
		} `json:"trend"`
		NextSteps []struct {
			Kind, Finding, Anchor string
			ReadmeSection         string `json:"readme_section"`
		} `json:"next_steps"`
		Links []struct{ Rel, Href string } `json:"links"`
	}
	require.NoError(t, json.Unmarshal(b, &rep))
	require.Equal(t, "pass", rep.Result)

	// The context the scenario gave.
	assert.Contains(t, rep.Detection, "Synthetic checks of the shop fail")
	assert.Equal(t, []string{"prove the shop comes back within 15m"}, rep.Goals)
	assert.Equal(t, "schedule", rep.Choice.Selector)
	assert.Positive(t, rep.Choice.Candidates, "the pick completes the scenario's choice")
	assert.True(t, strings.HasPrefix(rep.Choice.Why, "the newest of "), "the pick's why: %s", rep.Choice.Why)

	// The trend against the median of the earlier drills.
	assert.Equal(t, state, rep.Trend.History)
	require.Len(t, rep.Trend.Previous, 3)
	assert.Equal(t, "fd-earlier-2", rep.Trend.Previous[0].DrillID, "newest first")
	require.NotNil(t, rep.RTO.Measured)
	require.Greater(t, *rep.RTO.Measured, 2.2, "a real restore takes longer than the median plus 10%")
	assert.Equal(t, 3, rep.Trend.RTO.Drills)
	require.NotNil(t, rep.Trend.RTO.Median)
	assert.Equal(t, 2.0, *rep.Trend.RTO.Median)
	require.NotNil(t, rep.RTO.Total, "the lab runbook's manual step is declared")
	assert.Equal(t, *rep.RTO.Total, *rep.Trend.RTO.This, "the trend compares the RTO judged: measured + declared manual")
	assert.Equal(t, "worse", rep.Trend.RTO.Verdict)
	require.NotNil(t, rep.RPO.Measured)
	require.Less(t, *rep.RPO.Measured, 0.9*20*3600, "the lab's backups are younger than 18h")
	assert.Equal(t, 20.0*3600, *rep.Trend.RPO.Median)
	assert.Equal(t, "better", rep.Trend.RPO.Verdict)

	// The next steps: what failed, what is near its objective, the
	// warnings (one per finding id, in report order), the worse trend.
	var want []string
	seen := map[string]bool{}
	for i, f := range rep.Findings {
		require.NotEqual(t, "fail", f.Status, "the lab drill passed")
		if f.Status == "warn" && !seen[f.ID] {
			seen[f.ID] = true
			want = append(want, fmt.Sprintf("warning %s #finding-%d", f.ID, i))
		}
	}
	if *rep.RTO.Measured > 0.8*rep.RTO.Objective || *rep.RPO.Measured > 0.8*rep.RPO.Objective {
		t.Fatalf("the lab drill used more than 80%% of an objective: RTO %v, RPO %v", *rep.RTO.Measured, *rep.RPO.Measured)
	}
	want = append(want, "trend trend.rto #trend")
	var got []string
	for _, s := range rep.NextSteps {
		got = append(got, s.Kind+" "+s.Finding+" "+s.Anchor)
		assert.NotEmpty(t, s.ReadmeSection)
	}
	assert.Contains(t, want, fmt.Sprintf("warning scope.claim #finding-%d", indexOf(rep.Findings, "scope.claim")), "the lab's two accepted claims")
	assert.Equal(t, want, got)

	// Links that exist for this drill.
	links := map[string]string{}
	for _, l := range rep.Links {
		links[l.Rel] = l.Href
	}
	assert.Equal(t, "../fd-earlier-2/report.html", links["previous"])
	for _, rel := range []string{"report-md", "retrospective", "scenario", "runbook"} {
		assert.FileExists(t, filepath.Join(dir, links[rel]), rel)
	}
	assert.FileExists(t, filepath.Join(dir, links["previous"]))

	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	require.NoError(t, err)
	assert.Contains(t, string(html), `aria-label="RTO of the last 4 drills against the objective"`)
	retro, err := os.ReadFile(filepath.Join(dir, "retrospective.md"))
	require.NoError(t, err)
	assert.Contains(t, string(retro), "## Questions from the runbook\n\n- Who watched the Restore's progress?")
	assert.Contains(t, string(retro), "| on-call platform engineer | lead: leads the recovery | yes / no |")
	assert.True(t, strings.Contains(string(retro), "- [ ] Improvement 1: ____ · owner: ____ · due: ____"))

	assertNamespacesGone(t, l, targets)
}

func indexOf(fs []struct{ ID, Status string }, id string) int {
	for i, f := range fs {
		if f.ID == id {
			return i
		}
	}
	return -1
}
