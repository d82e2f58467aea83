package backup

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/plural"
)

// Finding IDs of the copy checks: "protection.copy.<name>" for the
// comparison, "protection.copy.<name>.bucket.*" for the copy's bucket.
const idCopy = "protection.copy."

// CheckProtection runs the protection checks of spec: the primary bucket's
// object lock, the tamper canary, the retention of every version of the
// backup's objects, then of the repositories of its volume data (see
// checkRepositories; one Result.Repositories entry each), and the
// comparison of each copy, repositories included, in that order, each
// yielding findings. Result.Failed reports whether any check failed.
//
// The error is non-nil when the spec is invalid (wrapping ErrInvalidSpec,
// with an empty Result) or when a check could not be carried out: a store
// unreachable, credentials refused, a bucket missing, a listing failed.
// The Result then still holds every finding, the failed reads among them,
// each naming the endpoint and bucket. Only a spec error stops all checks;
// an unreachable primary skips the checks that need it.
//
// CheckProtection writes only under the canary prefix, and only when the
// canary is enabled.
func CheckProtection(ctx context.Context, spec ProtectionSpec) (Result, error) {
	spec, err := spec.normalized()
	if err != nil {
		return Result{}, err
	}
	res := Result{Backup: spec.Backup.Name, Findings: []finding.Finding{}, Copies: []CopyResult{}}
	var errs []error
	log := spec.Log.With("bucket", spec.Primary.Bucket, "endpoint", spec.Primary.Store.Endpoint())

	// The Backup object gives the backup's times, when the caller did
	// not, and the namespaces whose repositories hold its volume data.
	var vb *velerov1.Backup
	if spec.Backup.Name != "" {
		if vb, err = readVeleroBackup(ctx, spec.Primary.Store, spec.Primary.Bucket, spec.Primary.Prefix, spec.Backup.Name); err != nil {
			log.Warn("backup times and namespaces unknown", "backup", spec.Backup.Name, "err", err)
		} else {
			spec.Backup = backupRef(vb, spec.Backup)
		}
	}

	log.Info("checking bucket protection")
	fs, bc, err := checkBucket(ctx, spec.Primary.Store, spec.Primary.Bucket, "protection.bucket", spec.Lock, spec.Backup)
	res.Findings = append(res.Findings, fs...)
	errs = append(errs, err)
	if bc.unreachable {
		return res, incomplete(errs)
	}

	var co canaryOutcome
	var repos []repository
	if !spec.Canary.Disabled {
		log.Info("running the tamper canary", "prefix", spec.Canary.Prefix)
		c := canary{st: spec.Primary.Store, bucket: spec.Primary.Bucket, prefix: spec.Canary.Prefix, now: spec.Now, lock: bc.lock, mode: spec.Lock.Mode}
		fs, co, err = c.run(ctx)
		res.Findings = append(res.Findings, fs...)
		errs = append(errs, err)
	}

	if spec.Backup.Name == "" {
		res.Findings = append(res.Findings, finding.Warn(idBackupRetention, bucketSubject(spec.Primary.Store, spec.Primary.Bucket),
			"no backup chosen: the retention of backup objects was not checked"))
	} else {
		log.Info("checking the retention of the backup's objects", "backup", spec.Backup.Name)
		fs, err = checkObjects(ctx, spec, bc, co)
		res.Findings = append(res.Findings, fs...)
		errs = append(errs, err)

		log.Info("checking the retention of the repositories of the backup's volume data", "backup", spec.Backup.Name)
		if repos, err = backupRepositories(ctx, spec.Primary.Store, spec.Primary.Bucket, spec.Primary.Prefix, spec.Backup.Name, vb); err != nil {
			res.Findings = append(res.Findings, finding.Fail(idRepoObjects, finding.SeverityFail, bucketSubject(spec.Primary.Store, spec.Primary.Bucket),
				fmt.Sprintf("cannot tell which repositories hold the volume data of backup %s: %v", spec.Backup.Name, err)).
				With("the backup's repositories", "unknown", accessHint(err)))
			errs = append(errs, fmt.Errorf("find the repositories of backup %s: %w", spec.Backup.Name, err))
		} else {
			fs, res.Repositories, err = checkRepositories(ctx, spec, bc, co, repos, vb != nil)
			res.Findings = append(res.Findings, fs...)
			errs = append(errs, err)
		}
	}

	if ws := spec.Window; ws != nil {
		w := *ws
		if w.Store == nil {
			w.Store, w.Bucket, w.Prefix = spec.Primary.Store, spec.Primary.Bucket, spec.Primary.Prefix
		}
		w.Concurrency = cmp.Or(w.Concurrency, spec.Concurrency)
		if w.Now == nil {
			w.Now = spec.Now
		}
		if w.Log == nil {
			w.Log = log
		}
		log.Info("checking the recovery window", "schedule", w.Schedule)
		win, fs, err := CheckWindow(ctx, w)
		res.Window = win
		res.Findings = append(res.Findings, fs...)
		errs = append(errs, err)
	}

	for _, c := range spec.Copies {
		log.Info("comparing copy", "copy", c.Name, "mode", c.Mode)
		cr, fs, err := checkCopy(ctx, spec, c, repos)
		res.Copies = append(res.Copies, cr)
		res.Findings = append(res.Findings, fs...)
		errs = append(errs, err)
	}
	return res, incomplete(errs)
}

func incomplete(errs []error) error {
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("protection checks incomplete: %w", err)
	}
	return nil
}

// checkCopy checks a copy's bucket (when the copy has a lock requirement)
// and compares it with the primary. A ScopeBackup copy is compared on the
// backup's directory and on each repository of its volume data; the
// keys of repository objects in the result are relative to the Velero
// prefix ("kopia/shop/p0c3..."), those of the backup's own objects to
// its directory.
func checkCopy(ctx context.Context, spec ProtectionSpec, c CopySpec, repos []repository) (CopyResult, []finding.Finding, error) {
	src := Side{Store: spec.Primary.Store, Bucket: spec.Primary.Bucket, Prefix: keyPrefix(spec.Primary.Prefix)}
	dst := Side{Store: c.Store, Bucket: c.Bucket, Prefix: keyPrefix(c.Prefix)}
	scoped := c.Scope == ScopeBackup && spec.Backup.Name != ""
	if scoped {
		src.Prefix = backupPrefix(spec.Primary.Prefix, spec.Backup.Name)
		dst.Prefix = backupPrefix(c.Prefix, spec.Backup.Name)
	}
	cr := CopyResult{Name: c.Name, Source: src.String(), Target: dst.String(), Mode: c.Mode}
	var fs []finding.Finding
	var errs []error
	if c.Lock != nil {
		bfs, bc, err := checkBucket(ctx, c.Store, c.Bucket, idCopy+c.Name+".bucket", *c.Lock, BackupRef{})
		fs, errs = append(fs, bfs...), append(errs, err)
		if bc.unreachable {
			cr.Comparison.Error = err.Error()
			return cr, fs, errors.Join(errs...)
		}
	}

	opts := CompareOptions{
		Mode: c.Mode, SamplePercent: c.SamplePercent, Seed: c.Seed,
		Concurrency: spec.Concurrency, MaxObjectResults: spec.MaxObjectResults, Now: spec.Now,
	}
	onObject := func(string) func(ObjectResult) { return nil }
	if spec.OnObject != nil {
		onObject = func(rel string) func(ObjectResult) {
			return func(r ObjectResult) { r.Key = rel + r.Key; spec.OnObject(c.Name, r) }
		}
	}
	opts.OnObject = onObject("")
	// The canary's objects are the drill's own, never part of a copy's
	// duty, though replication may carry them.
	if p := spec.Canary.Prefix; p != "" && strings.HasPrefix(p, src.Prefix) {
		opts.Exclude = strings.TrimPrefix(p, src.Prefix)
	}
	cmp, err := Compare(ctx, src, dst, opts)
	errs = append(errs, err)
	what := src.String()
	if scoped && len(repos) > 0 {
		var names []string
		for _, r := range repos {
			rel := keyPrefix(path.Join(r.typ, r.namespace))
			rs := Side{Store: src.Store, Bucket: src.Bucket, Prefix: r.prefix(spec.Primary.Prefix)}
			rd := Side{Store: dst.Store, Bucket: dst.Bucket, Prefix: r.prefix(c.Prefix)}
			ropts := opts
			ropts.Exclude, ropts.OnObject = "", onObject(rel)
			if !spec.Backup.Completed.IsZero() {
				// Later backups keep writing to the repository: what they
				// wrote is not this backup's to find on the copy. The
				// minute allows for the clocks of Velero and the server.
				ropts.WrittenBefore = spec.Backup.Completed.Add(repoClockSkew)
			}
			rc, rerr := Compare(ctx, rs, rd, ropts)
			cmp = cmp.merge(rc, rel, spec.MaxObjectResults)
			cr.Repositories = append(cr.Repositories, rs.Prefix)
			names = append(names, rs.Prefix)
			errs, err = append(errs, rerr), errors.Join(err, rerr)
		}
		what = fmt.Sprintf("%s and of the repositories %s", src, strings.Join(names, ", "))
		if !spec.Backup.Completed.IsZero() {
			what += fmt.Sprintf(" written until %s (a minute after backup %s completed)",
				spec.Backup.Completed.Add(repoClockSkew).UTC().Format(time.RFC3339), spec.Backup.Name)
		}
	}
	cr.Comparison = cmp
	fs = append(fs, copyFinding(c, what, dst, cmp, err, spec.Now()))
	return cr, fs, errors.Join(errs...)
}

// repoClockSkew is the allowance between Velero's clock, which stamps a
// backup's completion, and the server's, which stamps its objects.
const repoClockSkew = time.Minute

func copyFinding(c CopySpec, src string, dst Side, cmp Comparison, err error, now time.Time) finding.Finding {
	id := idCopy + c.Name
	subject := dst.String()
	counts := fmt.Sprintf("%d same, %d missing, %d extra, %d differ, %s", cmp.Same, cmp.Missing, cmp.Extra, cmp.Differs, plural.Count(cmp.Errors, "error", "errors"))
	if cmp.Later > 0 {
		counts += fmt.Sprintf(", %d written after the backup, not compared", cmp.Later)
	}
	var lag time.Duration
	if cmp.NotReplicated > 0 {
		lag = now.Sub(*cmp.OldestNotReplicated).Round(time.Second)
		counts += fmt.Sprintf(", %d not yet replicated (the oldest waiting %s)", cmp.NotReplicated, durText(lag))
	}
	expected := fmt.Sprintf("every object of %s, the same by %s", src, c.Mode)
	if c.Mode == ModeSampled {
		expected = fmt.Sprintf("every object of %s, the same by size and, for %g%% of them (seed %d), by content", src, c.SamplePercent, c.Seed)
	}
	if err != nil {
		return finding.Fail(id, finding.SeverityFail, subject, fmt.Sprintf("copy %s could not be compared: %v", c.Name, err)).
			With(expected, counts+" before the comparison stopped", accessHint(err))
	}
	var sb strings.Builder
	for i, o := range cmp.Objects {
		if i == 5 {
			fmt.Fprintf(&sb, "; and %d more", cmp.Total()-cmp.Same-i)
			break
		}
		fmt.Fprintf(&sb, "; %s %s: %s", o.Status, o.Key, o.Detail)
	}
	details := sb.String()
	switch {
	case cmp.Missing+cmp.Differs+cmp.Errors > 0:
		return finding.Fail(id, finding.SeverityFail, subject, fmt.Sprintf("copy %s does not match the primary: %s%s", c.Name, counts, details)).
			With(expected, counts, "re-run the replication or copy job for the listed objects and find out why it missed them")
	case cmp.NotReplicated > 0 && lag > c.MaxReplicationLag:
		return finding.Fail(id, finding.SeverityFail, subject,
			fmt.Sprintf("copy %s is behind: %s not yet replicated, the oldest waiting %s, longer than the %s allowed (maxReplicationLag): %s%s",
				c.Name, plural.Count(cmp.NotReplicated, "object", "objects"), durText(lag), durText(c.MaxReplicationLag), counts, details)).
			With(fmt.Sprintf("%s, replication lag at most %s", expected, durText(c.MaxReplicationLag)), counts,
				"replication is stuck: check that the replication target is reachable and accepts the writes (mc replicate status, mc admin trace on the primary); "+
					"FAILED objects are retried by MinIO's scanner, or resynced with mc replicate resync")
	case cmp.NotReplicated > 0:
		return finding.Warn(id, subject,
			fmt.Sprintf("copy %s holds every object the primary has replicated; %d not yet replicated, the oldest waiting %s (allowed %s): replication lag, not a loss: %s%s",
				c.Name, cmp.NotReplicated, durText(lag), durText(c.MaxReplicationLag), counts, details)).
			With(fmt.Sprintf("%s, replication lag at most %s", expected, durText(c.MaxReplicationLag)), counts,
				"nothing to do if the lag stays short; a lag that keeps growing means the replication target is unreachable")
	case cmp.Extra > 0:
		return finding.Warn(id, subject, fmt.Sprintf("copy %s holds every object of the primary, and %d more: %s%s", c.Name, cmp.Extra, counts, details)).
			With(expected, counts, "objects only on the copy are usually backups the primary has since deleted; check they are expected")
	}
	return finding.Pass(id, subject, fmt.Sprintf("copy %s matches the primary (%s mode): %s", c.Name, c.Mode, counts)).With(expected, counts, "")
}
