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

// A drill whose heartbeat is fresh is alive: cleanup refuses it, naming
// its process, before it contacts any cluster (issue 18, item 2).
func TestCleanup_RefusesALiveDrill(t *testing.T) {
	state := t.TempDir()
	d, err := drill.CreateDir(state, "fd-20261201-100000-a11e")
	require.NoError(t, err)
	now := time.Now().UTC()
	require.NoError(t, d.WriteReport(&drill.Report{DrillID: "fd-20261201-100000-a11e", Scenario: "region-loss", StartedAt: now, Result: drill.ResultRunning,
		Heartbeat: &drill.Heartbeat{At: now, IntervalSeconds: 30, Step: drill.StepRestore, Host: "runner-1", PID: 4242}}))
	res := run(t, context.Background(), nil, "cleanup", "fd-20261201-100000-a11e", "--state-dir", state)
	require.Equal(t, ExitError, res.code, res.String())
	assert.Contains(t, res.stderr, "Error: drill fd-20261201-100000-a11e of scenario region-loss is alive (process 4242 on runner-1, step restore, heartbeat at "+now.Format(time.RFC3339)+")")
	assert.Contains(t, res.stderr, "Hint: let it end")
	assert.Empty(t, res.stdout)
}

func TestCleanup_UsageAndNoRecord(t *testing.T) {
	state := t.TempDir()
	for _, tt := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no argument", []string{"cleanup"}, ExitUsage, "Error: cleanup needs one DRILL_ID, or with --stale one SCENARIO, got 0 arguments"},
		{"--stale with --scenario", []string{"cleanup", "--stale", "--scenario", "x", "region-loss"}, ExitUsage, "--stale takes the scenario as its argument"},
		{"no record: alive or not cannot be told", []string{"cleanup", "fd-20261201-100000-0000"}, ExitError,
			"Error: drill fd-20261201-100000-0000: no record of the drill in " + state},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, context.Background(), nil, append(tt.args, "--state-dir", state)...)
			require.Equal(t, tt.code, res.code, res.String())
			assert.Contains(t, res.stderr, tt.stderr)
		})
	}
}

// --stale with no dead drill of the scenario touches nothing and says so.
func TestCleanup_StaleNothingDied(t *testing.T) {
	state := writeHistory(t)
	res := run(t, context.Background(), nil, "cleanup", "--stale", "region-loss", "--state-dir", state)
	require.Equal(t, ExitOK, res.code, res.String())
	assert.Equal(t, "No drill of region-loss died: nothing to clean up.\n", res.stdout)

	res = run(t, context.Background(), nil, "cleanup", "--stale", "region-loss", "--state-dir", state, "-o", "json")
	require.Equal(t, ExitOK, res.code, res.String())
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &doc))
	assert.Equal(t, map[string]any{"schema": "firedrill.dev/cleanup/v1", "dry_run": false, "drills": []any{}}, doc)
}
