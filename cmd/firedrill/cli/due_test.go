package cli

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/drill"
)

// writeDueHistory records drills dated relative to the clock `due` reads,
// so each scenario's state holds whenever the test runs (90-day max age):
//
//	region-loss         passed 10 days ago                        fresh
//	namespace-deletion  passed 120 days ago                       overdue
//	shop-namespace      passed 30 days ago, failed yesterday      fresh (the last pass counts)
//	retired-scenario    passed 5 days ago, no file any more       fresh, history only
//
// testdata/work/scenarios also holds broken, never drilled: never-run.
func writeDueHistory(t *testing.T) string {
	t.Helper()
	state := t.TempDir()
	now := time.Now()
	day := 24 * time.Hour
	for _, d := range []struct {
		id, scenario string
		ago          time.Duration
		result       drill.Result
	}{
		{"fd-due-a", "region-loss", 10 * day, drill.ResultPass},
		{"fd-due-b", "namespace-deletion", 120 * day, drill.ResultPass},
		{"fd-due-c", "shop-namespace", 30 * day, drill.ResultPass},
		{"fd-due-d", "shop-namespace", day, drill.ResultFail},
		{"fd-due-e", "retired-scenario", 5 * day, drill.ResultPass},
	} {
		dir, err := drill.CreateDir(state, d.id)
		require.NoError(t, err)
		require.NoError(t, dir.WriteReport(&drill.Report{DrillID: d.id, Scenario: d.scenario, StartedAt: now.Add(-d.ago), Result: d.result}))
	}
	return state
}

func TestDue_ExitCodes(t *testing.T) {
	state := writeDueHistory(t)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		stdout   []string
		stderr   string
	}{
		{"fresh", []string{"region-loss"}, ExitOK, []string{"region-loss", "fresh", "10d", "pass"}, ""},
		{"overdue", []string{"namespace-deletion"}, ExitDrillFailed, []string{"namespace-deletion", "overdue", "120d"},
			"Error: 1 scenario of 1 due (no passing drill within 90d): namespace-deletion"},
		{"never run", []string{"broken"}, ExitDrillFailed, []string{"broken", "never-run"},
			"Error: 1 scenario of 1 due (no passing drill within 90d): broken"},
		{"a failed drill after a pass: the pass counts", []string{"shop-namespace"}, ExitOK, []string{"shop-namespace", "fresh", "30d", "fail"}, ""},
		{"a longer max age makes the overdue one fresh", []string{"namespace-deletion", "--max-age", "20w"}, ExitOK, []string{"fresh", "Max age 140d"}, ""},
		{"one due among fresh ones", []string{"region-loss", "namespace-deletion", "shop-namespace"}, ExitDrillFailed, []string{"overdue"},
			"Error: 1 scenario of 3 due (no passing drill within 90d): namespace-deletion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, context.Background(), map[string]string{"FIREDRILL_STATE_DIR": state}, append([]string{"due"}, tt.args...)...)
			require.Equal(t, tt.wantCode, res.code, res.String())
			for _, s := range tt.stdout {
				assert.Contains(t, res.stdout, s)
			}
			if tt.stderr == "" {
				assert.Empty(t, res.stderr)
			} else {
				assert.Equal(t, tt.stderr+"\n", res.stderr)
			}
		})
	}
}

func TestDue_AllScenariosJSON(t *testing.T) {
	res := run(t, context.Background(), nil, "due", "-o", "json", "--state-dir", writeDueHistory(t))
	require.Equal(t, ExitDrillFailed, res.code, res.String())

	var doc struct {
		Schema        string  `json:"schema"`
		MaxAgeSeconds float64 `json:"max_age_seconds"`
		Scenarios     []struct {
			Scenario  string          `json:"scenario"`
			State     drill.DueState  `json:"state"`
			Known     bool            `json:"known"`
			LastPass  *drill.DrillRef `json:"last_pass"`
			LastDrill *drill.DrillRef `json:"last_drill"`
			Age       *float64        `json:"age_seconds"`
		} `json:"scenarios"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &doc))
	assert.Equal(t, "firedrill.dev/due/v1", doc.Schema)
	assert.Equal(t, 90*24*3600.0, doc.MaxAgeSeconds, "the default --max-age, 90d")
	rows := doc.Scenarios
	got := map[string]drill.DueState{}
	known := map[string]bool{}
	for _, r := range rows {
		got[r.Scenario] = r.State
		known[r.Scenario] = r.Known
	}
	// The project's scenarios and those of the history; built-in examples
	// only once drilled (namespace-deletion), not the others.
	assert.Equal(t, map[string]drill.DueState{
		"broken":             drill.DueNeverRun,
		"namespace-deletion": drill.DueOverdue,
		"region-loss":        drill.DueFresh,
		"retired-scenario":   drill.DueFresh,
		"shop-namespace":     drill.DueFresh,
	}, got)
	assert.False(t, known["retired-scenario"], "a scenario without a file is marked")
	assert.True(t, known["namespace-deletion"], "a built-in scenario is known")
	for _, r := range rows {
		if r.Scenario == "shop-namespace" {
			require.NotNil(t, r.LastPass)
			require.NotNil(t, r.LastDrill)
			assert.Equal(t, "fd-due-c", r.LastPass.DrillID)
			assert.Equal(t, "fd-due-d", r.LastDrill.DrillID)
			assert.Equal(t, drill.ResultFail, r.LastDrill.Result)
		}
	}
	assert.Contains(t, res.stderr, "2 scenarios of 5 due")
	assert.Contains(t, res.stderr, "broken, namespace-deletion")
}

func TestDue_HistoryOnlyScenarioIsMarkedInTheTable(t *testing.T) {
	res := run(t, context.Background(), nil, "due", "retired-scenario", "--state-dir", writeDueHistory(t))
	require.Equal(t, ExitOK, res.code, res.String())
	assert.Contains(t, res.stdout, "retired-scenario (history only)")
}

func TestDue_EmptyHistoryEverythingIsNeverRun(t *testing.T) {
	res := run(t, context.Background(), map[string]string{"FIREDRILL_STATE_DIR": t.TempDir()}, "due")
	require.Equal(t, ExitDrillFailed, res.code, res.String())
	assert.Contains(t, res.stderr, "3 scenarios of 3 due")
	assert.Contains(t, res.stderr, "broken, region-loss, shop-namespace")
}

func TestDue_UnknownScenarioGetsCloseMatches(t *testing.T) {
	res := run(t, context.Background(), map[string]string{"FIREDRILL_STATE_DIR": t.TempDir()}, "due", "region-los")
	require.Equal(t, ExitError, res.code, res.String())
	assert.Contains(t, res.stderr, `no scenario named "region-los"`)
	assert.Contains(t, res.stderr, "no drill of it is recorded")
	assert.Contains(t, res.stderr, "Hint: run 'firedrill scenarios list'")
	assert.Empty(t, res.stdout)
}

func TestDue_InvalidMaxAgeIsUsage(t *testing.T) {
	for _, age := range []string{"soon", "0d", "-5h"} {
		res := run(t, context.Background(), nil, "due", "--max-age", age)
		assert.Equal(t, ExitUsage, res.code, res.String())
		assert.Contains(t, res.stderr, "invalid --max-age")
		assert.Contains(t, res.stderr, "Hint: run 'firedrill due --help'")
	}
}
