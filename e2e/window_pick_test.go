//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/restore"
)

// TestWindow_RandomPickReplaysWithItsSeed runs one drill of the lab with
// window.pick: random and --pick-seed, the seed chosen so that the pick is
// the lab's older backup, which "latest" would never restore: the real
// Backup objects of the scratch cluster are the candidates, the drill
// restores the backup that seed picks among them (the same rule the unit
// tests hold, restore.PickRandom over the candidates newest first), and
// report.json keeps the seed and why, so a later drill can replay it.
func TestWindow_RandomPickReplaysWithItsSeed(t *testing.T) {
	l := lab(t)
	require.Len(t, l.Backups, 2, "the lab takes two backups at lab-up")
	older, newer := l.Backups[0], l.Backups[1]
	newestFirst := []string{newer, older}
	seed := int64(-1)
	for s := int64(0); s < 64; s++ {
		if restore.PickRandom(newestFirst, s) == older {
			seed = s
			break
		}
	}
	require.GreaterOrEqual(t, seed, int64(0), "a seed that picks the older backup")

	ctx := testContext(t, 10*time.Minute)
	// The older backup holds the first order only: the restored db's
	// order log must say exactly that, which proves its data came back.
	file, targets := drillScenario(t, l, "e2e-pick", "    schedule: "+os.Getenv("FIREDRILL_LAB_SCHEDULE")+"\n",
		"    window: {within: 24h, pick: random}\n",
		`expectRegexp: '(?m)^order 2: '`, `expectRegexp: '^order 1: [^\n]*\n$'`)
	cs, _ := kubeClients(t, l.ScratchKubeconfig)
	t.Cleanup(func() { deleteNamespaces(t, cs, targets...) })
	state := t.TempDir()
	res := firedrill(t, ctx, drillEnv(), "run", file, "--state-dir", state, "-o", "json", "--log-level", "warn",
		"--pick-seed", strconv.FormatInt(seed, 10))
	require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)

	var top drillReport
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &top), res.stdout)
	b, err := os.ReadFile(filepath.Join(state, "drills", top.DrillID, "report.json"))
	require.NoError(t, err)
	var rep struct {
		Backup struct {
			Name    string    `json:"name"`
			Started time.Time `json:"started"`
			Chosen  struct {
				Why        string `json:"why"`
				Candidates int    `json:"candidates"`
				Seed       *int64 `json:"seed"`
			} `json:"chosen"`
		} `json:"backup"`
		DisasterAt time.Time `json:"disaster_at"`
		RPO        struct {
			Measured *float64 `json:"measured_seconds"`
		} `json:"rpo"`
	}
	require.NoError(t, json.Unmarshal(b, &rep))
	assert.Equal(t, older, rep.Backup.Name, "seed %d picks the older backup", seed)
	require.NotNil(t, rep.Backup.Chosen.Seed)
	assert.Equal(t, seed, *rep.Backup.Chosen.Seed)
	assert.Equal(t, 2, rep.Backup.Chosen.Candidates)
	assert.Contains(t, rep.Backup.Chosen.Why, "picked at random with seed "+strconv.FormatInt(seed, 10)+" among 2 Completed backups")
	require.NotNil(t, rep.RPO.Measured)
	assert.InDelta(t, rep.DisasterAt.Sub(rep.Backup.Started).Seconds(), *rep.RPO.Measured, 1, "the RPO counts from the backup picked")

	md, err := os.ReadFile(filepath.Join(state, "drills", top.DrillID, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "window.seed: "+strconv.FormatInt(seed, 10)+" replays the pick")
}
