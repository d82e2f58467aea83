package restore

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
)

func backupObj(name, schedule, phase string, start time.Time) *unstructured.Unstructured {
	labels := map[string]any{labelStorageLocation: "default"}
	if schedule != "" {
		labels[labelScheduleName] = schedule
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "velero.io/v1", "kind": "Backup",
		"metadata": map[string]any{"name": name, "namespace": "velero", "labels": labels},
		"spec":     map[string]any{"storageLocation": "default"},
		"status": map[string]any{"phase": phase, "startTimestamp": start.Format(time.RFC3339),
			"completionTimestamp": start.Add(time.Second).Format(time.RFC3339)},
	}}
}

func fakeDynamic(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		backupsGVR: "BackupList", restoresGVR: "RestoreList", locationsGVR: "BackupStorageLocationList",
		downloadRequestsGVR: "DownloadRequestList",
	}, objs...)
}

func TestSelectBackup(t *testing.T) {
	disaster := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return disaster.Add(-time.Duration(n) * time.Hour) }
	dyn := fakeDynamic(
		backupObj("daily-1", "daily", "Completed", h(30)),
		backupObj("daily-2", "daily", "Completed", h(6)),
		backupObj("daily-3", "daily", "PartiallyFailed", h(2)),
		backupObj("daily-4", "daily", "Completed", h(3)),
		backupObj("manual", "", "Completed", h(1)),
		backupObj("future", "daily", "Completed", disaster.Add(time.Hour)),
	)
	seed := int64(7)
	tests := []struct {
		name    string
		sel     BackupSelector
		want    string
		wantRPO float64
		cands   int
	}{
		{"by name", BackupSelector{Name: "manual"}, "manual", 3600, 1},
		{"latest of schedule", BackupSelector{Schedule: "daily"}, "daily-4", 3 * 3600, 3},
		{"latest in window", BackupSelector{Window: &Window{Within: 12 * time.Hour}}, "manual", 3600, 3},
		{"window excludes older", BackupSelector{Window: &Window{Within: 4 * time.Hour}}, "manual", 3600, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp, err := SelectBackup(context.Background(), dyn, "velero", tt.sel, disaster, 0)
			require.NoError(t, err)
			assert.Equal(t, tt.want, rp.Backup)
			assert.Equal(t, tt.wantRPO, rp.RPOSeconds)
			assert.Equal(t, tt.cands, rp.Candidates)
			assert.Equal(t, "default", rp.StorageLocation)
		})
	}
	t.Run("random in window is repeatable with a seed", func(t *testing.T) {
		sel := BackupSelector{Window: &Window{Within: 48 * time.Hour, Random: true, Seed: &seed}}
		a, err := SelectBackup(context.Background(), dyn, "velero", sel, disaster, 0)
		require.NoError(t, err)
		b, err := SelectBackup(context.Background(), dyn, "velero", sel, disaster, 0)
		require.NoError(t, err)
		assert.Equal(t, a.Backup, b.Backup)
		require.NotNil(t, a.Seed)
		assert.Equal(t, seed, *a.Seed)
		assert.Equal(t, 4, a.Candidates)
	})
	t.Run("not Completed by name", func(t *testing.T) {
		_, err := SelectBackup(context.Background(), dyn, "velero", BackupSelector{Name: "daily-3"}, disaster, 0)
		assert.ErrorIs(t, err, ErrNoBackup)
	})
	t.Run("missing by name, no wait", func(t *testing.T) {
		_, err := SelectBackup(context.Background(), dyn, "velero", BackupSelector{Name: "nope"}, disaster, 0)
		assert.ErrorIs(t, err, ErrNoBackup)
	})
	t.Run("no schedule match", func(t *testing.T) {
		_, err := SelectBackup(context.Background(), dyn, "velero", BackupSelector{Schedule: "weekly"}, disaster, 0)
		assert.ErrorIs(t, err, ErrNoBackup)
	})
}
