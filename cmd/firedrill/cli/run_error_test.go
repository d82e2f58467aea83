package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRun_ErroredDrillSaysWhyInTheSummaryAndHistory runs a real drill whose
// scratch cluster cannot be reached (a kubeconfig pointing at a closed
// port): the run summary, the error line and 'history' name the step and
// the error (issue 14, item 11). Nothing else is reached: every step after
// the preflight is skipped.
func TestRun_ErroredDrillSaysWhyInTheSummaryAndHistory(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	kubeconfig := filepath.Join(dir, "scratch.kubeconfig")
	require.NoError(t, os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: scratch, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: drill, user: {token: not-a-secret}}]
contexts: [{name: scratch, context: {cluster: scratch, user: drill}}]
current-context: scratch
`), 0o600))
	valid, err := os.ReadFile("testdata/files/valid.yaml")
	require.NoError(t, err)
	scenario := filepath.Join(dir, "unreachable.yaml")
	require.NoError(t, os.WriteFile(scenario, []byte(strings.Replace(string(valid), "~/.kube/scratch.kubeconfig", kubeconfig, 1)), 0o644))

	res := run(t, context.Background(), map[string]string{"FIREDRILL_STATE_DIR": state}, "run", scenario)
	require.Equal(t, ExitError, res.code, res.String())
	lines := strings.Split(res.stdout, "\n")
	require.GreaterOrEqual(t, len(lines), 2, res.String())
	assert.Regexp(t, `^Drill fd-\S+ of shop-test: error$`, lines[0])
	assert.Regexp(t, `^  error in step preflight: .*127\.0\.0\.1:1.*connection refused`, lines[1])
	assert.Regexp(t, `could not run to the end: step preflight: .*connection refused`, res.stderr)

	hist := run(t, context.Background(), map[string]string{"FIREDRILL_STATE_DIR": state}, "history", "-o", "json")
	require.Equal(t, ExitOK, hist.code, hist.String())
	var doc struct {
		Drills []map[string]any `json:"drills"`
	}
	require.NoError(t, json.Unmarshal([]byte(hist.stdout), &doc))
	rows := doc.Drills
	require.Len(t, rows, 1)
	assert.Equal(t, "error", rows[0]["result"])
	assert.Equal(t, "preflight", rows[0]["error_step"])
	assert.Contains(t, rows[0]["error"], "connection refused")
}

// TestRun_WindowSeedNeedsARandomPick: --pick-seed replays a random pick;
// on a scenario that picks no backup at random it is a usage error (exit
// 2), before anything is reached or recorded.
func TestRun_WindowSeedNeedsARandomPick(t *testing.T) {
	state := t.TempDir()
	scenario, err := filepath.Abs("testdata/files/valid.yaml")
	require.NoError(t, err)
	res := run(t, context.Background(), map[string]string{"FIREDRILL_STATE_DIR": state}, "run", "--pick-seed", "42", scenario)
	require.Equal(t, ExitUsage, res.code, res.String())
	assert.Contains(t, res.stderr, "Error: --pick-seed: the scenario does not pick its backup at random (spec.backups.window.pick: random)")
	assert.Contains(t, res.stderr, "Hint: drop --pick-seed, or set spec.backups.window.pick: random in the scenario")
	entries, err := os.ReadDir(state)
	require.NoError(t, err)
	assert.Empty(t, entries, "no drill was recorded")
}
