package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/evidence"
)

// pruneState records drills of two scenarios, started days ago: a
// (newest first) a1 1 day, a2 10 days with a pushed bundle, a3 20 days,
// a4 30 days running with a fresh heartbeat, a5 40 days exported but not
// pushed; b1 50 days.
func pruneState(t *testing.T) string {
	t.Helper()
	state := t.TempDir()
	now := time.Now().UTC().Truncate(time.Second)
	for _, d := range []struct {
		id, scenario string
		days         int
		result       drill.Result
		export       *drill.EvidenceRecord
	}{
		{"fd-a1", "a", 1, drill.ResultPass, nil},
		{"fd-a2", "a", 10, drill.ResultFail, &drill.EvidenceRecord{SHA256: "ab", ExportedAt: now,
			Pushed: &evidence.Pushed{URL: "s3://dr-evidence/a/fd-a2.tar.gz"}}},
		{"fd-a3", "a", 20, drill.ResultPass, nil},
		{"fd-a4", "a", 30, drill.ResultRunning, nil},
		{"fd-a5", "a", 40, drill.ResultError, &drill.EvidenceRecord{SHA256: "cd", ExportedAt: now}},
		{"fd-b1", "b", 50, drill.ResultPass, nil},
	} {
		dir, err := drill.CreateDir(state, d.id)
		require.NoError(t, err)
		rep := &drill.Report{DrillID: d.id, Scenario: d.scenario, StartedAt: now.AddDate(0, 0, -d.days), Result: d.result}
		if d.result == drill.ResultRunning {
			rep.Heartbeat = &drill.Heartbeat{At: now, IntervalSeconds: 3600, Step: drill.StepRestore, Host: "h", PID: 1}
		}
		require.NoError(t, dir.WriteReport(rep))
		if d.export != nil {
			require.NoError(t, dir.RecordEvidence(*d.export))
		}
	}
	return state
}

// remaining lists the drill folders left in state.
func remaining(t *testing.T, state string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(state, "drills"))
	require.NoError(t, err)
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.Name())
	}
	return ids
}

// TestHistoryPrune_KeepPerScenario: --keep 1 keeps the newest drill of
// each scenario, and of the rest keeps the running drill and those whose
// evidence was exported or pushed (issue 19, item 8).
func TestHistoryPrune_KeepPerScenario(t *testing.T) {
	state := pruneState(t)
	res := run(t, context.Background(), nil, "history", "prune", "--keep", "1", "--state-dir", state)
	require.Equal(t, ExitOK, res.code, res.String())
	assert.Equal(t, []string{"fd-a1", "fd-a2", "fd-a4", "fd-a5", "fd-b1"}, remaining(t, state))
	assert.Contains(t, res.stdout, "Removed  fd-a3")
	assert.Contains(t, res.stdout, "Kept fd-a2 (a): its evidence bundle was pushed to s3://dr-evidence/a/fd-a2.tar.gz (--force removes it)")
	assert.Contains(t, res.stdout, "Kept fd-a4 (a): running: its heartbeat is fresh")
	assert.Contains(t, res.stdout, "Kept fd-a5 (a): its evidence bundle was exported")
}

// TestHistoryPrune_ForceNeverARunningDrill: --force removes drills with
// evidence, never a running one.
func TestHistoryPrune_ForceNeverARunningDrill(t *testing.T) {
	state := pruneState(t)
	res := run(t, context.Background(), nil, "history", "prune", "--older-than", "5d", "--force", "--state-dir", state, "-o", "json")
	require.Equal(t, ExitOK, res.code, res.String())
	assert.Equal(t, []string{"fd-a1", "fd-a4"}, remaining(t, state))
	var doc pruneDoc
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &doc))
	assert.Equal(t, "firedrill.dev/history-prune/v1", doc.Schema)
	assert.False(t, doc.DryRun)
	require.Len(t, doc.Kept, 1)
	assert.Equal(t, "fd-a4", doc.Kept[0].DrillID)
	var removed []string
	for _, r := range doc.Removed {
		removed = append(removed, r.DrillID)
	}
	assert.Equal(t, []string{"fd-a2", "fd-a3", "fd-a5", "fd-b1"}, removed)
}

// TestHistoryPrune_DryRunRemovesNothing, and both rules together: only
// drills beyond the newest 2 of their scenario and older than 15 days.
func TestHistoryPrune_DryRunRemovesNothing(t *testing.T) {
	state := pruneState(t)
	before := remaining(t, state)
	res := run(t, context.Background(), nil, "history", "prune", "--keep", "2", "--older-than", "15d", "--dry-run", "--force", "--state-dir", state)
	require.Equal(t, ExitOK, res.code, res.String())
	assert.Equal(t, before, remaining(t, state))
	assert.Contains(t, res.stdout, "Would remove  fd-a3")
	assert.Contains(t, res.stdout, "Would remove  fd-a5")
	assert.NotContains(t, res.stdout, "fd-b1", "the only drill of b is among its newest 2")
	assert.Contains(t, res.stdout, "Would remove 2 drills from "+state+"; kept 1.")
}

func TestHistoryPrune_NeedsARule(t *testing.T) {
	state := pruneState(t)
	for _, args := range [][]string{
		{"history", "prune", "--state-dir", state},
		{"history", "prune", "--older-than", "soon", "--state-dir", state},
		{"history", "prune", "--keep", "-3", "--state-dir", state},
	} {
		res := run(t, context.Background(), nil, args...)
		assert.Equal(t, ExitUsage, res.code, res.String())
	}
	assert.Len(t, remaining(t, state), 6)
}
