package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/internal/recoverypoint"
)

// maxBackupJSON bounds the velero-backup.json read; real ones are a few KiB.
const maxBackupJSON = 4 << 20

// smallReader reads a small object whole with less client CPU than
// ReadObject: objectstore.S3 does (the recovery window reads one
// velero-backup.json per backup).
type smallReader interface {
	// ReadSmallObject returns objectstore.ErrNotFound, possibly wrapped,
	// when there is no such object, and an error when it is larger than
	// max bytes.
	ReadSmallObject(ctx context.Context, bucket, key string, max int64) ([]byte, error)
}

var _ smallReader = (*objectstore.S3)(nil)

// readVeleroBackup reads and parses the velero-backup.json of a backup:
// the Backup object, as Velero's type, that Velero stores next to each
// backup's data (and its backup sync creates in a cluster).
func readVeleroBackup(ctx context.Context, st ObjectLister, bucket, veleroPrefix, name string) (*velerov1.Backup, error) {
	key := backupPrefix(veleroPrefix, name) + "velero-backup.json"
	var data []byte
	if sr, ok := st.(smallReader); ok {
		var err error
		if data, err = sr.ReadSmallObject(ctx, bucket, key, maxBackupJSON); err != nil {
			return nil, fmt.Errorf("read %s: %w", key, err)
		}
	} else {
		var buf bytes.Buffer
		if _, err := st.ReadObject(ctx, bucket, key, "", &limitedWriter{w: &buf, n: maxBackupJSON}); err != nil {
			return nil, fmt.Errorf("read %s: %w", key, err)
		}
		data = buf.Bytes()
	}
	var vb velerov1.Backup
	if err := json.Unmarshal(data, &vb); err != nil {
		return nil, fmt.Errorf("parse %s: %w", key, err)
	}
	return &vb, nil
}

// utc is t in UTC; zero when t is nil.
func utc(t *metav1.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// backupRef fills the zero times of b from the Backup object.
func backupRef(vb *velerov1.Backup, b BackupRef) BackupRef {
	if b.Name == "" {
		b.Name = vb.Name
	}
	if b.Started.IsZero() {
		b.Started = utc(vb.Status.StartTimestamp)
	}
	if b.Completed.IsZero() {
		b.Completed = utc(vb.Status.CompletionTimestamp)
	}
	if b.Expiration.IsZero() {
		b.Expiration = utc(vb.Status.Expiration)
	}
	if b.TTL == 0 {
		b.TTL = vb.Spec.TTL.Duration
	}
	return b
}

// readBackupTimes fills the zero times of b from the backup's
// velero-backup.json in the primary bucket.
func readBackupTimes(ctx context.Context, st ObjectLister, bucket, veleroPrefix string, b BackupRef) (BackupRef, error) {
	vb, err := readVeleroBackup(ctx, st, bucket, veleroPrefix, b.Name)
	if err != nil {
		return b, err
	}
	return backupRef(vb, b), nil
}

// BackupRecord is a backup as its velero-backup.json in the bucket
// records it.
type BackupRecord struct {
	Name string
	// Phase is status.phase, e.g. Completed, InProgress, Finalizing.
	Phase velerov1.BackupPhase
	// Expiration is status.expiration; zero when the record has none.
	Expiration time.Time
	// Where is "s3://bucket/key at endpoint" of the velero-backup.json.
	Where string
}

// ReadBackupRecord reads the velero-backup.json of backup name under
// veleroPrefix in bucket. It returns objectstore.ErrNotFound, wrapped,
// when there is none, and an error naming the object when it does not
// parse.
func ReadBackupRecord(ctx context.Context, st ObjectLister, bucket, veleroPrefix, name string) (BackupRecord, error) {
	key := backupPrefix(strings.Trim(veleroPrefix, "/"), name) + "velero-backup.json"
	rec := BackupRecord{Name: name, Where: objectstore.URI(bucket, key, "") + " at " + st.Endpoint()}
	vb, err := readVeleroBackup(ctx, st, bucket, strings.Trim(veleroPrefix, "/"), name)
	if err != nil {
		return rec, err
	}
	rec.Phase, rec.Expiration = vb.Status.Phase, utc(vb.Status.Expiration)
	return rec, nil
}

// ErrNoBackup is returned, wrapped, by LatestBackup when no completed
// backup matches.
var ErrNoBackup = errors.New("no completed backup found")

// LatestBackup finds, from the bucket alone, the most recently started
// (of two started in the same second, the later name) Completed backup under <veleroPrefix>/backups/, of the given Velero
// schedule when schedule is not empty (label velero.io/schedule-name);
// with allowPartiallyFailed a PartiallyFailed one counts too, as
// `velero restore create --allow-partially-failed` chooses.
// It reads each backup's velero-backup.json, so it needs no cluster: the
// way `firedrill verify` picks the backup of a scenario that names a
// schedule. The newer backups it passed over (Failed, PartiallyFailed,
// still running) are in BackupRef.Skipped. It returns ErrNoBackup,
// wrapped, when none matches.
func LatestBackup(ctx context.Context, st ObjectLister, bucket, veleroPrefix, schedule string, allowPartiallyFailed bool) (BackupRef, error) {
	dir := keyPrefix(path.Join(strings.Trim(veleroPrefix, "/"), "backups"))
	var names []string
	req := objectstore.ListRequest{Prefix: dir, Delimiter: "/"}
	for {
		p, err := st.ListObjects(ctx, bucket, req)
		if err != nil {
			return BackupRef{}, fmt.Errorf("list backups in s3://%s/%s at %s: %w", bucket, dir, st.Endpoint(), err)
		}
		for _, cp := range p.CommonPrefixes {
			names = append(names, strings.TrimSuffix(strings.TrimPrefix(cp, dir), "/"))
		}
		if !p.IsTruncated {
			break
		}
		if p.NextContinuationToken == "" || p.NextContinuationToken == req.ContinuationToken {
			return BackupRef{}, fmt.Errorf("list backups in s3://%s/%s at %s: the server's continuation token does not advance", bucket, dir, st.Endpoint())
		}
		req.ContinuationToken = p.NextContinuationToken
	}
	var best *velerov1.Backup
	var errs []error
	var notRestorable []*velerov1.Backup
	for _, n := range names {
		vb, err := readVeleroBackup(ctx, st, bucket, veleroPrefix, n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if schedule != "" && vb.Labels[velerov1.ScheduleNameLabel] != schedule {
			continue
		}
		if !recoverypoint.Restorable(vb, allowPartiallyFailed) {
			notRestorable = append(notRestorable, vb)
			continue
		}
		// Velero's timestamps have whole seconds: two backups started in
		// the same second are told apart by name, later first, as the
		// drill's recovery point does (restore.candidates);
		// scheduled backups are named <schedule>-<yyyymmddhhmmss>.
		if best == nil || vb.Status.StartTimestamp.After(best.Status.StartTimestamp.Time) ||
			vb.Status.StartTimestamp.Equal(best.Status.StartTimestamp) && vb.Name > best.Name {
			best = vb
		}
	}
	if best == nil {
		what := "backup"
		if schedule != "" {
			what = "backup of schedule " + schedule
		}
		err := fmt.Errorf("%w: no Completed %s among %d in s3://%s/%s at %s", ErrNoBackup, what, len(names), bucket, dir, st.Endpoint())
		if skipped := skippedAfter(notRestorable, time.Time{}, allowPartiallyFailed); len(skipped) > 0 {
			err = fmt.Errorf("%w; not restorable: %s", err, recoverypoint.Join(skipped))
		}
		return BackupRef{}, errors.Join(append([]error{err}, errs...)...)
	}
	ref := backupRef(best, BackupRef{Phase: string(best.Status.Phase), Warnings: best.Status.Warnings, Errors: best.Status.Errors})
	ref.Skipped = skippedAfter(notRestorable, best.Status.StartTimestamp.UTC(), allowPartiallyFailed)
	return ref, nil
}

// skippedAfter are the backups of bs started after t (all of them when t
// is zero; a backup that never started counts as newest), newest first.
func skippedAfter(bs []*velerov1.Backup, t time.Time, allowPartiallyFailed bool) []recoverypoint.SkippedBackup {
	var newer []*velerov1.Backup
	for _, vb := range bs {
		if st := vb.Status.StartTimestamp; t.IsZero() || st == nil || st.UTC().After(t) {
			newer = append(newer, vb)
		}
	}
	slices.SortStableFunc(newer, func(a, b *velerov1.Backup) int {
		as, bs := a.Status.StartTimestamp, b.Status.StartTimestamp
		switch {
		case (as == nil) != (bs == nil):
			if as == nil {
				return -1
			}
			return 1
		case as != nil && !as.Equal(bs):
			return bs.Compare(as.Time)
		}
		return strings.Compare(b.Name, a.Name)
	})
	out := make([]recoverypoint.SkippedBackup, len(newer))
	for i, vb := range newer {
		out[i] = recoverypoint.Skip(vb, allowPartiallyFailed)
	}
	return out
}

type limitedWriter struct {
	w io.Writer
	n int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.n {
		return 0, errors.New("velero-backup.json larger than 4 MiB")
	}
	l.n -= int64(len(p))
	return l.w.Write(p)
}
