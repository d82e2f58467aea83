package backup

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

func TestLatestBackup(t *testing.T) {
	f := newFixture(t).build()
	ctx := context.Background()
	put := func(name, schedule, phase string, start time.Time) {
		labels := ""
		if schedule != "" {
			labels = fmt.Sprintf(`,"labels":{"velero.io/schedule-name":%q}`, schedule)
		}
		body := fmt.Sprintf(`{"metadata":{"name":%q%s},"spec":{"ttl":"24h0m0s"},"status":{"phase":%q,"startTimestamp":%q,"expiration":%q}}`,
			name, labels, phase, start.Format(time.RFC3339), start.Add(24*time.Hour).Format(time.RFC3339))
		_, err := f.primary.PutObject(ctx, bucketPrimary, backupPrefix(veleroPrefix, name)+"velero-backup.json", []byte(body), objectstore.PutOptions{})
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
	assert.Equal(t, t0, b.Expiration.UTC())

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
		[]byte(`{"metadata":{"name":"stuck"},"status":{"phase":"Finalizing"}}`), objectstore.PutOptions{})
	require.NoError(t, err)
	rec, err = ReadBackupRecord(ctx, f.primary, bucketPrimary, veleroPrefix, "stuck")
	require.NoError(t, err)
	assert.Equal(t, "Finalizing", rec.Phase)
	assert.True(t, rec.Expiration.IsZero())

	_, err = ReadBackupRecord(ctx, f.primary, bucketPrimary, veleroPrefix, "none")
	assert.ErrorIs(t, err, objectstore.ErrNotFound)
}

// TestLatestBackup_ReportsSkippedNewerBackups: the backups newer than the
// one chosen that could not be restored are named with their phase and
// counts; allowPartiallyFailed makes a PartiallyFailed one the choice.
func TestLatestBackup_ReportsSkippedNewerBackups(t *testing.T) {
	f := newFixture(t).build()
	ctx := context.Background()
	put := func(name, phase string, start time.Time, warnings, errs int) {
		started := ""
		if !start.IsZero() {
			started = fmt.Sprintf(`,"startTimestamp":%q`, start.Format(time.RFC3339))
		}
		body := fmt.Sprintf(`{"metadata":{"name":%q,"labels":{"velero.io/schedule-name":"daily"}},"status":{"phase":%q%s,"warnings":%d,"errors":%d}}`,
			name, phase, started, warnings, errs)
		_, err := f.primary.PutObject(ctx, bucketPrimary, backupPrefix(veleroPrefix, name)+"velero-backup.json", []byte(body), objectstore.PutOptions{})
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
		"daily-4 (InProgress: 0 errors, 0 warnings so far; not finished)",
		"daily-3 (Failed: 0 errors, 0 warnings)",
		"daily-2 (PartiallyFailed: 2 errors, 1 warnings; allowPartiallyFailed is not set)",
	}, got)

	b, err = LatestBackup(ctx, f.primary, bucketPrimary, veleroPrefix, "daily", true)
	require.NoError(t, err)
	assert.Equal(t, "daily-2", b.Name)
	assert.Equal(t, "PartiallyFailed", b.Phase)
	assert.Equal(t, 2, b.Errors)
	assert.Equal(t, 1, b.Warnings)
	assert.Len(t, b.Skipped, 2)
}
