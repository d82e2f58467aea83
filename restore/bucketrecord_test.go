package restore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
)

// TestRecoveryPoint_BucketRecordNeverSynced: a backup named by the
// scenario that the target does not hold, whose velero-backup.json in the
// bucket still says InProgress or Finalizing (issue 14, item 3), is
// reported at once with its phase and why no cluster will sync it,
// instead of "not found" after waiting for the sync. A record the sync
// does bring leaves the drill waiting as before.
func TestRecoveryPoint_BucketRecordNeverSynced(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	const where = "s3://velero-backups/lab/backups/daily-1/velero-backup.json at http://127.0.0.1:27000"
	cases := []struct {
		name    string
		rec     BucketRecord
		readErr error
		want    []string // in the error; empty: the usual not-found after the wait
	}{
		{"InProgress", BucketRecord{Phase: velerov1.BackupPhaseInProgress}, nil,
			[]string{`backup "daily-1" is InProgress in its bucket (` + where + `)`, "no cluster will ever have it to restore", "its metadata never completed"}},
		{"Finalizing, not expired", BucketRecord{Phase: velerov1.BackupPhaseFinalizing, Expiration: now.Add(time.Hour)}, nil,
			[]string{"is Finalizing in its bucket", "only once it has expired (expiration 2026-12-01T10:00:00Z)", "refuse it under object lock"}},
		{"no phase", BucketRecord{}, nil, []string{"is without a phase in its bucket"}},
		{"Finalizing, expired: synced as PartiallyFailed", BucketRecord{Phase: velerov1.BackupPhaseFinalizing, Expiration: now.Add(-time.Hour)}, nil, nil},
		{"Completed: the sync brings it", BucketRecord{Phase: velerov1.BackupPhaseCompleted}, nil, nil},
		{"record unreadable", BucketRecord{}, errors.New("access denied"), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.rec.Where = where
			var asked []string
			s, err := NewSession(Target{Dynamic: fakeDynamic()}, defaulted(Spec{DrillID: "fd-t", IncludedNamespaces: []string{"shop"}, Backup: BackupSelector{Name: "daily-1"}}),
				Options{Now: func() time.Time { return now }, BackupSyncWait: -1, BucketRecord: func(_ context.Context, name string) (BucketRecord, error) {
					asked = append(asked, name)
					return tc.rec, tc.readErr
				}})
			require.NoError(t, err)
			_, err = s.RecoveryPoint(context.Background())
			require.ErrorIs(t, err, ErrNoBackup)
			assert.Equal(t, []string{"daily-1"}, asked)
			if len(tc.want) == 0 {
				assert.Contains(t, err.Error(), `backup "daily-1" not found in namespace velero of the target`)
				return
			}
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "not found")
		})
	}
}

// TestRecoveryPoint_BucketRecordNotReadWhenTheTargetHasTheBackup: the
// bucket is read only for a backup the target lacks.
func TestRecoveryPoint_BucketRecordNotReadWhenTheTargetHasTheBackup(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	read := 0
	s, err := NewSession(Target{Dynamic: fakeDynamic(backupObj("daily-1", "daily", "Completed", now.Add(-time.Hour)))},
		defaulted(Spec{DrillID: "fd-t", IncludedNamespaces: []string{"shop"}, Backup: BackupSelector{Name: "daily-1"}}),
		Options{Now: func() time.Time { return now }, BackupSyncWait: -1, BucketRecord: func(context.Context, string) (BucketRecord, error) {
			read++
			return BucketRecord{Phase: velerov1.BackupPhaseInProgress}, nil
		}})
	require.NoError(t, err)
	rp, err := s.RecoveryPoint(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "daily-1", rp.Backup)
	assert.Zero(t, read)
}
