package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// veleroBackup is the part of a velero-backup.json the checks read: the
// Backup object Velero stores next to each backup's data.
type veleroBackup struct {
	Metadata struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		TTL string `json:"ttl"`
	} `json:"spec"`
	Status struct {
		Phase               string     `json:"phase"`
		StartTimestamp      *time.Time `json:"startTimestamp"`
		CompletionTimestamp *time.Time `json:"completionTimestamp"`
		Expiration          *time.Time `json:"expiration"`
	} `json:"status"`
}

// maxBackupJSON bounds the velero-backup.json read; real ones are a few KiB.
const maxBackupJSON = 4 << 20

// readVeleroBackup reads and parses the velero-backup.json of a backup.
func readVeleroBackup(ctx context.Context, st ObjectLister, bucket, veleroPrefix, name string) (veleroBackup, error) {
	key := backupPrefix(veleroPrefix, name) + "velero-backup.json"
	var buf bytes.Buffer
	var vb veleroBackup
	if _, err := st.ReadObject(ctx, bucket, key, "", &limitedWriter{w: &buf, n: maxBackupJSON}); err != nil {
		return vb, fmt.Errorf("read %s: %w", key, err)
	}
	if err := json.Unmarshal(buf.Bytes(), &vb); err != nil {
		return vb, fmt.Errorf("parse %s: %w", key, err)
	}
	return vb, nil
}

// ref fills the zero times of b from the Backup object.
func (vb veleroBackup) ref(b BackupRef) (BackupRef, error) {
	if b.Name == "" {
		b.Name = vb.Metadata.Name
	}
	if b.Started.IsZero() && vb.Status.StartTimestamp != nil {
		b.Started = *vb.Status.StartTimestamp
	}
	if b.Expiration.IsZero() && vb.Status.Expiration != nil {
		b.Expiration = *vb.Status.Expiration
	}
	if b.TTL == 0 && vb.Spec.TTL != "" {
		ttl, err := time.ParseDuration(vb.Spec.TTL)
		if err != nil {
			return b, fmt.Errorf("parse spec.ttl %q of backup %s: %w", vb.Spec.TTL, b.Name, err)
		}
		b.TTL = ttl
	}
	return b, nil
}

// readBackupTimes fills the zero times of b from the backup's
// velero-backup.json in the primary bucket.
func readBackupTimes(ctx context.Context, st ObjectLister, bucket, veleroPrefix string, b BackupRef) (BackupRef, error) {
	vb, err := readVeleroBackup(ctx, st, bucket, veleroPrefix, b.Name)
	if err != nil {
		return b, err
	}
	return vb.ref(b)
}

// BackupRecord is a backup as its velero-backup.json in the bucket
// records it.
type BackupRecord struct {
	Name string
	// Phase is status.phase, e.g. "Completed", "InProgress", "Finalizing".
	Phase string
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
	rec.Phase = vb.Status.Phase
	if vb.Status.Expiration != nil {
		rec.Expiration = *vb.Status.Expiration
	}
	return rec, nil
}

// ErrNoBackup is returned, wrapped, by LatestBackup when no completed
// backup matches.
var ErrNoBackup = errors.New("no completed backup found")

// LatestBackup finds, from the bucket alone, the most recently started
// (of two started in the same second, the later name) Completed backup under <veleroPrefix>/backups/, of the given Velero
// schedule when schedule is not empty (label velero.io/schedule-name).
// It reads each backup's velero-backup.json, so it needs no cluster: the
// way `firedrill verify` picks the backup of a scenario that names a
// schedule. It returns ErrNoBackup, wrapped, when none matches.
func LatestBackup(ctx context.Context, st ObjectLister, bucket, veleroPrefix, schedule string) (BackupRef, error) {
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
	var best veleroBackup
	var errs []error
	for _, n := range names {
		vb, err := readVeleroBackup(ctx, st, bucket, veleroPrefix, n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if vb.Status.Phase != "Completed" || vb.Status.StartTimestamp == nil ||
			schedule != "" && vb.Metadata.Labels["velero.io/schedule-name"] != schedule {
			continue
		}
		// Velero's timestamps have whole seconds: two backups started in
		// the same second are told apart by name, later first, as the
		// drill's recovery point does (restore.candidates);
		// scheduled backups are named <schedule>-<yyyymmddhhmmss>.
		if best.Status.StartTimestamp == nil || vb.Status.StartTimestamp.After(*best.Status.StartTimestamp) ||
			vb.Status.StartTimestamp.Equal(*best.Status.StartTimestamp) && vb.Metadata.Name > best.Metadata.Name {
			best = vb
		}
	}
	if best.Status.StartTimestamp == nil {
		what := "backup"
		if schedule != "" {
			what = "backup of schedule " + schedule
		}
		err := fmt.Errorf("%w: no Completed %s among %d in s3://%s/%s at %s", ErrNoBackup, what, len(names), bucket, dir, st.Endpoint())
		return BackupRef{}, errors.Join(append([]error{err}, errs...)...)
	}
	return best.ref(BackupRef{})
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
