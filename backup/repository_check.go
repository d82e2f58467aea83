package backup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/internal/plural"
)

// Finding IDs of the repository checks: the volume data of Velero's
// file-system backup, outside backups/<name>/.
const (
	idRepoObjects         = "protection.repository.objects"
	idRepoRetention       = "protection.repository.retention"
	idRepoObjectRetention = "protection.repository.object-retention"
)

// hintRepoShort is what to do about repository versions retained for
// less than required.
const hintRepoShort = "extend the retention of the repository's objects to at least the backup's expiration " +
	"(PutObjectRetention, or `mc retention set --recursive COMPLIANCE Nd ALIAS/BUCKET/PREFIX/kopia/NAMESPACE/`; extending is always allowed): " +
	"kopia reuses the blobs earlier backups wrote, so a bucket default counted from each blob's creation runs out while newer backups still read the blob"

// checkRepositories checks the retention of every object version of the
// repositories the backup's volume data is in (see backupRepositories):
// the latest version of each object until the backup expires (and at
// least MinRetention after its creation), like the backup's own objects;
// older versions, which no restore reads, at least MinRetention after
// their creation. Each repository yields a summary finding, and each
// short or unreadable version one of its own, at most maxObjectFindings
// in all.
func checkRepositories(ctx context.Context, spec ProtectionSpec, bc bucketCheck, co canaryOutcome, repos []repository, vbRead bool) ([]finding.Finding, []RepositoryResult, error) {
	st, bucket := spec.Primary.Store, spec.Primary.Bucket
	if len(repos) == 0 {
		if !vbRead {
			// No Backup object and no PodVolumeBackups: the backup's own
			// findings say what is wrong with it.
			return nil, nil, nil
		}
		subject := fmt.Sprintf("s3://%s/%s at %s", bucket, keyPrefix(spec.Primary.Prefix), st.Endpoint())
		return []finding.Finding{finding.Pass(idRepoRetention, subject, fmt.Sprintf(
			"backup %s keeps no volume data in a file-system backup repository: it lists no PodVolumeBackups, and no kopia repository of a namespace it includes is in the bucket",
			spec.Backup.Name))}, nil, nil
	}
	var fs, bad []finding.Finding
	var results []RepositoryResult
	var errs []error
	left := maxObjectFindings
	for _, r := range repos {
		rfs, rbad, res, err := checkRepository(ctx, spec, bc, co, r, left)
		fs, bad, results, errs = append(fs, rfs...), append(bad, rbad...), append(results, res), append(errs, err)
		left = max(0, left-len(rbad))
	}
	return append(fs, bad...), results, errors.Join(errs...)
}

// checkRepository lists the versions of one repository and judges them
// as the listing runs: memory holds a few pages, whatever its size. bad
// are the findings of its short versions, at most left of them (and one
// more counting the rest).
func checkRepository(ctx context.Context, spec ProtectionSpec, bc bucketCheck, co canaryOutcome, r repository, left int) (fs, bad []finding.Finding, res RepositoryResult, err error) {
	st, bucket := spec.Primary.Store, spec.Primary.Bucket
	prefix := r.prefix(spec.Primary.Prefix)
	subject := fmt.Sprintf("s3://%s/%s at %s", bucket, prefix, st.Endpoint())
	res = RepositoryResult{Prefix: prefix, Type: r.typ, Namespace: r.namespace, PodVolumeBackups: r.pvbs}
	why := fmt.Sprintf("%s of backup %s %s there", plural.Count(r.pvbs, "PodVolumeBackup", "PodVolumeBackups"), spec.Backup.Name, plural.Of(r.pvbs, "keeps its volume data", "keep their volume data"))
	if r.pvbs == 0 {
		why = fmt.Sprintf("backup %s includes namespace %s", spec.Backup.Name, r.namespace)
	}

	var formatBlob bool
	in := make(chan versionRef, 2000)
	scanErr := make(chan error, 1)
	go func() {
		defer close(in)
		scanErr <- scanVersions(ctx, st, bucket, prefix, func(v objectstore.ObjectInfo) error {
			if v.DeleteMarker {
				if v.IsLatest {
					res.Deleted++
				}
				return nil
			}
			ref := versionRef{key: v.Key, versionID: v.VersionID, created: v.LastModified, current: v.IsLatest}
			if ref.current {
				res.Objects++
				formatBlob = formatBlob || v.Key == prefix+r.formatBlob()
				ref.required = requiredUntil(spec, v.LastModified)
			} else {
				ref.required, ref.lapse = v.LastModified.Add(spec.Lock.MinRetention), true
			}
			select {
			case in <- ref:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var t *retentionTally
	if bc.lockEnabled {
		t = judgeAll(ctx, spec, bc.lock, in)
	} else {
		t = &retentionTally{}
		for range in {
			t.versions++
		}
	}
	if err := <-scanErr; err != nil {
		return []finding.Finding{finding.Fail(idRepoObjects, finding.SeverityFail, subject, fmt.Sprintf("cannot list the repository's object versions: %v", err)).
			With("", "", accessHint(err))}, nil, res, fmt.Errorf("list versions of repository %s at %s: %w", prefix, st.Endpoint(), err)
	}
	res.Versions, res.Short = t.versions, len(t.bad)
	if !t.earliestCurrent.IsZero() {
		e := t.earliestCurrent.UTC()
		res.EarliestRetainUntil = &e
	}

	counts := plural.Count(res.Objects, "object", "objects") + " in " + plural.Count(res.Versions, "version", "versions")
	if res.Deleted > 0 {
		counts += fmt.Sprintf(", %d more deleted (the latest version a delete marker: kopia's maintenance deletes blobs no snapshot needs; their versions stay)", res.Deleted)
	}
	switch {
	case res.Objects == 0:
		fs = append(fs, finding.Fail(idRepoObjects, finding.SeverityFail, subject,
			fmt.Sprintf("the %s repository of namespace %s holds no object, though %s (%s): the volume data of the backup is gone", r.typ, r.namespace, why, counts)).
			With("the repository's objects", "none",
				"if delete markers hide them, the locked versions remain: list them (mc ls --versions) and remove the delete markers; otherwise take a new backup"))
	case !formatBlob:
		fs = append(fs, finding.Fail(idRepoObjects, finding.SeverityFail, subject,
			fmt.Sprintf("the %s repository of namespace %s has no %s (%s): it cannot be opened, so no volume it holds can be restored", r.typ, r.namespace, r.formatBlob(), counts)).
			With(prefix+r.formatBlob(), "missing",
				"if a delete marker hides it, remove the marker (mc ls --versions shows it); otherwise the repository is lost: take a new backup"))
	}
	if !bc.lockEnabled {
		return append(fs, finding.Fail(idRepoRetention, finding.SeverityFail, subject,
			fmt.Sprintf("none of the %d object versions of the %s repository of namespace %s is protected: the bucket has no object lock; %s", res.Versions, r.typ, r.namespace, why)).
			With("every version retained until the backup expires", "no lock", hintNoLock)), nil, res, nil
	}

	bad = versionFindings(spec, idRepoObjectRetention, t.bad, left, subject, hintRepoShort)
	locked := "nothing to lock"
	if res.EarliestRetainUntil != nil {
		locked = "every object it holds now is locked until at least " + res.EarliestRetainUntil.Format(time.RFC3339)
	}
	summary := fmt.Sprintf("%d of %s of the %s repository of namespace %s retained as required (%s; %s); %s; %s",
		res.Versions-res.Short, plural.Count(res.Versions, "object version", "object versions"), r.typ, r.namespace, counts, why, locked,
		howProtected(t.stamped, t.fromDefault, t.none(), bc.locked, co))
	actual := locked
	if res.Short > 0 {
		actual = plural.Count(res.Short, "version", "versions") + " short, unlocked or unreadable"
	}
	sf := finding.Pass(idRepoRetention, subject, summary)
	if res.Short > 0 {
		sf = finding.Fail(idRepoRetention, finding.SeverityFail, subject, summary)
	}
	fs = append(fs, sf.With(requirement(spec, time.Time{})+" (the latest version of each object; older versions "+atLeastAfterCreation(spec.Lock.MinRetention)+")", actual, ""))
	if len(t.errs) > 0 {
		return fs, bad, res, fmt.Errorf("read retention of repository %s: %w", prefix, errors.Join(t.errs...))
	}
	return fs, bad, res, nil
}

func atLeastAfterCreation(d time.Duration) string {
	if d <= 0 {
		return "retained"
	}
	return "retained at least " + durText(d) + " after creation"
}
