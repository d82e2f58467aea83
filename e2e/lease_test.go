//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// leaseName is the Lease every drill of a scratch cluster takes, in
// Velero's namespace (internal/lease.DefaultName).
const leaseName = "firedrill-drill"

// leaseReport is what these tests read of a drill's report.
type leaseReport struct {
	drillReport
	Error    string `json:"error"`
	Restores []struct {
		Name string `json:"name"`
	} `json:"restores"`
}

// restoreTimes are the Restores' starts and ends as the report has them
// (Velero's status.startTimestamp and completionTimestamp).
func restoreTimes(t *testing.T, stdout string) (rep drillReport, starts, ends []time.Time) {
	t.Helper()
	var doc struct {
		drillReport
		Restores []struct {
			Start time.Time `json:"start"`
			End   time.Time `json:"end"`
		} `json:"restores"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &doc))
	for _, r := range doc.Restores {
		starts = append(starts, r.Start)
		ends = append(ends, r.End)
	}
	return doc.drillReport, starts, ends
}

// holderOf waits until the scratch cluster's Lease names a drill of
// scenario, and returns that drill's id.
func holderOf(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns, scenario string) string {
	t.Helper()
	for {
		le, err := cs.CoordinationV1().Leases(ns).Get(ctx, leaseName, metav1.GetOptions{})
		if err == nil && le.Spec.HolderIdentity != nil && le.Annotations["firedrill.dev/scenario"] == scenario {
			return *le.Spec.HolderIdentity
		}
		select {
		case <-ctx.Done():
			require.FailNow(t, "the first drill never took the Lease", "last error: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestLease_OneDrillAtATime starts a drill of the lab scenario; while it
// holds the scratch cluster's Lease, a second drill with --lock-wait 0
// fails at once (exit 4) naming the first, and a third, with a wait,
// waits and then runs after it: its Restores start after the first's
// ended, and the Lease is free at the end.
func TestLease_OneDrillAtATime(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 10*time.Minute)
	cs, _ := kubeClients(t, l.ScratchKubeconfig)
	fileA, targetsA := drillScenario(t, l, "e2e-lease-a")
	fileB, _ := drillScenario(t, l, "e2e-lease-b")
	fileC, targetsC := drillScenario(t, l, "e2e-lease-c")
	t.Cleanup(func() { deleteNamespaces(t, cs, append(targetsA, targetsC...)...) })

	first := make(chan cliResult, 1)
	go func() {
		first <- firedrill(t, ctx, drillEnv(), "run", fileA, "--state-dir", t.TempDir(), "-o", "json", "--log-level", "warn")
	}()
	idA := holderOf(t, ctx, cs, l.VeleroNamespace, "e2e-lease-a")

	// No wait: refused at once, naming the holder; nothing restored.
	refused := firedrill(t, ctx, drillEnv(), "run", fileB, "--state-dir", t.TempDir(), "-o", "json", "--log-level", "warn", "--lock-wait", "0")
	assert.Equal(t, 4, refused.code, "stdout:\n%s\nstderr:\n%s", refused.stdout, refused.stderr)
	var repB leaseReport
	require.NoError(t, json.Unmarshal([]byte(refused.stdout), &repB))
	assert.Equal(t, "error", repB.Result)
	assert.Equal(t, "warn", repB.finding("scratch.in-use"))
	assert.Equal(t, "error", repB.phase("preflight"))
	assert.Equal(t, "skipped", repB.phase("restore"))
	assert.Empty(t, repB.Restores)
	assert.Contains(t, repB.Error, "Lease "+l.VeleroNamespace+"/"+leaseName+" is held by drill "+idA+" of scenario e2e-lease-a on host ")
	assert.Contains(t, refused.stderr, "Hint: wait for that drill to end")

	// A wait: it waits, then runs once the first released the Lease.
	second := firedrill(t, ctx, drillEnv(), "run", fileC, "--state-dir", t.TempDir(), "-o", "json", "--log-level", "warn", "--lock-wait", "8m")
	resA := <-first
	require.Equal(t, 0, resA.code, "first drill:\nstdout:\n%s\nstderr:\n%s", resA.stdout, resA.stderr)
	require.Equal(t, 0, second.code, "second drill:\nstdout:\n%s\nstderr:\n%s", second.stdout, second.stderr)
	assert.Contains(t, second.stderr, "waiting for Lease "+l.VeleroNamespace+"/"+leaseName+", held by drill "+idA)
	assert.Contains(t, resA.stderr, "released Lease "+l.VeleroNamespace+"/"+leaseName)

	repA, _, endsA := restoreTimes(t, resA.stdout)
	repC, startsC, _ := restoreTimes(t, second.stdout)
	assert.Equal(t, idA, repA.DrillID)
	assert.Equal(t, "pass", repC.Result)
	assert.NotEqual(t, idA, repC.DrillID)
	require.NotEmpty(t, endsA)
	require.NotEmpty(t, startsC)
	var lastA time.Time
	for _, e := range endsA {
		require.False(t, e.IsZero(), "every Restore of the first drill ended")
		if e.After(lastA) {
			lastA = e
		}
	}
	for _, s := range startsC {
		assert.False(t, s.Before(lastA), "the second drill's Restore started %s, before the first's last Restore ended %s", s, lastA)
	}
	assert.True(t, startsC[0].After(repA.StartedAt))

	le, err := cs.CoordinationV1().Leases(l.VeleroNamespace).Get(ctx, leaseName, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Nil(t, le.Spec.HolderIdentity, "released after the last drill")
	assertNamespacesGone(t, l, append(targetsA, targetsC...))
}
