package restore

import (
	"context"
	"fmt"
	"strings"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BucketRecord is a backup as the bucket of its storage location records
// it: the velero-backup.json Velero writes next to the backup's data,
// from which Velero's backup sync creates the Backup object in a cluster.
type BucketRecord struct {
	// Phase is the record's status.phase.
	Phase velerov1.BackupPhase
	// Expiration is status.expiration; zero when the record has none.
	Expiration time.Time
	// Where names the record, e.g. "s3://velero-backups/lab/backups/b/velero-backup.json at http://127.0.0.1:27000".
	Where string
}

// BucketRecordReader reads the bucket's record of the backup name. A drill
// gives one reading the bucket of its storage location; any error (no
// such record, bucket unreachable) leaves the drill waiting for the sync
// as it would without a reader.
type BucketRecordReader func(ctx context.Context, name string) (BucketRecord, error)

// Synced reports whether Velero's backup sync creates a Backup object from
// a record in this phase at time now: finished backups (Completed,
// PartiallyFailed, Failed) always, backups still waiting for plugin
// operations or finalizing only once expired (for garbage collection, as
// PartiallyFailed), any other phase (New, InProgress, none) never.
// Source: Velero v1.18 pkg/controller/backup_sync_controller.go.
func (r BucketRecord) Synced(now time.Time) bool {
	switch r.Phase {
	case velerov1.BackupPhaseCompleted, velerov1.BackupPhasePartiallyFailed, velerov1.BackupPhaseFailed:
		return true
	case velerov1.BackupPhaseWaitingForPluginOperations, velerov1.BackupPhaseWaitingForPluginOperationsPartiallyFailed,
		velerov1.BackupPhaseFinalizing, velerov1.BackupPhaseFinalizingPartiallyFailed:
		return !r.Expiration.IsZero() && !r.Expiration.After(now)
	}
	return false
}

// neverSynced returns an error, wrapping ErrNoBackup, when the backup
// named by sel is not in the target and the bucket's own record says
// Velero's backup sync will never bring it: the drill need not wait for
// the sync to say so. It returns nil when the backup is in the target,
// when the sync may still bring it, or when the record cannot be read.
func (s *Session) neverSynced(ctx context.Context, name string) error {
	read := s.opts.BucketRecord
	if read == nil || name == "" {
		return nil
	}
	_, err := s.t.Dynamic.Resource(backupsGVR).Namespace(s.spec.VeleroNamespace).Get(ctx, name, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		return nil
	}
	rec, err := read(ctx, name)
	if err != nil {
		s.opts.Log.Debug("bucket record of the backup unreadable; waiting for Velero's backup sync", "backup", name, "err", err)
		return nil
	}
	now := s.opts.Now()
	if rec.Synced(now) {
		return nil
	}
	phase := string(rec.Phase)
	if phase == "" {
		phase = "without a phase"
	}
	why := "its metadata never completed: Velero rewrites velero-backup.json with the final phase when the backup ends, " +
		"and that never happened (the backup was cut off, or the bucket refused the overwrite: some S3 implementations refuse it under object lock)"
	if strings.HasPrefix(phase, "WaitingForPluginOperations") || strings.HasPrefix(phase, "Finalizing") {
		why = fmt.Sprintf("Velero syncs a backup in this phase only once it has expired (%s), and its metadata was never completed: "+
			"the final rewrite of velero-backup.json did not happen (some S3 implementations refuse it under object lock)", expiry(rec.Expiration))
	}
	return fmt.Errorf("backup %q is %s in its bucket (%s), a phase Velero's backup sync never brings into a cluster, "+
		"so no cluster will ever have it to restore: %s; check the Velero logs of the source cluster for the backup "+
		"and the bucket's answer to that write, then restore from a Completed backup: %w",
		name, phase, rec.Where, why, ErrNoBackup)
}

func expiry(t time.Time) string {
	if t.IsZero() {
		return "this record has no expiration"
	}
	return "expiration " + t.UTC().Format(time.RFC3339)
}
