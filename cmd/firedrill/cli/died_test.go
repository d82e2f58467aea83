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

// writeDiedDrill records a drill of scenario lab whose process was killed
// in its restore step an hour ago: its record still says running, its
// heartbeat (every 30s) stopped then.
func writeDiedDrill(t *testing.T, state, id string) time.Time {
	t.Helper()
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	d, err := drill.CreateDir(state, id)
	require.NoError(t, err)
	require.NoError(t, d.WriteReport(&drill.Report{DrillID: id, Scenario: "lab", StartedAt: at.Add(-time.Minute), Result: drill.ResultRunning,
		RTO: drill.NotMeasured(time.Hour, "the drill is running"), RPO: drill.NotMeasured(time.Hour, "the drill is running"),
		Heartbeat: &drill.Heartbeat{At: at, IntervalSeconds: 30, Step: drill.StepRestore, Host: "runner-1", PID: 4242}}))
	return at
}

// A drill whose process died shows as died, with its step and last
// heartbeat, in history (issue 18, item 1).
func TestHistory_DiedDrillIsShownDied(t *testing.T) {
	state := t.TempDir()
	at := writeDiedDrill(t, state, "fd-20261104-090000-dead")
	res := run(t, context.Background(), nil, "history", "--state-dir", state)
	require.Equal(t, ExitOK, res.code, res.String())
	assert.Contains(t, res.stdout, "  died  ")
	assert.Contains(t, res.stdout, "fd-20261104-090000-dead: died in step restore: firedrill died: no heartbeat since "+at.Format(time.RFC3339)+" (process 4242 on runner-1; dead after 1m30s without one)\n")

	res = run(t, context.Background(), nil, "history", "-o", "json", "--state-dir", state)
	require.Equal(t, ExitOK, res.code, res.String())
	var doc struct {
		Drills []map[string]any `json:"drills"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &doc))
	require.Len(t, doc.Drills, 1)
	assert.Equal(t, "died", doc.Drills[0]["result"])
	assert.Equal(t, "restore", doc.Drills[0]["error_step"])
}

// due names a scenario whose last drill died and the step, never a silent
// never-passed (issue 18, item 1).
func TestDue_DiedDrillIsNamed(t *testing.T) {
	state := t.TempDir()
	writeDiedDrill(t, state, "fd-20261104-090000-dead")
	res := run(t, context.Background(), nil, "due", "lab", "--state-dir", state)
	require.Equal(t, ExitDrillFailed, res.code, res.String())
	assert.Contains(t, res.stdout, "never-passed")
	assert.Contains(t, res.stdout, "died (last drill fd-20261104-090000-dead died at step restore)")
	assert.Equal(t, "Error: 1 scenario of 1 due: lab (never-passed; last drill fd-20261104-090000-dead died at step restore)\n", res.stderr)

	res = run(t, context.Background(), nil, "due", "lab", "-o", "json", "--state-dir", state)
	require.Equal(t, ExitDrillFailed, res.code, res.String())
	var doc struct {
		Scenarios []struct {
			State     string         `json:"state"`
			LastDrill map[string]any `json:"last_drill"`
		} `json:"scenarios"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &doc))
	require.Len(t, doc.Scenarios, 1)
	assert.Equal(t, "never-passed", doc.Scenarios[0].State)
	assert.Equal(t, "died", doc.Scenarios[0].LastDrill["result"])
	assert.Equal(t, "restore", doc.Scenarios[0].LastDrill["error_step"])
}
