package restore

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
		downloadRequestsGVR: "DownloadRequestList", crdsGVR: "CustomResourceDefinitionList",
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

// TestSelectBackup_ReportsSkippedNewerBackups: every backup of the schedule
// newer than the recovery point that could not be restored is listed, with
// Velero's phase and counts, so the RPO reads against what was passed over.
func TestSelectBackup_ReportsSkippedNewerBackups(t *testing.T) {
	disaster := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return disaster.Add(-time.Duration(n) * time.Hour) }
	counts := func(b *unstructured.Unstructured, warnings, errors int64, extra map[string]any) *unstructured.Unstructured {
		st := b.Object["status"].(map[string]any)
		st["warnings"], st["errors"] = warnings, errors
		for k, v := range extra {
			st[k] = v
		}
		return b
	}
	// FailedValidation never starts: only its creation time says how new it is.
	invalid := backupObj("daily-6", "daily", "FailedValidation", h(1))
	delete(invalid.Object["status"].(map[string]any), "startTimestamp")
	delete(invalid.Object["status"].(map[string]any), "completionTimestamp")
	invalid.SetCreationTimestamp(metav1.NewTime(h(1).Add(30 * time.Minute)))
	invalid.Object["status"].(map[string]any)["validationErrors"] = []any{"invalid included namespace"}
	running := backupObj("daily-7", "daily", "InProgress", h(1).Add(45*time.Minute))
	delete(running.Object["status"].(map[string]any), "completionTimestamp")
	dyn := fakeDynamic(
		backupObj("daily-1", "daily", "Completed", h(5)),
		counts(backupObj("daily-2", "daily", "PartiallyFailed", h(4)), 1, 2, nil),
		counts(backupObj("daily-3", "daily", "Failed", h(3)), 0, 0, map[string]any{"failureReason": "object storage unreachable"}),
		counts(backupObj("daily-4", "daily", "PartiallyFailed", h(2)), 3, 4, nil),
		invalid,
		running,
		backupObj("other-1", "other", "Failed", h(1)),
		backupObj("daily-8", "daily", "Failed", disaster.Add(time.Hour)),
	)
	ctx := context.Background()

	t.Run("Completed only", func(t *testing.T) {
		rp, err := SelectBackup(ctx, dyn, "velero", BackupSelector{Schedule: "daily"}, disaster, 0)
		require.NoError(t, err)
		assert.Equal(t, "daily-1", rp.Backup)
		assert.Equal(t, "Completed", rp.Phase)
		assert.Equal(t, float64(5*3600), rp.RPOSeconds)
		assert.Equal(t, []SkippedBackup{
			{Name: "daily-7", Phase: "InProgress", Time: h(1).Add(45 * time.Minute), Reason: "InProgress: still running (0 errors, 0 warnings so far)"},
			{Name: "daily-6", Phase: "FailedValidation", Time: h(1).Add(30 * time.Minute), Reason: "FailedValidation: invalid included namespace"},
			{Name: "daily-4", Phase: "PartiallyFailed", Time: h(2), Warnings: 3, Errors: 4, Reason: "PartiallyFailed: 4 errors, 3 warnings; allowPartiallyFailed is not set"},
			{Name: "daily-3", Phase: "Failed", Time: h(3), Reason: "Failed: object storage unreachable"},
			{Name: "daily-2", Phase: "PartiallyFailed", Time: h(4), Warnings: 1, Errors: 2, Reason: "PartiallyFailed: 2 errors, 1 warnings; allowPartiallyFailed is not set"},
		}, rp.Skipped)
	})
	t.Run("allowPartiallyFailed", func(t *testing.T) {
		rp, err := SelectBackup(ctx, dyn, "velero", BackupSelector{Schedule: "daily", AllowPartiallyFailed: true}, disaster, 0)
		require.NoError(t, err)
		assert.Equal(t, "daily-4", rp.Backup)
		assert.Equal(t, "PartiallyFailed", rp.Phase)
		assert.Equal(t, 3, rp.Warnings)
		assert.Equal(t, 4, rp.Errors)
		assert.Equal(t, 3, rp.Candidates)
		var names []string
		for _, s := range rp.Skipped {
			names = append(names, s.Name)
		}
		assert.Equal(t, []string{"daily-7", "daily-6"}, names)
	})
	t.Run("window", func(t *testing.T) {
		rp, err := SelectBackup(ctx, dyn, "velero", BackupSelector{Window: &Window{Within: 6 * time.Hour}}, disaster, 0)
		require.NoError(t, err)
		assert.Equal(t, "daily-1", rp.Backup)
		assert.Len(t, rp.Skipped, 6, "other-1 is in the window too")
	})
	t.Run("named PartiallyFailed", func(t *testing.T) {
		_, err := SelectBackup(ctx, dyn, "velero", BackupSelector{Name: "daily-4"}, disaster, 0)
		require.ErrorIs(t, err, ErrNoBackup)
		assert.Contains(t, err.Error(), "PartiallyFailed: 4 errors, 3 warnings; allowPartiallyFailed is not set")
		rp, err := SelectBackup(ctx, dyn, "velero", BackupSelector{Name: "daily-4", AllowPartiallyFailed: true}, disaster, 0)
		require.NoError(t, err)
		assert.Equal(t, "PartiallyFailed", rp.Phase)
	})
	t.Run("none restorable names every one skipped", func(t *testing.T) {
		_, err := SelectBackup(ctx, dyn, "velero", BackupSelector{Schedule: "other"}, disaster, 0)
		require.ErrorIs(t, err, ErrNoBackup)
		assert.Equal(t, `no Completed backup of schedule "other"; not restorable: other-1 (Failed: 0 errors, 0 warnings): no backup to restore`, err.Error())
	})
}
