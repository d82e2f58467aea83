package restore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/firedrill-dev/firedrill/internal/recoverypoint"
)

// backupObj is a Backup as Velero's sync creates it: labeled with its
// schedule and location, started at start and completed a second later.
func backupObj(name, schedule string, phase velerov1.BackupPhase, start time.Time) *velerov1.Backup {
	labels := map[string]string{velerov1.StorageLocationLabel: "default"}
	if schedule != "" {
		labels[velerov1.ScheduleNameLabel] = schedule
	}
	return &velerov1.Backup{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "velero", Labels: labels},
		Spec:       velerov1.BackupSpec{StorageLocation: "default"},
		Status: velerov1.BackupStatus{Phase: phase, StartTimestamp: ptr.To(metav1.NewTime(start)),
			CompletionTimestamp: ptr.To(metav1.NewTime(start.Add(time.Second)))},
	}
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
		// The window among one schedule's backups: the newer manual one
		// is not a candidate.
		{"window of a schedule", BackupSelector{Schedule: "daily", Window: &Window{Within: 4 * time.Hour}}, "daily-4", 3 * 3600, 1},
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
	t.Run("random in a schedule's window picks only its backups", func(t *testing.T) {
		for s := range int64(20) {
			sel := BackupSelector{Schedule: "daily", Window: &Window{Within: 48 * time.Hour, Random: true, Seed: &s}}
			rp, err := SelectBackup(context.Background(), dyn, "velero", sel, disaster, 0)
			require.NoError(t, err)
			assert.Equal(t, 3, rp.Candidates, "daily-1, daily-2, daily-4")
			assert.Equal(t, "daily", rp.Schedule, rp.Backup)
			assert.Contains(t, rp.Why, `Completed backups of schedule "daily" started within 2d before the disaster`)
		}
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
	counts := func(b *velerov1.Backup, warnings, errors int, failureReason string) *velerov1.Backup {
		b.Status.Warnings, b.Status.Errors, b.Status.FailureReason = warnings, errors, failureReason
		return b
	}
	// FailedValidation never starts: only its creation time says how new it is.
	invalid := backupObj("daily-6", "daily", "FailedValidation", h(1))
	invalid.Status.StartTimestamp, invalid.Status.CompletionTimestamp = nil, nil
	invalid.CreationTimestamp = metav1.NewTime(h(1).Add(30 * time.Minute))
	invalid.Status.ValidationErrors = []string{"invalid included namespace"}
	running := backupObj("daily-7", "daily", "InProgress", h(1).Add(45*time.Minute))
	running.Status.CompletionTimestamp = nil
	dyn := fakeDynamic(
		backupObj("daily-1", "daily", "Completed", h(5)),
		counts(backupObj("daily-2", "daily", "PartiallyFailed", h(4)), 1, 2, ""),
		counts(backupObj("daily-3", "daily", "Failed", h(3)), 0, 0, "object storage unreachable"),
		counts(backupObj("daily-4", "daily", "PartiallyFailed", h(2)), 3, 4, ""),
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
		assert.Equal(t, velerov1.BackupPhaseCompleted, rp.Phase)
		assert.Equal(t, float64(5*3600), rp.RPOSeconds)
		assert.Equal(t, []recoverypoint.SkippedBackup{
			{Name: "daily-7", Phase: "InProgress", Time: h(1).Add(45 * time.Minute), Reason: "InProgress: still running (0 errors, 0 warnings so far)"},
			{Name: "daily-6", Phase: "FailedValidation", Time: h(1).Add(30 * time.Minute), Reason: "FailedValidation: invalid included namespace"},
			{Name: "daily-4", Phase: "PartiallyFailed", Time: h(2), Warnings: 3, Errors: 4, Reason: "PartiallyFailed: 4 errors, 3 warnings; allowPartiallyFailed is not set"},
			{Name: "daily-3", Phase: "Failed", Time: h(3), Reason: "Failed: object storage unreachable"},
			{Name: "daily-2", Phase: "PartiallyFailed", Time: h(4), Warnings: 1, Errors: 2, Reason: "PartiallyFailed: 2 errors, 1 warning; allowPartiallyFailed is not set"},
		}, rp.Skipped)
	})
	t.Run("allowPartiallyFailed", func(t *testing.T) {
		rp, err := SelectBackup(ctx, dyn, "velero", BackupSelector{Schedule: "daily", AllowPartiallyFailed: true}, disaster, 0)
		require.NoError(t, err)
		assert.Equal(t, "daily-4", rp.Backup)
		assert.Equal(t, velerov1.BackupPhasePartiallyFailed, rp.Phase)
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
		assert.Equal(t, velerov1.BackupPhasePartiallyFailed, rp.Phase)
	})
	t.Run("none restorable names every one skipped", func(t *testing.T) {
		_, err := SelectBackup(ctx, dyn, "velero", BackupSelector{Schedule: "other"}, disaster, 0)
		require.ErrorIs(t, err, ErrNoBackup)
		assert.Equal(t, `no Completed backup of schedule "other"; not restorable: other-1 (Failed: 0 errors, 0 warnings): no backup to restore`, err.Error())
	})
}

// TestSelectBackup_WaitsForTheSync: a backup named by name that the target
// does not hold yet is chosen as soon as Velero's backup sync creates it.
func TestSelectBackup_WaitsForTheSync(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	disaster := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	dyn := fakeDynamic()
	watches := make(chan struct{}, 10)
	dyn.PrependWatchReactor("backups", func(a k8stesting.Action) (bool, watch.Interface, error) {
		w, err := dyn.Tracker().Watch(backupsGVR, a.GetNamespace())
		watches <- struct{}{}
		return true, w, err
	})
	type out struct {
		rp  *RecoveryPoint
		err error
	}
	done := make(chan out, 1)
	go func() {
		rp, err := SelectBackup(ctx, dyn, "velero", BackupSelector{Name: "synced"}, disaster, time.Minute)
		done <- out{rp, err}
	}()
	<-watches
	_, err := dyn.Resource(backupsGVR).Namespace("velero").Create(ctx,
		unstructuredOf(backupObj("synced", "daily", velerov1.BackupPhaseCompleted, disaster.Add(-time.Hour))).(*unstructured.Unstructured), metav1.CreateOptions{})
	require.NoError(t, err)
	o := <-done
	require.NoError(t, o.err)
	assert.Equal(t, "synced", o.rp.Backup)
	assert.Equal(t, "daily", o.rp.Schedule)
	assert.Equal(t, float64(3600), o.rp.RPOSeconds)

	_, err = SelectBackup(ctx, dyn, "velero", BackupSelector{Name: "never"}, disaster, 100*time.Millisecond)
	assert.ErrorIs(t, err, ErrNoBackup)
	assert.ErrorContains(t, err, `backup "never" not found in namespace velero of the target (waited 100ms for Velero's backup sync)`)
}

// TestSelectBackup_RandomInWindow: a random pick chooses only among the
// Completed backups started inside the window, the same seed always picks
// the same backup, the report says why and with which seed, and an empty
// window is an error that names the window.
func TestSelectBackup_RandomInWindow(t *testing.T) {
	disaster := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	day := func(n int) time.Time { return disaster.Add(-time.Duration(n) * 24 * time.Hour) }
	dyn := fakeDynamic(
		backupObj("nightly-1", "nightly", "Completed", day(1)),
		backupObj("nightly-2", "nightly", "Failed", day(2)),
		backupObj("nightly-3", "nightly", "Completed", day(3)),
		backupObj("nightly-4", "nightly", "PartiallyFailed", day(4)),
		backupObj("nightly-5", "nightly", "Completed", day(5)),
		backupObj("nightly-9", "nightly", "Completed", day(9)), // outside the 7-day window
		backupObj("future", "nightly", "Completed", disaster.Add(time.Hour)),
	)
	ctx := context.Background()
	week := 7 * 24 * time.Hour
	inWindow := []string{"nightly-1", "nightly-3", "nightly-5"}

	picked := map[string]bool{}
	for seed := int64(0); seed < 64; seed++ {
		sel := BackupSelector{Window: &Window{Within: week, Random: true, Seed: &seed}}
		a, err := SelectBackup(ctx, dyn, "velero", sel, disaster, 0)
		require.NoError(t, err)
		b, err := SelectBackup(ctx, dyn, "velero", sel, disaster, 0)
		require.NoError(t, err)
		assert.Equal(t, a.Backup, b.Backup, "seed %d", seed)
		assert.Contains(t, inWindow, a.Backup, "seed %d", seed)
		assert.Equal(t, 3, a.Candidates)
		require.NotNil(t, a.Seed)
		assert.Equal(t, seed, *a.Seed)
		assert.Contains(t, a.Why, fmt.Sprintf("seed %d among 3 Completed backups started within 7d", seed))
		picked[a.Backup] = true
	}
	// Over 64 seeds a pick that ignored the seed, or always took the
	// newest, would not reach every candidate.
	assert.Len(t, picked, 3)

	t.Run("a chosen seed is recorded and fits a float64", func(t *testing.T) {
		sel := BackupSelector{Window: &Window{Within: week, Random: true}}
		rp, err := SelectBackup(ctx, dyn, "velero", sel, disaster, 0)
		require.NoError(t, err)
		require.NotNil(t, rp.Seed)
		assert.GreaterOrEqual(t, *rp.Seed, int64(0))
		assert.Less(t, *rp.Seed, int64(1<<53))
		again, err := SelectBackup(ctx, dyn, "velero", BackupSelector{Window: &Window{Within: week, Random: true, Seed: rp.Seed}}, disaster, 0)
		require.NoError(t, err)
		assert.Equal(t, rp.Backup, again.Backup)
	})
	t.Run("latest says so", func(t *testing.T) {
		rp, err := SelectBackup(ctx, dyn, "velero", BackupSelector{Schedule: "nightly"}, disaster, 0)
		require.NoError(t, err)
		assert.Equal(t, "nightly-1", rp.Backup)
		assert.Nil(t, rp.Seed)
		assert.Equal(t, `the newest of 4 Completed backups of schedule "nightly"`, rp.Why)
	})
	t.Run("empty window", func(t *testing.T) {
		seed := int64(1)
		sel := BackupSelector{Window: &Window{Within: 12 * time.Hour, Random: true, Seed: &seed}}
		_, err := SelectBackup(ctx, dyn, "velero", sel, disaster, 0)
		require.ErrorIs(t, err, ErrNoBackup)
		assert.EqualError(t, err, "no Completed backup started within 12h00m before the disaster "+
			"(from 2026-11-22T00:00:00Z to 2026-11-22T12:00:00Z): no backup to restore")
	})
	t.Run("window of failed backups only", func(t *testing.T) {
		sel := BackupSelector{Window: &Window{Within: 4*24*time.Hour + time.Hour, Random: true}}
		only := fakeDynamic(backupObj("nightly-2", "nightly", "Failed", day(2)))
		_, err := SelectBackup(ctx, only, "velero", sel, disaster, 0)
		require.ErrorIs(t, err, ErrNoBackup)
		assert.ErrorContains(t, err, "not restorable: nightly-2 (Failed: 0 errors, 0 warnings)")
	})
}
