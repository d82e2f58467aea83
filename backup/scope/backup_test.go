package scope

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmware-tanzu/velero/pkg/apis/velero/shared"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/firedrill-dev/firedrill/internal/finding"
)

// labBackupFiles are the files of a backup as Velero v1.18 wrote them in
// the lab: three claims in the resource list, one PodVolumeBackup (of
// shop-data/data-db-0), volume information saying the other two were
// skipped.
func labBackupFiles(t *testing.T) memFiles {
	pvb := velerov1.PodVolumeBackup{
		ObjectMeta: metav1.ObjectMeta{Name: "b1-zqprz", Namespace: "velero",
			Labels:      map[string]string{velerov1.BackupNameLabel: "b1"},
			Annotations: map[string]string{"velero.io/pvc-name": "data-db-0"}},
		Spec: velerov1.PodVolumeBackupSpec{Pod: corev1.ObjectReference{Namespace: "shop-data", Name: "db-0"}, Volume: "data"},
		Status: velerov1.PodVolumeBackupStatus{Phase: velerov1.PodVolumeBackupPhaseCompleted,
			Progress: shared.DataMoveOperationProgress{TotalBytes: 132}},
	}
	return memFiles{files: map[string][]byte{
		"backups/b1/b1-resource-list.json.gz": gz(t, map[string][]string{
			"v1/PersistentVolumeClaim": {"shop-data/cache-db-0", "shop-data/data-db-0", "shop/exports", "other/elsewhere"},
			"v1/ConfigMap":             {"shop/web-config"},
		}),
		"backups/b1/b1-podvolumebackups.json.gz": gz(t, []velerov1.PodVolumeBackup{pvb}),
		"backups/b1/b1-volumeinfo.json.gz": gz(t, []map[string]any{
			{"pvcName": "cache-db-0", "pvcNamespace": "shop-data", "pvName": "pv-01", "skipped": true,
				"skippedReason": "podvolume: opted out due to annotation in pod db-0;volumeSnapshot: not satisfy the criteria for VolumePolicy or the legacy snapshot way;"},
			{"pvcName": "exports", "pvcNamespace": "shop", "pvName": "pv-exports", "skipped": true},
			{"pvcName": "data-db-0", "pvcNamespace": "shop-data", "pvName": "pv-02", "backupMethod": "PodVolumeBackup", "result": "succeeded"},
		}),
	}}
}

// TestReadBackup_ClaimsWithoutVolumeData: without the source, every claim
// of the drill's namespaces in the backup's resource list that has no
// volume data in the backup is named, and said to be restored empty with
// no reason known; a claim of another namespace is not the drill's.
func TestReadBackup_ClaimsWithoutVolumeData(t *testing.T) {
	res, err := ReadBackup(context.Background(), labBackupFiles(t), "b1", []string{"shop", "shop-data"}, "the scenario loses the source cluster")
	require.NoError(t, err)
	assert.Equal(t, "the scenario loses the source cluster", res.SourceSkipped)
	assert.Empty(t, res.Problems)
	require.Len(t, res.Claims, 3)
	assert.Equal(t, "shop-data/cache-db-0", res.Claims[0].Ref())
	assert.False(t, res.Claims[0].InBackup)
	assert.Equal(t, ReasonNoVolumeData, res.Claims[0].Reason)
	assert.Contains(t, res.Claims[0].Detail, "why not cannot be told without the source (the scenario loses the source cluster)")
	assert.Contains(t, res.Claims[0].Detail, "Velero recorded: podvolume: opted out due to annotation in pod db-0")
	assert.Equal(t, Claim{Namespace: "shop-data", Name: "data-db-0", Volume: "pv-02", InBackup: true, Method: MethodPodVolumeBackup,
		Detail: "PodVolumeBackup b1-zqprz (volume data of pod db-0) Completed, 132 bytes"}, res.Claims[1])
	assert.Equal(t, "shop/exports", res.Claims[2].Ref())
	assert.Equal(t, ReasonNoVolumeData, res.Claims[2].Reason)

	fs := Findings(res, []string{"shop/exports"})
	require.Len(t, fs, 2)
	assert.Equal(t, IDClaim, fs[0].ID)
	assert.Equal(t, finding.StatusFail, fs[0].Status)
	assert.Equal(t, "PersistentVolumeClaim shop-data/cache-db-0 in backup b1", fs[0].Subject)
	assert.Contains(t, fs[0].Message, "restored without its data")
	assert.Equal(t, finding.StatusWarn, fs[1].Status, "accepted out of scope")
	assert.Contains(t, fs[1].Message, "acceptedOutOfScope")
}

// TestReadBackup_EveryMethodAndFailure: volume information, snapshot
// files and a failed PodVolumeBackup decide as they do with the source.
func TestReadBackup_EveryMethodAndFailure(t *testing.T) {
	files := memFiles{files: map[string][]byte{
		"backups/b1/b1-resource-list.json.gz": gz(t, map[string][]string{
			"v1/PersistentVolumeClaim": {"shop/moved", "shop/native", "shop/csi", "shop/broken", "shop/a"}}),
		"backups/b1/b1-podvolumebackups.json.gz": gz(t, []velerov1.PodVolumeBackup{{
			ObjectMeta: metav1.ObjectMeta{Name: "p1", Annotations: map[string]string{"velero.io/pvc-name": "broken"}},
			Spec:       velerov1.PodVolumeBackupSpec{Pod: corev1.ObjectReference{Namespace: "shop", Name: "x-0"}, Volume: "v"},
			Status:     velerov1.PodVolumeBackupStatus{Phase: velerov1.PodVolumeBackupPhaseFailed, Message: "disk gone"}}}),
		"backups/b1/b1-volumeinfo.json.gz": gz(t, []map[string]any{
			{"pvcName": "moved", "pvcNamespace": "shop", "backupMethod": "CSISnapshot", "snapshotDataMoved": true, "result": "succeeded"},
			{"pvcName": "native", "pvcNamespace": "shop", "pvName": "pv-n", "skipped": true},
		}),
		"backups/b1/b1-volumesnapshots.json.gz": gz(t, []map[string]any{{"spec": map[string]any{"persistentVolumeName": "pv-n"}, "status": map[string]any{"phase": "Completed"}}}),
		"backups/b1/b1-csi-volumesnapshots.json.gz": gz(t, []map[string]any{{"metadata": map[string]any{"namespace": "shop"},
			"spec": map[string]any{"source": map[string]any{"persistentVolumeClaimName": "csi"}}}}),
	}}
	res, err := ReadBackup(context.Background(), files, "b1", []string{"shop"}, "the scenario names no source cluster (spec.source)")
	require.NoError(t, err)
	got := map[string]string{}
	for _, c := range res.Claims {
		got[c.Name] = string(c.Method) + string(c.Reason)
	}
	assert.Equal(t, map[string]string{"moved": "DataMover", "native": "NativeSnapshot", "csi": "CSISnapshot",
		"broken": "backup-failed", "a": "no-volume-data"}, got)

	_, err = ReadBackup(context.Background(), memFiles{Err: fmt.Errorf("access denied")}, "b1", []string{"shop"}, "x")
	assert.ErrorContains(t, err, "read backups/b1/b1-resource-list.json.gz: access denied")
}
