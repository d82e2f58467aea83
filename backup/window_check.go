package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// WindowStore is what the window check reads: the backups' metadata, the
// versions and retention of their objects, and the bucket's lock.
type WindowStore interface {
	BucketConfigReader
	ObjectLister
	RetentionReader
}

var _ WindowStore = (*objectstore.S3)(nil)

// WindowSpec is what CheckWindow checks.
type WindowSpec struct {
	Store  WindowStore
	Bucket string
	// Prefix is the Velero BackupStorageLocation prefix; empty when
	// Velero uses the whole bucket.
	Prefix string
	// Schedule is the Velero Schedule whose backups make the window
	// (label velero.io/schedule-name); empty takes every backup.
	Schedule string
	// Cron is the Schedule's spec.schedule, parsed as Velero parses it;
	// empty skips the missed-run check (a finding says so). CronSource
	// says where it came from, for the report ("scenario", "cluster").
	Cron, CronSource string
	// CronUnknown says why Cron is empty, for the finding; e.g. "the
	// scenario loses the source cluster".
	CronUnknown string
	// Retention, MaxRetention and RPO are the scenario's objectives;
	// zero ones are not judged.
	Retention, MaxRetention, RPO time.Duration
	// AllowPartiallyFailed counts PartiallyFailed backups as usable.
	AllowPartiallyFailed bool
	// Sample, when > 0, checks the object lock of that many backups of
	// the window, drawn with Seed, instead of all of them.
	Sample int
	Seed   int64
	// Concurrency bounds the GETs and retention reads in flight; default 16.
	Concurrency int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Log receives progress; default discards.
	Log *slog.Logger
}

// Finding IDs of the window check.
const (
	IDWindowShort         = "window.short"
	IDWindowGap           = "window.gap"
	IDWindowMissedRun     = "window.missed-run"
	IDWindowFailedBackup  = "window.failed-backup"
	IDWindowUnlocked      = "window.unlocked"
	IDWindowRead          = "window.read"
	IDWindowPastMax       = "window.past-max-retention"
	IDWindowTTL           = "window.ttl"
	IDWindowLockTooLong   = "window.lock-too-long"
	IDWindowRepositoryOld = "window.repository-old"
)

// CheckWindow reads every backup of spec.Schedule from the bucket's own
// metadata (<prefix>/backups/<name>/velero-backup.json, Concurrency GETs
// at a time), judges the recovery window at spec.Now (see judgeWindow),
// checks that the object versions of every backup in the window (or a
// seeded sample) are locked until at least the backup's expiration, and,
// with a MaxRetention, finds backups, volume-data repository objects,
// TTLs and lock periods that keep data longer. It needs no cluster.
//
// It returns the window and its findings; the error is non-nil when a
// read failed (the findings then name it, and the window holds what was
// read). A cron expression that does not parse is a finding, and the
// missed runs are then not looked for. It never writes.
func CheckWindow(ctx context.Context, spec WindowSpec) (*Window, []finding.Finding, error) {
	if spec.Concurrency <= 0 {
		spec.Concurrency = 16
	}
	if spec.Now == nil {
		spec.Now = time.Now
	}
	if spec.Log == nil {
		spec.Log = slog.New(slog.DiscardHandler)
	}
	spec.Prefix = strings.Trim(spec.Prefix, "/")
	subject := bucketSubject(spec.Store, spec.Bucket)
	var cs *cronSchedule
	cronNote := "the schedule's cron expression is unknown"
	if spec.CronUnknown != "" {
		cronNote += " (" + spec.CronUnknown + ")"
	}
	if spec.Cron != "" {
		var err error
		if cs, err = parseCron(spec.Cron); err != nil {
			cronNote = fmt.Sprintf("the schedule's cron expression %q (%s) does not parse: %v", spec.Cron, orNone(spec.CronSource, "given"), err)
		}
	}
	now := spec.Now()

	var errs []error
	lock, lerr := spec.Store.ObjectLockConfig(ctx, spec.Bucket)
	if lerr != nil && !errors.Is(lerr, objectstore.ErrNoObjectLockConfig) {
		errs = append(errs, fmt.Errorf("read object lock configuration of bucket %q: %w", spec.Bucket, lerr))
	}
	// Without a sample, every backup of the window has its lock checked:
	// the worker that read a backup's metadata checks it at once, so the
	// lock requests overlap the listing and the other reads, within the
	// same Concurrency.
	locks := map[string]lockOutcome{}
	var inline func(WindowBackup)
	if spec.Sample <= 0 {
		var mu sync.Mutex
		from := time.Time{}
		if spec.Retention > 0 {
			from = now.UTC().Add(-spec.Retention)
		}
		inline = func(b WindowBackup) {
			if b.at().Before(from) {
				return
			}
			var o lockOutcome
			o.short, o.over, o.err = backupLock(ctx, spec, b, lock, now)
			mu.Lock()
			locks[b.Name] = o
			mu.Unlock()
		}
	}

	spec.Log.Info("reading the schedule's backups from the bucket", "schedule", spec.Schedule)
	bs, readErrs, err := readWindowBackups(ctx, spec, inline)
	if err != nil {
		return nil, []finding.Finding{finding.Fail(IDWindowRead, finding.SeverityFail, subject,
			fmt.Sprintf("cannot list the backups: %v", err)).With("", "", accessHint(err))}, errors.Join(append(errs, err)...)
	}
	w := judgeWindow(spec.Schedule, bs, cs, now, windowObjectives{spec.Retention, spec.MaxRetention, spec.RPO})
	w.CronSource = spec.CronSource
	var fs []finding.Finding
	for _, e := range readErrs {
		fs = append(fs, finding.Fail(IDWindowRead, finding.SeverityFail, subject, e.Error()).
			With("a readable velero-backup.json", "unreadable", accessHint(e)))
		errs = append(errs, e)
	}

	spec.Log.Info("checking the object lock of the window's backups", "backups", len(w.Backups), "sample", spec.Sample)
	if err := checkWindowLocks(ctx, spec, &w, lock, now, locks); err != nil {
		errs = append(errs, err)
	}
	if spec.MaxRetention > 0 {
		if p := lock.DefaultPeriod(); p > spec.MaxRetention {
			w.PastMaxRetention = append(w.PastMaxRetention, Retained{Kind: RetainedBucketLock, Subject: subject,
				ExcessSeconds: (p - spec.MaxRetention).Seconds()})
		}
		if err := sizePastMax(ctx, spec, &w); err != nil {
			errs = append(errs, err)
		}
		spec.Log.Info("looking for repository objects older than maxRetention")
		rs, err := oldRepositoryObjects(ctx, spec, now.Add(-spec.MaxRetention))
		w.PastMaxRetention = append(w.PastMaxRetention, rs...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	fs = append(fs, windowFindings(&w, subject, lock, cronNote)...)
	return &w, fs, errors.Join(errs...)
}

// readWindowBackups lists <prefix>/backups/ and reads the
// velero-backup.json of each backup, spec.Concurrency at a time, keeping
// the schedule's. The reads start with the listing's first page, so a
// long listing overlaps them. A backup whose metadata cannot be read is
// in errs (the others are still judged); err is a failed listing.
//
// inline, if set, is called with each backup of the schedule by the
// worker that read it, outside any lock.
func readWindowBackups(ctx context.Context, spec WindowSpec, inline func(WindowBackup)) (bs []WindowBackup, errs []error, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dir := keyPrefix(path.Join(spec.Prefix, "backups"))
	names := make(chan string, 2*spec.Concurrency)
	var listErr error
	go func() {
		defer close(names)
		for p := range listPages(ctx, Side{Store: spec.Store, Bucket: spec.Bucket}, dir, "/", 2) {
			if p.err != nil {
				listErr = fmt.Errorf("list s3://%s/%s at %s: %w", spec.Bucket, dir, spec.Store.Endpoint(), p.err)
				return
			}
			for _, e := range p.entries {
				if e.dir {
					select {
					case names <- strings.TrimSuffix(strings.TrimPrefix(e.name, dir), "/"):
					case <-ctx.Done():
						return
					}
				}
			}
		}
	}()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range spec.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range names {
				vb, err := readVeleroBackup(ctx, spec.Store, spec.Bucket, spec.Prefix, n)
				if err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("backup %s: %w", n, err))
					mu.Unlock()
					continue
				}
				if spec.Schedule != "" && vb.Labels[velerov1.ScheduleNameLabel] != spec.Schedule {
					continue
				}
				b := windowBackup(vb, spec.AllowPartiallyFailed)
				if inline != nil {
					inline(b)
				}
				mu.Lock()
				bs = append(bs, b)
				mu.Unlock()
			}
		}()
	}
	wg.Wait() // names is closed after the listing: listErr is set
	if err := errors.Join(listErr, ctx.Err()); err != nil {
		return nil, nil, err
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return bs, errs, nil
}

// forEach calls f(0..n-1) on at most workers goroutines, stopping early
// when ctx is cancelled.
func forEach(ctx context.Context, workers, n int, f func(i int)) {
	idx := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				f(i)
			}
		}()
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		idx <- i
	}
	close(idx)
	wg.Wait()
}

// checkWindowLocks reads the retention of every object version of the
// window's backups (or spec.Sample of them, drawn with spec.Seed) and
// records in w.Lock the backups with a version locked until before the
// backup's expiration (or not at all), and in w.PastMaxRetention those
// locked past creation+MaxRetention. A version without retention of its
// own is under the bucket's default, counted from its creation. The
// outcomes in done, by backup name, were found while reading.
func checkWindowLocks(ctx context.Context, spec WindowSpec, w *Window, lock objectstore.LockConfig, now time.Time, done map[string]lockOutcome) error {
	targets := w.lockTargets()
	names := make([]int, len(targets))
	for i := range names {
		names[i] = i
	}
	w.Lock.Checked = "all"
	if len(names) == 0 {
		w.Lock.Checked = "none"
	} else if spec.Sample > 0 && spec.Sample < len(names) {
		seed := spec.Seed
		w.Lock.Checked, w.Lock.Sample, w.Lock.Seed = "sample", spec.Sample, &seed
		r := rand.New(rand.NewPCG(uint64(spec.Seed), 0x77696e646f77)) // "window"
		r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
		names = names[:spec.Sample]
		slices.Sort(names)
	}
	shorts := make([]*LockShort, len(names))
	overs := make([]*Retained, len(names))
	var mu sync.Mutex
	var errs []error
	forEach(ctx, spec.Concurrency, len(names), func(i int) {
		b := targets[names[i]]
		o, ok := done[b.Name]
		if !ok {
			o.short, o.over, o.err = backupLock(ctx, spec, b, lock, now)
		}
		s, over, err := o.short, o.over, o.err
		mu.Lock()
		defer mu.Unlock()
		shorts[i], overs[i] = s, over
		if err != nil {
			errs = append(errs, err)
		}
	})
	for i, n := range names {
		w.Lock.Backups = append(w.Lock.Backups, targets[n].Name)
		if shorts[i] != nil {
			w.Lock.Short = append(w.Lock.Short, *shorts[i])
		}
		if overs[i] != nil {
			w.PastMaxRetention = append(w.PastMaxRetention, *overs[i])
		}
	}
	return errors.Join(errs...)
}

// lockTargets are the backups whose lock the window depends on: those in
// it and, when it is not one of them, the usable backup just before its
// start (Window.Oldest), its oldest recovery point: a restore from as far
// back as retention restores that one.
func (w *Window) lockTargets() []WindowBackup {
	if o := w.Oldest; o != nil && !slices.ContainsFunc(w.Backups, func(b WindowBackup) bool { return b.Name == o.Name }) {
		return append([]WindowBackup{*o}, w.Backups...)
	}
	return w.Backups
}

// lockOutcome is what backupLock found of one backup.
type lockOutcome struct {
	short *LockShort
	over  *Retained
	err   error
}

// backupLock judges the object versions of one backup: short is non-nil
// when a version is not locked until b's expiration (or could not be
// read), over when one is locked past b's creation + MaxRetention (the
// latest such date).
func backupLock(ctx context.Context, spec WindowSpec, b WindowBackup, lock objectstore.LockConfig, now time.Time) (short *LockShort, over *Retained, err error) {
	required := b.Expiration
	if required.IsZero() {
		required = now
	}
	prefix := backupPrefix(spec.Prefix, b.Name)
	note := func(key, problem string) {
		if short == nil {
			short = &LockShort{Backup: b.Name, Expiration: b.Expiration, Example: key, Problem: problem}
		}
		short.Versions++
	}
	limit := b.at().Add(spec.MaxRetention)
	var latest time.Time
	err = scanVersions(ctx, spec.Store, spec.Bucket, prefix, func(v objectstore.ObjectInfo) error {
		if v.DeleteMarker {
			return nil
		}
		r, err := spec.Store.ObjectRetention(ctx, spec.Bucket, v.Key, v.VersionID)
		switch {
		case errors.Is(err, objectstore.ErrNoObjectLockConfig) || err == nil && r.Mode == "":
			if p := lock.DefaultPeriod(); p > 0 {
				r = objectstore.Retention{Mode: lock.DefaultMode, RetainUntil: v.LastModified.Add(p)}
			} else {
				note(v.Key, "not locked")
				return nil
			}
		case err != nil:
			note(v.Key, fmt.Sprintf("retention unreadable: %v", err))
			return nil
		}
		if r.RetainUntil.Before(required) {
			note(v.Key, fmt.Sprintf("locked until %s, before the backup expires %s", r.RetainUntil.UTC().Format(time.RFC3339), required.UTC().Format(time.RFC3339)))
		}
		if r.RetainUntil.After(latest) {
			latest = r.RetainUntil
		}
		return nil
	})
	if err != nil {
		note(prefix, fmt.Sprintf("versions unreadable: %v", err))
		return short, nil, fmt.Errorf("list versions of backup %s: %w", b.Name, err)
	}
	if spec.MaxRetention > 0 && latest.After(limit) {
		over = &Retained{Kind: RetainedObjectLock, Subject: b.Name, Since: b.at(), Until: latest.UTC(), ExcessSeconds: latest.Sub(limit).Seconds()}
	}
	return short, over, nil
}

// sizePastMax counts the objects and bytes of the backups kept past
// maxRetention, spec.Concurrency listings at a time.
func sizePastMax(ctx context.Context, spec WindowSpec, w *Window) error {
	var idx []int
	for i, r := range w.PastMaxRetention {
		if r.Kind == RetainedBackup {
			idx = append(idx, i)
		}
	}
	var mu sync.Mutex
	var errs []error
	forEach(ctx, spec.Concurrency, len(idx), func(i int) {
		r := &w.PastMaxRetention[idx[i]]
		n, size, err := sumObjects(ctx, spec.Store, spec.Bucket, backupPrefix(spec.Prefix, r.Subject), time.Time{})
		r.Objects, r.Bytes = n, size
		if err != nil {
			mu.Lock()
			errs = append(errs, fmt.Errorf("list objects of backup %s: %w", r.Subject, err))
			mu.Unlock()
		}
	})
	return errors.Join(errs...)
}

// sumObjects counts the latest versions under prefix (only those last
// written before the given time, when not zero) and their bytes.
func sumObjects(ctx context.Context, st ObjectLister, bucket, prefix string, before time.Time) (n int, size int64, err error) {
	req := objectstore.ListRequest{Prefix: prefix}
	for {
		p, err := st.ListObjects(ctx, bucket, req)
		if err != nil {
			return n, size, err
		}
		for _, o := range p.Objects {
			if before.IsZero() || o.LastModified.Before(before) {
				n++
				size += o.Size
			}
		}
		if !p.IsTruncated {
			return n, size, nil
		}
		if p.NextContinuationToken == "" || p.NextContinuationToken == req.ContinuationToken {
			return n, size, fmt.Errorf("list s3://%s/%s: the server's continuation token does not advance", bucket, prefix)
		}
		req.ContinuationToken = p.NextContinuationToken
	}
}

// oldRepositoryObjects are, per file-system backup repository
// (<prefix>/kopia/<namespace>/, <prefix>/restic/<namespace>/), the
// objects holding volume data (kopia's p and q packs, restic's data/)
// last written before limit.
func oldRepositoryObjects(ctx context.Context, spec WindowSpec, limit time.Time) ([]Retained, error) {
	var out []Retained
	var errs []error
	for _, typ := range []string{velerov1.BackupRepositoryTypeKopia, velerov1.BackupRepositoryTypeRestic} {
		dir := keyPrefix(path.Join(spec.Prefix, typ))
		nss, err := listDirs(ctx, spec.Store, spec.Bucket, dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("list repositories in s3://%s/%s: %w", spec.Bucket, dir, err))
			continue
		}
		for _, name := range nss {
			ns := dir + name + "/"
			r := Retained{Kind: RetainedRepository, Subject: objectstore.URI(spec.Bucket, ns, "")}
			req := objectstore.ListRequest{Prefix: ns}
			var oldest time.Time
			for {
				p, err := spec.Store.ListObjects(ctx, spec.Bucket, req)
				if err != nil {
					errs = append(errs, fmt.Errorf("list repository s3://%s/%s: %w", spec.Bucket, ns, err))
					break
				}
				for _, o := range p.Objects {
					if !volumeData(typ, strings.TrimPrefix(o.Key, ns)) || !o.LastModified.Before(limit) {
						continue
					}
					r.Objects++
					r.Bytes += o.Size
					if oldest.IsZero() || o.LastModified.Before(oldest) {
						oldest = o.LastModified
					}
				}
				if !p.IsTruncated || p.NextContinuationToken == "" || p.NextContinuationToken == req.ContinuationToken {
					break
				}
				req.ContinuationToken = p.NextContinuationToken
			}
			if r.Objects > 0 {
				r.Since, r.ExcessSeconds = oldest.UTC(), limit.Sub(oldest).Seconds()
				out = append(out, r)
			}
		}
	}
	return out, errors.Join(errs...)
}

// volumeData reports whether a repository object (key relative to the
// repository) holds volume data: kopia's content packs ("p...") and
// metadata packs ("q...", file names among them), restic's data/ packs.
// Format blobs, indexes and logs hold none.
func volumeData(typ, rel string) bool {
	if typ == velerov1.BackupRepositoryTypeRestic {
		return strings.HasPrefix(rel, "data/")
	}
	return !strings.Contains(rel, "/") && (strings.HasPrefix(rel, "p") || strings.HasPrefix(rel, "q"))
}
