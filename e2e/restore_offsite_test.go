//go:build e2e

package e2e

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// labCtl runs the lab's control binary.
func labCtl(t *testing.T, args ...string) {
	t.Helper()
	ctl := os.Getenv("FIREDRILL_LAB_CTL")
	require.NotEmpty(t, ctl, "FIREDRILL_LAB_CTL")
	out, err := exec.Command(ctl, args...).CombinedOutput()
	require.NoError(t, err, "%s %v:\n%s", ctl, args, out)
}

// TestRestore_FromOffsiteCopy is e2e (3): with the primary MinIO stopped, a
// scenario that loses the primary storage restores from the off-site copy
// through a read-only location the drill creates, then removes it and puts
// the Backup object back on its own location.
func TestRestore_FromOffsiteCopy(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 8*time.Minute)
	cs, dyn := kubeClients(t, l.ScratchKubeconfig)
	sc, targets := labScenario(t, l, "ro")
	t.Cleanup(func() { deleteNamespaces(t, cs, targets...) })
	sc.Spec.Disaster.Lost = append(sc.Spec.Disaster.Lost, scenarios.LossPrimaryStorage)
	location, from := sc.RestoreFrom()
	require.NotNil(t, from, "the lab scenario has a copy with a storage location")

	// Other engineers share the lab: the primary is down only for this test.
	t.Cleanup(func() { labCtl(t, "up") })
	labCtl(t, "stop", "s3-primary")

	// Twice: the second drill's location of the same name must find no
	// BackupRepository the first left NotReady, or its volume data fails
	// ("backup repository is not ready: re-establish on BSL change").
	for i := range 2 {
		res, err := drill.RunRestore(ctx, sc, drill.RestoreOptions{Progress: tlog{t}})
		require.NoError(t, err)
		require.NotNil(t, res)
		assert.Equal(t, from.Name, res.FromCopy)
		require.NotNil(t, res.Backup)
		assert.Equal(t, location, res.Backup.StorageLocation)
		assert.Equal(t, l.LatestBackup, res.Backup.Backup)
		var volumes int
		for _, r := range res.Restores {
			assert.Equal(t, velerov1.RestorePhaseCompleted, r.Status, "drill %d: restore %s: %s", i+1, r.Name, r.Reason())
			for _, p := range r.PodVolumeRestores {
				volumes++
				assert.Equal(t, velerov1.PodVolumeRestorePhaseCompleted, p.Phase, "drill %d: volume %s of %s/%s from the copy: %s", i+1, p.Volume, p.Namespace, p.Pod, p.Message)
			}
		}
		assert.Positive(t, volumes, "drill %d: the volume data came back from the copy", i+1)
		assert.True(t, res.OrderVerified)
		for _, c := range res.Checks {
			assert.True(t, c.Passed, "drill %d: check %s: %s", i+1, c.Name, c.Message)
		}
		assert.True(t, res.Passed, "drill %d", i+1)
		assertNoLeftovers(t, cs, dyn, l.VeleroNamespace, res.DrillID, targets)
		repos, err := dyn.Resource(schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: "backuprepositories"}).
			Namespace(l.VeleroNamespace).List(ctx, metav1.ListOptions{LabelSelector: "velero.io/storage-location=" + location})
		require.NoError(t, err)
		assert.Empty(t, repos.Items, "drill %d: BackupRepositories of location %s left behind", i+1, location)
	}

	_, err := dyn.Resource(restoreBSLGVR).Namespace(l.VeleroNamespace).Get(ctx, location, metav1.GetOptions{})
	assert.Error(t, err, "location %s removed", location)
	b, err := dyn.Resource(restoreBackupGVR).Namespace(l.VeleroNamespace).Get(context.Background(), l.LatestBackup, metav1.GetOptions{})
	require.NoError(t, err)
	loc, _, _ := unstructured.NestedString(b.Object, "spec", "storageLocation")
	assert.Equal(t, sc.Spec.Backups.StorageLocation, loc, "backup back on its own location")
	assert.Equal(t, sc.Spec.Backups.StorageLocation, b.GetLabels()["velero.io/storage-location"])
}
