package backup

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/internal/plural"
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

// versionRef is one object version to judge. It is small, so a scan of
// a large repository holds only the versions in flight.
type versionRef struct {
	key, versionID string
	created        time.Time
	// current is true for the latest version of its key: what a restore
	// reads.
	current bool
	// required is the date the version must be retained until; with
	// lapse set, its retention may have run out once that date has
	// passed (a version no restore reads any more).
	required time.Time
	lapse    bool
}

// versionRetention is the retention that applies to one object version.
type versionRetention struct {
	v       versionRef
	ret     objectstore.Retention
	stamped bool // the version carries it; otherwise the bucket default applies
	problem string
	err     error
}

// retentionTally sums the judged versions of one prefix.
type retentionTally struct {
	versions, stamped, fromDefault int
	// earliest is the earliest retain-until date among the versions with
	// a retention; earliestCurrent among the latest versions only.
	earliest, earliestCurrent time.Time
	// bad are the versions short, unlocked or unreadable, by key.
	bad  []versionRetention
	errs []error
}

func (t *retentionTally) add(r versionRetention) {
	t.versions++
	switch {
	case r.err != nil:
		t.errs = append(t.errs, r.err)
		t.bad = append(t.bad, r)
	case r.problem != "":
		t.bad = append(t.bad, r)
	}
	if r.err != nil || r.ret.Mode == "" {
		return
	}
	if r.stamped {
		t.stamped++
	} else {
		t.fromDefault++
	}
	if t.earliest.IsZero() || r.ret.RetainUntil.Before(t.earliest) {
		t.earliest = r.ret.RetainUntil
	}
	if r.v.current && (t.earliestCurrent.IsZero() || r.ret.RetainUntil.Before(t.earliestCurrent)) {
		t.earliestCurrent = r.ret.RetainUntil
	}
}

// none counts the versions judged without error that carry no retention.
func (t *retentionTally) none() int {
	return t.versions - len(t.errs) - t.stamped - t.fromDefault
}

// judgeAll reads the retention of every version received from in,
// spec.Concurrency requests at a time on a fixed set of workers, and
// tallies the outcome. It returns when in is closed and drained.
func judgeAll(ctx context.Context, spec ProtectionSpec, lock objectstore.LockConfig, in <-chan versionRef) *retentionTally {
	t := &retentionTally{}
	now := spec.Now()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range spec.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range in {
				r := judge(ctx, spec, lock, now, v)
				mu.Lock()
				t.add(r)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	slices.SortFunc(t.bad, func(a, b versionRetention) int {
		return cmp.Or(strings.Compare(a.v.key, b.v.key), strings.Compare(a.v.versionID, b.v.versionID))
	})
	return t
}

// scanVersions lists every version and delete marker under prefix, page
// by page, and hands each to emit; it stops at the first error of the
// listing, of emit, or of a server that repeats a page.
func scanVersions(ctx context.Context, st RetentionReader, bucket, prefix string, emit func(objectstore.ObjectInfo) error) error {
	req := objectstore.VersionsRequest{Prefix: prefix}
	for {
		p, err := st.ListVersions(ctx, bucket, req)
		if err != nil {
			return err
		}
		for _, v := range p.Versions {
			if err := emit(v); err != nil {
				return err
			}
		}
		if !p.IsTruncated {
			return nil
		}
		if p.NextKeyMarker == "" || p.NextKeyMarker == req.KeyMarker && p.NextVersionIDMarker == req.VersionIDMarker {
			// Versity 1.8.0 ignores the version-id marker and answers the
			// same page forever.
			return fmt.Errorf("list versions of s3://%s/%s: the server repeats a page (markers %q %q not honoured)",
				bucket, prefix, req.KeyMarker, req.VersionIDMarker)
		}
		req.KeyMarker, req.VersionIDMarker = p.NextKeyMarker, p.NextVersionIDMarker
	}
}

// requiredUntil is the date a version written at created must be
// retained until: the minimum retention after its creation, and the
// backup's expiration, whichever is later.
func requiredUntil(spec ProtectionSpec, created time.Time) time.Time {
	r := created.Add(spec.Lock.MinRetention)
	if spec.Backup.Expiration.After(r) {
		return spec.Backup.Expiration
	}
	return r
}

// checkObjects checks that every version of every object of the backup is
// retained, in the required mode, at least until the backup expires.
func checkObjects(ctx context.Context, spec ProtectionSpec, bc bucketCheck, co canaryOutcome) ([]finding.Finding, error) {
	st, bucket := spec.Primary.Store, spec.Primary.Bucket
	prefix := backupPrefix(spec.Primary.Prefix, spec.Backup.Name)
	subject := fmt.Sprintf("s3://%s/%s at %s", bucket, prefix, st.Endpoint())

	var versions []versionRef
	var markers []string
	err := scanVersions(ctx, st, bucket, prefix, func(v objectstore.ObjectInfo) error {
		switch {
		case v.DeleteMarker && v.IsLatest:
			markers = append(markers, v.Key)
		case !v.DeleteMarker:
			versions = append(versions, versionRef{key: v.Key, versionID: v.VersionID, created: v.LastModified,
				current: v.IsLatest, required: requiredUntil(spec, v.LastModified)})
		}
		return nil
	})
	if err != nil {
		return []finding.Finding{finding.Fail(idBackupObjects, finding.SeverityFail, subject, fmt.Sprintf("cannot list the backup's object versions: %v", err)).
			With("", "", accessHint(err))}, fmt.Errorf("list versions of backup %s at %s: %w", spec.Backup.Name, st.Endpoint(), err)
	}
	if len(versions) == 0 {
		return []finding.Finding{finding.Fail(idBackupObjects, finding.SeverityFail, subject,
			fmt.Sprintf("no object of backup %s found: the name is wrong or the backup was deleted", spec.Backup.Name)).
			With("the backup's objects", "none", "check the backup name and the storage location's bucket and prefix")}, nil
	}

	var fs []finding.Finding
	keys := map[string]bool{}
	for _, v := range versions {
		keys[v.key] = true
	}
	fs = append(fs, finding.Pass(idBackupObjects, subject,
		fmt.Sprintf("backup %s has %s in %s", spec.Backup.Name, plural.Count(len(keys), "object", "objects"), plural.Count(len(versions), "version", "versions"))))
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

	in := make(chan versionRef)
	go func() {
		defer close(in)
		for _, v := range versions {
			in <- v
		}
	}()
	t := judgeAll(ctx, spec, bc.lock, in)
	fs = append(fs, versionFindings(spec, idObjectRetention, t.bad, maxObjectFindings, subject,
		"raise the retention of this version (PutObjectRetention can only extend it) or take a new backup after fixing the bucket default")...)

	how := howProtected(t.stamped, t.fromDefault, t.none(), bc.locked, co)
	exp := ""
	if !spec.Backup.Expiration.IsZero() {
		exp = fmt.Sprintf(", the backup expires %s", spec.Backup.Expiration.UTC().Format(time.RFC3339))
	}
	summary := fmt.Sprintf("%d of %s of backup %s retained as required (earliest retain-until %s%s); %s",
		t.versions-len(t.bad), plural.Count(t.versions, "object version", "object versions"), spec.Backup.Name, t.earliest.UTC().Format(time.RFC3339), exp, how)
	if len(t.bad) == 0 {
		fs = append(fs, finding.Pass(idBackupRetention, subject, summary).
			With(requirement(spec, time.Time{}), fmt.Sprintf("earliest retain-until %s", t.earliest.UTC().Format(time.RFC3339)), ""))
	} else {
		fs = append(fs, finding.Fail(idBackupRetention, finding.SeverityFail, subject, summary).
			With(requirement(spec, time.Time{}), plural.Count(len(t.bad), "version", "versions")+" short or unreadable", ""))
	}
	if len(t.errs) > 0 {
		return fs, fmt.Errorf("read retention of backup %s: %w", spec.Backup.Name, errors.Join(t.errs...))
	}
	return fs, nil
}

// versionFindings are the findings of the bad versions, at most max of
// them and then one that counts the rest; subject names the prefix in
// that last one.
func versionFindings(spec ProtectionSpec, id string, bad []versionRetention, max int, subject, fix string) []finding.Finding {
	var fs []finding.Finding
	st, bucket := spec.Primary.Store, spec.Primary.Bucket
	for i, r := range bad {
		if i == max {
			fs = append(fs, finding.Fail(id, finding.SeverityFail, subject, "and "+plural.Count(len(bad)-i, "more object version", "more object versions")))
			break
		}
		vs := objectstore.URI(bucket, r.v.key, r.v.versionID) + " at " + st.Endpoint()
		if r.err != nil {
			fs = append(fs, finding.Fail(id, finding.SeverityFail, vs, fmt.Sprintf("cannot read the retention: %v", r.err)))
			continue
		}
		fs = append(fs, finding.Fail(id, finding.SeverityFail, vs, r.problem).
			With(requirement(spec, r.v.required), describe(r.ret, r.stamped), fix))
	}
	return fs
}

func judge(ctx context.Context, spec ProtectionSpec, lock objectstore.LockConfig, now time.Time, v versionRef) versionRetention {
	r := versionRetention{v: v}
	ret, err := spec.Primary.Store.ObjectRetention(ctx, spec.Primary.Bucket, v.key, v.versionID)
	switch {
	case err == nil:
		r.ret, r.stamped = ret, true
	case errors.Is(err, objectstore.ErrNoObjectLockConfig) && lock.DefaultMode != "":
		// Versity: the version carries nothing; the bucket default,
		// counted from the version's creation, is what refuses deletes.
		r.ret = objectstore.Retention{Mode: lock.DefaultMode, RetainUntil: v.created.Add(lock.DefaultPeriod())}
	case errors.Is(err, objectstore.ErrNoObjectLockConfig):
		r.problem = "the version carries no retention and the bucket has no default"
		return r
	default:
		r.err = err
		return r
	}
	weak := modeWeaker(spec.Lock, r.ret.Mode)
	short := r.ret.RetainUntil.Before(v.required)
	lapsed := !r.ret.RetainUntil.After(now) && !v.lapse
	if !weak && !short && !lapsed {
		return r
	}
	var problems []string
	if weak {
		problems = append(problems, fmt.Sprintf("mode %s, weaker than the required %s", r.ret.Mode, spec.Lock.Mode))
	}
	if short {
		problems = append(problems, fmt.Sprintf("retained until %s, before the required %s",
			r.ret.RetainUntil.UTC().Format(time.RFC3339), v.required.UTC().Format(time.RFC3339)))
	}
	if lapsed {
		problems = append(problems, "the retention has run out: the version can be deleted now")
	}
	r.problem = strings.Join(problems, "; ")
	return r
}

// modeWeaker reports whether mode fails the requirement, as modeFinding
// judges it, without building a finding for each of a million versions.
func modeWeaker(req LockRequirement, mode objectstore.LockMode) bool {
	return req.Mode == objectstore.Compliance && mode != objectstore.Compliance &&
		!(mode == objectstore.Governance && req.AllowGovernance)
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
		parts = append(parts, "retained at least "+durText(spec.Lock.MinRetention)+" after creation")
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
		return fmt.Sprintf("%s %s, %d none, and the bucket has no default; %s", plural.Count(stamped, "version", "versions"), plural.Of(stamped, "carries its own retention", "carry their own retention"), none, proof)
	case fromDefault == 0 && !hasDefault:
		return "each version's own retention, the bucket has no default; " + proof
	case fromDefault == 0:
		return "retention stamped on each object; " + proof
	case stamped == 0:
		return "retention from bucket default; objects carry none; " + proof
	}
	return fmt.Sprintf("%s %s, %d only the bucket default; %s", plural.Count(stamped, "version", "versions"), plural.Of(stamped, "carries its own retention", "carry their own retention"), fromDefault, proof)
}
