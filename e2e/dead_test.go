//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
)

// deadHeartbeat is the heartbeat interval of the drills these tests kill:
// they are known dead 3 intervals after the kill.
const deadHeartbeat = "1s"

var (
	restoresGVR = schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: "restores"}
	drillLine   = regexp.MustCompile(`^drill (fd-[0-9a-z-]+) of scenario `)
)

// killDrillMidRestore starts a drill of file and kills it with SIGKILL
// once its workloads phase is restoring (the namespaces exist, a Velero
// Restore runs): the process is gone, nothing of it cleans up. It
// returns the drill's id.
func killDrillMidRestore(t *testing.T, ctx context.Context, file, state string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, cliBinary(t), "run", file, "--state-dir", state, "--log-level", "warn")
	cmd.Env = append(append(os.Environ(), drillEnv()...), "FIREDRILL_HEARTBEAT_INTERVAL="+deadHeartbeat)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(stderr)
	var id string
	killed := false
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if m := drillLine.FindStringSubmatch(sc.Text()); m != nil {
			id = m[1]
		}
		if !killed && workloadsPhaseStarted.MatchString(sc.Text()) {
			require.NoError(t, cmd.Process.Signal(os.Kill))
			killed = true
		}
	}
	_ = cmd.Wait()
	require.NotEmpty(t, id, "no drill id in:\n%s", strings.Join(lines, "\n"))
	// Whatever the test does, nothing of the killed drill stays in the
	// lab: its Restores and the CRDs its crds phase created included.
	t.Cleanup(func() {
		res := firedrill(t, context.Background(), nil, "cleanup", id, "--state-dir", state)
		t.Logf("cleanup after the test (exit %d):\n%s%s", res.code, res.stdout, res.stderr)
	})
	require.True(t, killed, "the restore never started:\n%s", strings.Join(lines, "\n"))
	return id
}

// historyRows runs history -o json.
func historyRows(t *testing.T, ctx context.Context, state string) []map[string]any {
	t.Helper()
	hist := firedrill(t, ctx, nil, "history", "-o", "json", "--state-dir", state)
	require.Equal(t, 0, hist.code, hist.stderr)
	var doc struct {
		Drills []map[string]any `json:"drills"`
	}
	require.NoError(t, json.Unmarshal([]byte(hist.stdout), &doc))
	return doc.Drills
}

// waitDied waits until history shows drill id as died (its heartbeat is 3
// intervals old) and returns its row.
func waitDied(t *testing.T, ctx context.Context, state, id string) map[string]any {
	t.Helper()
	var row map[string]any
	err := wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, func(context.Context) (bool, error) {
		for _, r := range historyRows(t, ctx, state) {
			if r["drill_id"] == id {
				row = r
			}
		}
		return row != nil && row["result"] == "died", nil
	})
	require.NoError(t, err, "drill %s never shown as died: %v", id, row)
	return row
}

// drillRestores lists the Velero Restores labelled with drill id.
func drillRestores(t *testing.T, ctx context.Context, l labEnv, id string) []unstructured.Unstructured {
	t.Helper()
	_, dyn := kubeClients(t, l.ScratchKubeconfig)
	list, err := dyn.Resource(restoresGVR).Namespace(l.VeleroNamespace).List(ctx, metav1.ListOptions{LabelSelector: "firedrill.dev/drill-id=" + id})
	require.NoError(t, err)
	return list.Items
}

// TestRun_KilledDrillDiesAndTheNextCleansUp is issue 18's lab case: a
// drill killed with SIGKILL mid-restore is shown as died in its restore
// step, due names it, and the next run of the same scenario cleans up
// after it on its own, says so, and passes; nothing of the first drill is
// left in the scratch cluster.
func TestRun_KilledDrillDiesAndTheNextCleansUp(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 10*time.Minute)
	file, targets := drillScenario(t, l, "e2e-killed")
	state := t.TempDir()
	first := killDrillMidRestore(t, ctx, file, state)
	cs, _ := kubeClients(t, l.ScratchKubeconfig)
	_, err := cs.CoreV1().Namespaces().Get(ctx, targets[0], metav1.GetOptions{})
	require.NoError(t, err, "the killed drill left its namespace %s", targets[0])

	row := waitDied(t, ctx, state, first)
	assert.Equal(t, "restore", row["error_step"])
	assert.Contains(t, row["error"], "firedrill died: no heartbeat since ")

	due := firedrill(t, ctx, nil, "due", "e2e-killed", "--state-dir", state)
	assert.Equal(t, 3, due.code, due.stderr)
	assert.Contains(t, due.stderr, "last drill "+first+" died at step restore)")

	res := firedrill(t, ctx, append(drillEnv(), "FIREDRILL_HEARTBEAT_INTERVAL="+deadHeartbeat), "run", file, "--state-dir", state, "-o", "json", "--log-level", "warn")
	require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	assert.Contains(t, res.stderr, "1 earlier drill of e2e-killed died: cleaning up after it first")
	var rep drillReport
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &rep))
	assert.Equal(t, "pass", rep.Result)
	var note string
	for _, f := range rep.Findings {
		if f.ID == "preflight.dead-drill" {
			note = f.Message
		}
	}
	for _, ns := range targets {
		assert.Contains(t, note, "namespace/"+ns, "the finding names what was removed")
	}
	assert.Contains(t, note, "restore/"+first+"-")

	assert.Empty(t, drillRestores(t, ctx, l, first), "no Restore of the first drill is left")
	assertNamespacesGone(t, l, targets)
	rows := historyRows(t, ctx, state)
	require.Len(t, rows, 2)
	assert.Equal(t, "pass", rows[0]["result"])
	assert.Equal(t, "died", rows[1]["result"], "the dead drill's record stays as it was")
}

// TestCleanup_DeadDrillOnlyWhatIsItsOwn: 'cleanup DRILL_ID' removes the
// killed drill's Restores and the namespace its Restore created, and
// refuses a namespace of the same name made again since (not the drill's):
// it names it with the command. --dry-run deletes nothing, and
// 'cleanup --stale' afterwards finds nothing left.
func TestCleanup_DeadDrillOnlyWhatIsItsOwn(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 10*time.Minute)
	file, targets := drillScenario(t, l, "e2e-cleanup")
	require.Len(t, targets, 2, "the lab's shop has two namespaces")
	state := t.TempDir()
	id := killDrillMidRestore(t, ctx, file, state)
	cs, _ := kubeClients(t, l.ScratchKubeconfig)
	t.Cleanup(func() {
		for _, ns := range targets {
			_ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
		}
	})

	// Velero goes on after the kill: wait for the drill's Restores to end,
	// then make the second namespace again, as a person would.
	require.NoError(t, wait.PollUntilContextCancel(ctx, time.Second, true, func(context.Context) (bool, error) {
		for _, r := range drillRestores(t, ctx, l, id) {
			phase, _, _ := unstructured.NestedString(r.Object, "status", "phase")
			switch phase {
			case "Completed", "PartiallyFailed", "Failed", "FailedValidation":
			default:
				return false, nil
			}
		}
		return true, nil
	}))
	other := targets[1]
	require.NoError(t, cs.CoreV1().Namespaces().Delete(ctx, other, metav1.DeleteOptions{}))
	require.NoError(t, wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().Namespaces().Get(ctx, other, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}))
	time.Sleep(time.Second) // creation times are whole seconds: after the Restore's end
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: other}}, metav1.CreateOptions{})
	require.NoError(t, err)
	waitDied(t, ctx, state, id)

	dry := firedrill(t, ctx, nil, "cleanup", id, "--dry-run", "--state-dir", state)
	assert.Equal(t, 3, dry.code, "stdout:\n%s\nstderr:\n%s", dry.stdout, dry.stderr)
	assert.Contains(t, dry.stdout, "would delete  namespace/"+targets[0]+"\n")
	assert.Contains(t, dry.stdout, "not the drill's: namespace "+other+": ")
	assert.Contains(t, dry.stdout, "if it is not needed: kubectl delete namespace "+other+"\n")
	assert.NotEmpty(t, drillRestores(t, ctx, l, id), "a dry run deletes nothing")

	res := firedrill(t, ctx, nil, "cleanup", id, "-o", "json", "--state-dir", state)
	assert.Equal(t, 3, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	var doc struct {
		Schema string `json:"schema"`
		Drills []struct {
			DrillID string   `json:"drill_id"`
			Result  string   `json:"result"`
			Deleted []string `json:"deleted"`
			Found   struct {
				NotOwned []struct{ Kind, Name, Why, Command string } `json:"not_owned"`
			} `json:"found"`
		} `json:"drills"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &doc))
	assert.Equal(t, "firedrill.dev/cleanup/v1", doc.Schema)
	require.Len(t, doc.Drills, 1)
	d := doc.Drills[0]
	assert.Equal(t, "died", d.Result)
	assert.Contains(t, d.Deleted, "namespace/"+targets[0])
	assert.NotContains(t, d.Deleted, "namespace/"+other)
	require.Len(t, d.Found.NotOwned, 1)
	assert.Equal(t, other, d.Found.NotOwned[0].Name)
	assert.Contains(t, d.Found.NotOwned[0].Why, "outside that Restore's run")
	assert.Equal(t, "kubectl delete namespace "+other, d.Found.NotOwned[0].Command)
	assert.Contains(t, res.stderr, "not provably the drill's or not ended: namespace "+other)

	_, err = cs.CoreV1().Namespaces().Get(ctx, other, metav1.GetOptions{})
	assert.NoError(t, err, "the namespace that is not the drill's stays")
	assertNamespacesGone(t, l, targets[:1])
	assert.Empty(t, drillRestores(t, ctx, l, id))

	require.NoError(t, cs.CoreV1().Namespaces().Delete(ctx, other, metav1.DeleteOptions{}))
	require.NoError(t, wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().Namespaces().Get(ctx, other, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}))
	stale := firedrill(t, ctx, nil, "cleanup", "--stale", file, "--state-dir", state)
	assert.Equal(t, 0, stale.code, "stdout:\n%s\nstderr:\n%s", stale.stdout, stale.stderr)
	assert.Contains(t, stale.stdout, "Drill "+id+" of e2e-cleanup: died in step restore")
	assert.Contains(t, stale.stdout, "nothing of it was left")
}
