package backup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/firedrill-dev/firedrill/internal/durfmt"
	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// Finding IDs of the bucket checks; copies use "protection.copy.<name>.bucket.*".
const (
	idVersioning       = "versioning"
	idObjectLock       = "object-lock"
	idRetentionMode    = "retention-mode"
	idRetentionPeriod  = "retention-period"
	idCoversExpiration = "retention-covers-expiration"
)

const hintNoLock = "object lock can only be switched on when a bucket is created (MinIO, Versity; AWS also on versioned buckets): " +
	"create a bucket with object lock and a COMPLIANCE default retention, and point Velero's storage location at it"

// bucketSubject is "s3://bucket at endpoint".
func bucketSubject(st interface{ Endpoint() string }, bucket string) string {
	return fmt.Sprintf("s3://%s at %s", bucket, st.Endpoint())
}

// bucketCheck is the outcome of checkBucket, for the checks that follow.
type bucketCheck struct {
	lock objectstore.LockConfig
	// lockEnabled is true when the bucket has object lock, with or without
	// a default retention: each version's own retention can protect it.
	lockEnabled bool
	// locked is true when object lock is enabled with a default retention.
	locked bool
	// unreachable is true when the bucket could not be read at all: the
	// store is unreachable, the credentials are refused or the bucket does
	// not exist. Further checks on it would only repeat the error.
	unreachable bool
}

// checkBucket checks versioning, object lock, the default retention's mode
// and period, and that the period covers the backup's TTL. It returns an
// error when a setting could not be read.
func checkBucket(ctx context.Context, st BucketConfigReader, bucket, idPrefix string, req LockRequirement, b BackupRef) ([]finding.Finding, bucketCheck, error) {
	subject := bucketSubject(st, bucket)
	id := func(s string) string { return idPrefix + "." + s }
	var fs []finding.Finding
	var out bucketCheck

	v, err := st.BucketVersioning(ctx, bucket)
	if err != nil {
		out.unreachable = unreachable(err)
		f := finding.Fail(id(idVersioning), finding.SeverityFail, subject, fmt.Sprintf("cannot read the bucket's versioning: %v", err))
		return append(fs, f.With("", "", accessHint(err))), out, fmt.Errorf("check bucket: %w", err)
	}
	if v == "Enabled" {
		fs = append(fs, finding.Pass(id(idVersioning), subject, "versioning is enabled").With("Enabled", v, ""))
	} else {
		fs = append(fs, finding.Fail(id(idVersioning), finding.SeverityFail, subject,
			"versioning is not enabled: an overwrite or delete destroys the only copy of an object").
			With("Enabled", orNone(v, "never enabled"), "object lock needs versioning; "+hintNoLock))
	}

	lock, err := st.ObjectLockConfig(ctx, bucket)
	switch {
	case errors.Is(err, objectstore.ErrNoObjectLockConfig):
		fs = append(fs, finding.Fail(id(idObjectLock), finding.SeverityFail, subject,
			"the bucket has no object lock: anyone holding the backup credentials can delete every backup").
			With("Enabled", "no object lock configuration", hintNoLock))
		return fs, out, nil
	case err != nil:
		out.unreachable = unreachable(err)
		f := finding.Fail(id(idObjectLock), finding.SeverityFail, subject, fmt.Sprintf("cannot read the object lock configuration: %v", err))
		return append(fs, f.With("", "", accessHint(err))), out, fmt.Errorf("check bucket: %w", err)
	case !lock.Enabled:
		fs = append(fs, finding.Fail(id(idObjectLock), finding.SeverityFail, subject, "object lock is not enabled").
			With("Enabled", "not enabled", hintNoLock))
		return fs, out, nil
	}
	out.lock, out.lockEnabled = lock, true
	fs = append(fs, finding.Pass(id(idObjectLock), subject, "object lock is enabled").With("Enabled", "Enabled", ""))

	if lock.DefaultMode == "" {
		// Objects written with a retention of their own (or given one
		// later) are still protected: the object checks judge each
		// version by its own. This finding is about the next writes.
		fs = append(fs, finding.Fail(id(idRetentionMode), finding.SeverityFail, subject,
			"the bucket has no default retention: every new object (Velero sets none) carries no lock "+
				"until something stamps a retention on it, and can be deleted until then").
			With(orNone(string(req.Mode), "a default retention"), "none",
				"set a default retention, e.g. `mc retention set --default COMPLIANCE 30d` or PutObjectLockConfiguration; "+
					"a job that stamps each object after the write leaves every new backup unprotected until it runs"))
		return fs, out, nil
	}
	out.locked = true
	fs = append(fs, modeFinding(id(idRetentionMode), subject, "default retention mode", req, lock.DefaultMode))

	period := lock.DefaultPeriod()
	switch {
	case req.MinRetention > 0 && period < req.MinRetention:
		fs = append(fs, finding.Fail(id(idRetentionPeriod), finding.SeverityFail, subject,
			fmt.Sprintf("default retention %s is shorter than the required %s", durText(period), durText(req.MinRetention))).
			With("at least "+durText(req.MinRetention), durText(period), "raise the bucket's default retention"))
	default:
		msg := fmt.Sprintf("default retention is %s", durText(period))
		if req.MinRetention > 0 {
			msg += fmt.Sprintf(", at least the required %s", durText(req.MinRetention))
		}
		fs = append(fs, finding.Pass(id(idRetentionPeriod), subject, msg).With(atLeast(req.MinRetention), durText(period), ""))
	}

	if b.Name != "" || b.TTL > 0 {
		fs = append(fs, coversTTL(id(idCoversExpiration), subject, period, b))
	}
	return fs, out, nil
}

// coversTTL checks that a backup kept for its TTL stays within the
// default retention: otherwise it outlives its protection.
func coversTTL(id, subject string, period time.Duration, b BackupRef) finding.Finding {
	ttl := b.TTL
	if ttl <= 0 && !b.Expiration.IsZero() && !b.Started.IsZero() {
		ttl = b.Expiration.Sub(b.Started)
	}
	if ttl <= 0 {
		return finding.Warn(id, subject, fmt.Sprintf("the TTL of backup %s is unknown: cannot tell whether it outlives its protection", b.Name)).
			With("default retention >= backup TTL", "TTL unknown", "make sure velero-backup.json of the backup is readable, or pass the TTL")
	}
	if period < ttl {
		return finding.Fail(id, finding.SeverityFail, subject,
			fmt.Sprintf("backups are kept for %s but locked for only %s: for the last %s of its life backup %s can be deleted",
				durText(ttl), durText(period), durText(ttl-period), orNone(b.Name, "each"))).
			With("default retention >= backup TTL "+durText(ttl), durText(period),
				"raise the default retention to at least the TTL of the Velero schedule, or shorten the TTL")
	}
	return finding.Pass(id, subject, fmt.Sprintf("default retention %s covers the backup TTL %s", durText(period), durText(ttl))).
		With(">= "+durText(ttl), durText(period), "")
}

// modeFinding compares a retention mode with the requirement.
func modeFinding(id, subject, what string, req LockRequirement, mode objectstore.LockMode) finding.Finding {
	want := string(req.Mode)
	switch {
	case req.Mode == objectstore.Compliance && mode == objectstore.Governance && req.AllowGovernance:
		return finding.Warn(id, subject, fmt.Sprintf("%s is GOVERNANCE, accepted by the scenario; users with s3:BypassGovernanceRetention can still delete", what)).
			With(want, string(mode), "use COMPLIANCE so no credential can shorten or remove the lock")
	case req.Mode == objectstore.Compliance && mode != objectstore.Compliance:
		return finding.Fail(id, finding.SeverityFail, subject,
			fmt.Sprintf("%s is %s, weaker than the required COMPLIANCE: users with s3:BypassGovernanceRetention can delete backups", what, mode)).
			With(want, string(mode), "set COMPLIANCE (existing objects keep their mode), or allow GOVERNANCE in the scenario")
	}
	return finding.Pass(id, subject, fmt.Sprintf("%s is %s", what, mode)).With(orNone(want, "any"), string(mode), "")
}

// unreachable reports whether err means the bucket cannot be read at all.
func unreachable(err error) bool {
	if errors.Is(err, objectstore.ErrNoSuchBucket) || errors.Is(err, objectstore.ErrInvalidCredentials) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var e *objectstore.Error
	// No answer at all: a network error.
	return errors.As(err, &e) && e.StatusCode == 0 && e.Kind == nil
}

func accessHint(err error) string {
	switch {
	case errors.Is(err, objectstore.ErrNoSuchBucket):
		return "check the bucket name and the endpoint"
	case errors.Is(err, objectstore.ErrInvalidCredentials):
		return "check the credentials the scenario references (the access key is unknown or the secret is wrong)"
	case errors.Is(err, objectstore.ErrAccessDenied):
		return "the credentials need s3:GetBucketVersioning, s3:GetBucketObjectLockConfiguration, s3:ListBucket(Versions), s3:GetObject(Version), s3:GetObjectRetention"
	}
	return "check that the endpoint is reachable from here"
}

// durText is d as every report writes a duration (durfmt): a retention
// period of 7 days reads 7d in its finding and in the report's window.
func durText(d time.Duration) string { return durfmt.Seconds(d.Seconds()) }

func atLeast(d time.Duration) string {
	if d <= 0 {
		return "any"
	}
	return "at least " + durText(d)
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}
