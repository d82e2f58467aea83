package backup

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// veleroBackupJSON is b as Velero writes velero-backup.json: its Backup
// object, JSON-encoded, with its kind.
func veleroBackupJSON(t *testing.T, b *velerov1.Backup) []byte {
	t.Helper()
	b.TypeMeta = metav1.TypeMeta{APIVersion: velerov1.SchemeGroupVersion.String(), Kind: "Backup"}
	out, err := json.Marshal(b)
	require.NoError(t, err)
	return out
}

// backupObj is a backup of schedule (none when empty) in phase, started at
// start (never started when zero).
func backupObj(name, schedule string, phase velerov1.BackupPhase, start time.Time) *velerov1.Backup {
	b := &velerov1.Backup{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "velero"}, Status: velerov1.BackupStatus{Phase: phase}}
	if schedule != "" {
		b.Labels = map[string]string{velerov1.ScheduleNameLabel: schedule}
	}
	if !start.IsZero() {
		b.Status.StartTimestamp = ptr.To(metav1.NewTime(start))
	}
	return b
}

func TestLatestBackup(t *testing.T) {
	f := newFixture(t).build()
	ctx := context.Background()
	put := func(name, schedule string, phase velerov1.BackupPhase, start time.Time) {
		b := backupObj(name, schedule, phase, start)
		b.Spec.TTL = metav1.Duration{Duration: 24 * time.Hour}
		b.Status.Expiration = ptr.To(metav1.NewTime(start.Add(24 * time.Hour)))
		_, err := f.primary.PutObject(ctx, bucketPrimary, backupPrefix(veleroPrefix, name)+"velero-backup.json", veleroBackupJSON(t, b), objectstore.PutOptions{})
		require.NoError(t, err)
	}
	put("daily-1", "daily", "Completed", t0.Add(-48*time.Hour))
	put("daily-2", "daily", "Completed", t0.Add(-24*time.Hour))
	put("daily-3", "daily", "PartiallyFailed", t0.Add(-time.Hour))
	put("manual", "", "Completed", t0.Add(30*time.Minute))

	b, err := LatestBackup(ctx, f.primary, bucketPrimary, veleroPrefix, "daily", false)
	require.NoError(t, err)
	assert.Equal(t, "daily-2", b.Name)
	assert.Equal(t, 24*time.Hour, b.TTL)
	assert.Equal(t, t0, b.Expiration)
	assert.Equal(t, t0.Add(-24*time.Hour), b.Started)

	b, err = LatestBackup(ctx, f.primary, bucketPrimary, veleroPrefix, "", false)
	require.NoError(t, err)
	assert.Equal(t, "manual", b.Name)

	// Two backups started in the same (whole) second: the later name,
	// whatever order the bucket lists them in.
	put("hourly-20261201052948", "hourly", "Completed", t0.Add(-time.Minute))
	put("hourly-20261201052947", "hourly", "Completed", t0.Add(-time.Minute))
	put("hourly-20261201052946", "hourly", "Completed", t0.Add(-2*time.Minute))
	b, err = LatestBackup(ctx, f.primary, bucketPrimary, veleroPrefix, "hourly", false)
	require.NoError(t, err)
	assert.Equal(t, "hourly-20261201052948", b.Name)

	_, err = LatestBackup(ctx, f.primary, bucketPrimary, veleroPrefix, "weekly", false)
	assert.ErrorIs(t, err, ErrNoBackup)
	// "older" has no velero-backup.json: named in the error, not fatal.
	assert.ErrorContains(t, err, "older/velero-backup.json")
}

func TestReadBackupRecord(t *testing.T) {
	f := newFixture(t).build()
	ctx := context.Background()
	rec, err := ReadBackupRecord(ctx, f.primary, bucketPrimary, "/"+veleroPrefix+"/", backupName)
	require.NoError(t, err)
	assert.Equal(t, BackupRecord{Name: backupName, Phase: "Completed", Expiration: t0.Add(7 * 24 * time.Hour),
		Where: "s3://velero/cluster-a/backups/" + backupName + "/velero-backup.json at http://primary.test:9000"}, rec)

	_, err = f.primary.PutObject(ctx, bucketPrimary, backupPrefix(veleroPrefix, "stuck")+"velero-backup.json",
		veleroBackupJSON(t, backupObj("stuck", "", velerov1.BackupPhaseFinalizing, time.Time{})), objectstore.PutOptions{})
	require.NoError(t, err)
	rec, err = ReadBackupRecord(ctx, f.primary, bucketPrimary, veleroPrefix, "stuck")
	require.NoError(t, err)
	assert.Equal(t, velerov1.BackupPhaseFinalizing, rec.Phase)
	assert.True(t, rec.Expiration.IsZero())

	_, err = ReadBackupRecord(ctx, f.primary, bucketPrimary, veleroPrefix, "none")
	assert.ErrorIs(t, err, objectstore.ErrNotFound)
}

// TestLatestBackup_ReportsSkippedNewerBackups: the backups newer than the
// one chosen that could not be restored are named with their phase and
// counts, in the words the restore uses (recoverypoint.Reason);
// allowPartiallyFailed makes a PartiallyFailed one the choice.
func TestLatestBackup_ReportsSkippedNewerBackups(t *testing.T) {
	f := newFixture(t).build()
	ctx := context.Background()
	put := func(name string, phase velerov1.BackupPhase, start time.Time, warnings, errs int) {
		b := backupObj(name, "daily", phase, start)
		b.Status.Warnings, b.Status.Errors = warnings, errs
		_, err := f.primary.PutObject(ctx, bucketPrimary, backupPrefix(veleroPrefix, name)+"velero-backup.json", veleroBackupJSON(t, b), objectstore.PutOptions{})
		require.NoError(t, err)
	}
	put("daily-1", "Completed", t0.Add(-3*time.Hour), 0, 0)
	put("daily-2", "PartiallyFailed", t0.Add(-2*time.Hour), 1, 2)
	put("daily-3", "Failed", t0.Add(-time.Hour), 0, 0)
	put("daily-4", "InProgress", t0.Add(-time.Minute), 0, 0)

	b, err := LatestBackup(ctx, f.primary, bucketPrimary, veleroPrefix, "daily", false)
	require.NoError(t, err)
	assert.Equal(t, "daily-1", b.Name)
	assert.Equal(t, "Completed", b.Phase)
	var got []string
	for _, s := range b.Skipped {
		got = append(got, s.Name+" ("+s.Reason+")")
	}
	assert.Equal(t, []string{
		"daily-4 (InProgress: still running (0 errors, 0 warnings so far))",
		"daily-3 (Failed: 0 errors, 0 warnings)",
		"daily-2 (PartiallyFailed: 2 errors, 1 warning; allowPartiallyFailed is not set)",
	}, got)

	b, err = LatestBackup(ctx, f.primary, bucketPrimary, veleroPrefix, "daily", true)
	require.NoError(t, err)
	assert.Equal(t, "daily-2", b.Name)
	assert.Equal(t, "PartiallyFailed", b.Phase)
	assert.Equal(t, 2, b.Errors)
	assert.Equal(t, 1, b.Warnings)
	assert.Len(t, b.Skipped, 2)
}
