//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/firedrill-dev/firedrill/internal/recoverypoint"
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
	older := l.Backups[0]
	ctx := testContext(t, 10*time.Minute)
	// The scenario's window takes the place of its schedule: the
	// candidates are every restorable Backup of the scratch cluster
	// started within the window, as the drill will find them: the lab's
	// two and the backups earlier tests took.
	newestFirst := windowCandidates(t, ctx, l, 24*time.Hour)
	require.Contains(t, newestFirst, older)
	seed := int64(-1)
	for s := int64(0); s < 64; s++ {
		if restore.PickRandom(newestFirst, s) == older {
			seed = s
			break
		}
	}
	require.GreaterOrEqual(t, seed, int64(0), "a seed that picks the older backup")

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
		} `json:"backup"`
		Choice struct {
			Selector   string `json:"selector"`
			Pick       string `json:"pick"`
			Why        string `json:"why"`
			Candidates int    `json:"candidates"`
			Seed       *int64 `json:"seed"`
		} `json:"recovery_point_choice"`
		DisasterAt time.Time `json:"disaster_at"`
		RPO        struct {
			Measured *float64 `json:"measured_seconds"`
		} `json:"rpo"`
	}
	require.NoError(t, json.Unmarshal(b, &rep))
	assert.Equal(t, older, rep.Backup.Name, "seed %d picks the older backup", seed)
	assert.Equal(t, "window", rep.Choice.Selector)
	assert.Equal(t, "random", rep.Choice.Pick)
	require.NotNil(t, rep.Choice.Seed)
	assert.Equal(t, seed, *rep.Choice.Seed)
	assert.Equal(t, len(newestFirst), rep.Choice.Candidates, "candidates %v", newestFirst)
	assert.Contains(t, rep.Choice.Why, "picked at random with seed "+strconv.FormatInt(seed, 10)+" among "+strconv.Itoa(len(newestFirst))+" Completed backups")
	require.NotNil(t, rep.RPO.Measured)
	assert.InDelta(t, rep.DisasterAt.Sub(rep.Backup.Started).Seconds(), *rep.RPO.Measured, 1, "the RPO counts from the backup picked")

	md, err := os.ReadFile(filepath.Join(state, "drills", top.DrillID, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "window.seed: "+strconv.FormatInt(seed, 10)+" replays the pick")
}

// windowCandidates are the names of the Velero Backups in the scratch
// cluster that a drill's window (within, ending now, no schedule) chooses
// among, newest first: restorable, started within the window; the order
// of restore.PickRandom's candidates.
func windowCandidates(t *testing.T, ctx context.Context, l labEnv, within time.Duration) []string {
	t.Helper()
	_, dyn := kubeClients(t, l.ScratchKubeconfig)
	list, err := dyn.Resource(velerov1.SchemeGroupVersion.WithResource("backups")).Namespace(l.VeleroNamespace).
		List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	now := time.Now()
	var bs []*velerov1.Backup
	for _, u := range list.Items {
		var b velerov1.Backup
		require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &b))
		at := recoverypoint.Time(&b)
		if recoverypoint.Restorable(&b, false) && !at.IsZero() && !at.After(now) && !at.Before(now.Add(-within)) {
			bs = append(bs, &b)
		}
	}
	slices.SortStableFunc(bs, func(a, b *velerov1.Backup) int {
		if c := recoverypoint.Time(b).Compare(recoverypoint.Time(a)); c != 0 {
			return c
		}
		return strings.Compare(b.Name, a.Name)
	})
	names := make([]string, len(bs))
	for i, b := range bs {
		names[i] = b.Name
	}
	return names
}
