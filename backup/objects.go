package backup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// Finding IDs of the backup object checks.
const (
	idBackupObjects   = "protection.backup.objects"
	idBackupRetention = "protection.backup.retention"
	idObjectRetention = "protection.backup.object-retention"
	idDeleteMarker    = "protection.backup.delete-marker"
)

// maxObjectFindings bounds the per-version findings; the summary counts all.
const maxObjectFindings = 20

// versionRetention is the retention that applies to one object version.
type versionRetention struct {
	v        objectstore.ObjectInfo
	ret      objectstore.Retention
	stamped  bool // the version carries it; otherwise the bucket default applies
	required time.Time
	problem  string
	err      error
}

// checkObjects checks that every version of every object of the backup is
// retained, in the required mode, at least until the backup expires.
func checkObjects(ctx context.Context, spec ProtectionSpec, bc bucketCheck, co canaryOutcome) ([]finding.Finding, error) {
	st, bucket := spec.Primary.Store, spec.Primary.Bucket
	prefix := backupPrefix(spec.Primary.Prefix, spec.Backup.Name)
	subject := fmt.Sprintf("s3://%s/%s at %s", bucket, prefix, st.Endpoint())

	var versions []objectstore.ObjectInfo
	var markers []string
	req := objectstore.VersionsRequest{Prefix: prefix}
	for {
		p, err := st.ListVersions(ctx, bucket, req)
		if err != nil {
			return []finding.Finding{finding.Fail(idBackupObjects, finding.SeverityFail, subject, fmt.Sprintf("cannot list the backup's object versions: %v", err)).
				With("", "", accessHint(err))}, fmt.Errorf("list versions of backup %s: %w", spec.Backup.Name, err)
		}
		for _, v := range p.Versions {
			switch {
			case v.DeleteMarker && v.IsLatest:
				markers = append(markers, v.Key)
			case !v.DeleteMarker:
				versions = append(versions, v)
			}
		}
		if !p.IsTruncated {
			break
		}
		if p.NextKeyMarker == "" || p.NextKeyMarker == req.KeyMarker && p.NextVersionIDMarker == req.VersionIDMarker {
			// Versity 1.8.0 ignores the version-id marker and answers the
			// same page forever.
			err := fmt.Errorf("list versions of s3://%s/%s at %s: the server repeats a page (markers %q %q not honoured)",
				bucket, prefix, st.Endpoint(), req.KeyMarker, req.VersionIDMarker)
			return []finding.Finding{finding.Fail(idBackupObjects, finding.SeverityFail, subject, fmt.Sprintf("cannot list the backup's object versions: %v", err))}, err
		}
		req.KeyMarker, req.VersionIDMarker = p.NextKeyMarker, p.NextVersionIDMarker
	}
	if len(versions) == 0 {
		return []finding.Finding{finding.Fail(idBackupObjects, finding.SeverityFail, subject,
			fmt.Sprintf("no object of backup %s found: the name is wrong or the backup was deleted", spec.Backup.Name)).
			With("the backup's objects", "none", "check the backup name and the storage location's bucket and prefix")}, nil
	}

	var fs []finding.Finding
	keys := map[string]bool{}
	for _, v := range versions {
		keys[v.Key] = true
	}
	fs = append(fs, finding.Pass(idBackupObjects, subject,
		fmt.Sprintf("backup %s has %d objects in %d versions", spec.Backup.Name, len(keys), len(versions))))
	for _, k := range markers {
		fs = append(fs, finding.Fail(idDeleteMarker, finding.SeverityFail, objectstore.URI(bucket, k, "")+" at "+st.Endpoint(),
			"the object's latest version is a delete marker: Velero no longer sees it, although locked versions remain").
			With("a readable latest version", "delete marker",
				"someone deleted it: find out who; restore the object by deleting the marker (its version ID) or copying the last version over it"))
	}

	if !bc.lockEnabled {
		return append(fs, finding.Fail(idBackupRetention, finding.SeverityFail, subject,
			fmt.Sprintf("none of the %d object versions of backup %s is protected: the bucket has no object lock", len(versions), spec.Backup.Name)).
			With("every version retained until the backup expires", "no lock", hintNoLock)), nil
	}
	// Without a bucket default, each version's own retention (stamped by
	// the writer, or later by a job) is all that protects it: judged
	// below like any other.

	results := retentions(ctx, spec, bc.lock, versions)
	var bad []versionRetention
	var errs []error
	stamped, fromDefault := 0, 0
	var earliest time.Time
	for _, r := range results {
		switch {
		case r.err != nil:
			errs = append(errs, r.err)
			bad = append(bad, r)
		case r.problem != "":
			bad = append(bad, r)
		}
		if r.err == nil && r.ret.Mode != "" {
			if r.stamped {
				stamped++
			} else {
				fromDefault++
			}
			if earliest.IsZero() || r.ret.RetainUntil.Before(earliest) {
				earliest = r.ret.RetainUntil
			}
		}
	}
	for i, r := range bad {
		if i == maxObjectFindings {
			fs = append(fs, finding.Fail(idObjectRetention, finding.SeverityFail, subject, fmt.Sprintf("and %d more object versions", len(bad)-i)))
			break
		}
		vs := objectstore.URI(bucket, r.v.Key, r.v.VersionID) + " at " + st.Endpoint()
		if r.err != nil {
			fs = append(fs, finding.Fail(idObjectRetention, finding.SeverityFail, vs, fmt.Sprintf("cannot read the retention: %v", r.err)))
			continue
		}
		fs = append(fs, finding.Fail(idObjectRetention, finding.SeverityFail, vs, r.problem).
			With(requirement(spec, r.required), describe(r.ret, r.stamped), "raise the retention of this version (PutObjectRetention can only extend it) or take a new backup after fixing the bucket default"))
	}

	how := howProtected(stamped, fromDefault, len(results)-len(errs)-stamped-fromDefault, bc.locked, co)
	exp := ""
	if !spec.Backup.Expiration.IsZero() {
		exp = fmt.Sprintf(", the backup expires %s", spec.Backup.Expiration.UTC().Format(time.RFC3339))
	}
	summary := fmt.Sprintf("%d of %d object versions of backup %s retained as required (earliest retain-until %s%s); %s",
		len(results)-len(bad), len(results), spec.Backup.Name, earliest.UTC().Format(time.RFC3339), exp, how)
	if len(bad) == 0 {
		fs = append(fs, finding.Pass(idBackupRetention, subject, summary).
			With(requirement(spec, time.Time{}), fmt.Sprintf("earliest retain-until %s", earliest.UTC().Format(time.RFC3339)), ""))
	} else {
		fs = append(fs, finding.Fail(idBackupRetention, finding.SeverityFail, subject, summary).
			With(requirement(spec, time.Time{}), fmt.Sprintf("%d versions short or unreadable", len(bad)), ""))
	}
	if len(errs) > 0 {
		return fs, fmt.Errorf("read retention of backup %s: %w", spec.Backup.Name, errors.Join(errs...))
	}
	return fs, nil
}

// retentions reads the retention of each version, Concurrency at a time,
// and judges it.
func retentions(ctx context.Context, spec ProtectionSpec, lock objectstore.LockConfig, versions []objectstore.ObjectInfo) []versionRetention {
	out := make([]versionRetention, len(versions))
	sem := make(chan struct{}, spec.Concurrency)
	var wg sync.WaitGroup
	for i, v := range versions {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i] = judge(ctx, spec, lock, v)
		}()
	}
	wg.Wait()
	return out
}

func judge(ctx context.Context, spec ProtectionSpec, lock objectstore.LockConfig, v objectstore.ObjectInfo) versionRetention {
	r := versionRetention{v: v}
	st := spec.Primary.Store
	ret, err := st.ObjectRetention(ctx, spec.Primary.Bucket, v.Key, v.VersionID)
	switch {
	case err == nil:
		r.ret, r.stamped = ret, true
	case errors.Is(err, objectstore.ErrNoObjectLockConfig) && lock.DefaultMode != "":
		// Versity: the version carries nothing; the bucket default,
		// counted from the version's creation, is what refuses deletes.
		r.ret = objectstore.Retention{Mode: lock.DefaultMode, RetainUntil: v.LastModified.Add(lock.DefaultPeriod())}
	case errors.Is(err, objectstore.ErrNoObjectLockConfig):
		r.problem = "the version carries no retention and the bucket has no default"
		return r
	default:
		r.err = err
		return r
	}
	r.required = v.LastModified.Add(spec.Lock.MinRetention)
	if spec.Backup.Expiration.After(r.required) {
		r.required = spec.Backup.Expiration
	}
	now := spec.Now()
	var problems []string
	if f := modeFinding("", "", "", spec.Lock, r.ret.Mode); f.Status == finding.StatusFail {
		problems = append(problems, fmt.Sprintf("mode %s, weaker than the required %s", r.ret.Mode, spec.Lock.Mode))
	}
	if r.ret.RetainUntil.Before(r.required) {
		problems = append(problems, fmt.Sprintf("retained until %s, before the required %s",
			r.ret.RetainUntil.UTC().Format(time.RFC3339), r.required.UTC().Format(time.RFC3339)))
	}
	if !r.ret.RetainUntil.After(now) {
		problems = append(problems, "the retention has run out: the version can be deleted now")
	}
	r.problem = strings.Join(problems, "; ")
	return r
}

func requirement(spec ProtectionSpec, required time.Time) string {
	var parts []string
	if spec.Lock.Mode != "" {
		parts = append(parts, string(spec.Lock.Mode))
	}
	switch {
	case !required.IsZero():
		parts = append(parts, "retained until at least "+required.UTC().Format(time.RFC3339))
	case !spec.Backup.Expiration.IsZero():
		parts = append(parts, "retained until the backup expires ("+spec.Backup.Expiration.UTC().Format(time.RFC3339)+")")
	case spec.Lock.MinRetention > 0:
		parts = append(parts, "retained at least "+days(spec.Lock.MinRetention)+" after creation")
	default:
		parts = append(parts, "retained")
	}
	return strings.Join(parts, ", ")
}

func describe(r objectstore.Retention, stamped bool) string {
	if r.Mode == "" {
		return "no retention: the object carries none and the bucket has no default"
	}
	src := "the object's own retention"
	if !stamped {
		src = "the bucket default, the object carries none"
	}
	return fmt.Sprintf("%s until %s (%s)", r.Mode, r.RetainUntil.UTC().Format(time.RFC3339), src)
}

// howProtected says which server behaviour applied, and whether the canary
// proved that deletes are refused, and under which retention.
func howProtected(stamped, fromDefault, none int, hasDefault bool, co canaryOutcome) string {
	proof := "deletion refusal proven by canary"
	switch {
	case !co.ran:
		proof = "deletion refusal not proven (no canary)"
	case !co.refused:
		proof = "deletion refusal NOT proven: see the canary findings"
	case co.shortened:
		proof += ", but the canary's retention could be shortened: see " + idCanaryShorten
	}
	switch {
	case co.ran && co.refused && co.explicit:
		proof += " (the canary locked itself with a retention of its own, as the bucket has no default)"
	case co.ran && co.refused:
		proof += " (the canary was locked by the bucket default retention)"
	}
	switch {
	case none > 0 && !hasDefault:
		return fmt.Sprintf("%d versions carry their own retention, %d none, and the bucket has no default; %s", stamped, none, proof)
	case fromDefault == 0 && !hasDefault:
		return "each version's own retention, the bucket has no default; " + proof
	case fromDefault == 0:
		return "retention stamped on each object; " + proof
	case stamped == 0:
		return "retention from bucket default; objects carry none; " + proof
	}
	return fmt.Sprintf("%d versions carry their own retention, %d only the bucket default; %s", stamped, fromDefault, proof)
}
