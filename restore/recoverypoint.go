package restore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"

	"github.com/firedrill-dev/firedrill/internal/durfmt"
	"github.com/firedrill-dev/firedrill/internal/recoverypoint"
)

// ErrNoBackup is returned (wrapped) when no backup matches the selector.
var ErrNoBackup = errors.New("no backup to restore")

// RecoveryPoint is the chosen backup.
type RecoveryPoint struct {
	Backup string `json:"backup"`
	// Schedule is the Velero Schedule that took it, if any.
	Schedule string `json:"schedule,omitempty"`
	// StorageLocation is the location the Backup object names in the target.
	StorageLocation string `json:"storage_location"`
	// Phase is Velero's status.phase of the backup: Completed, or
	// PartiallyFailed when the selector allows it (AllowPartiallyFailed).
	Phase velerov1.BackupPhase `json:"phase"`
	// Warnings and Errors are the backup's status.warnings and
	// status.errors: how many items Velero warned about or could not back up.
	Warnings int `json:"warnings"`
	Errors   int `json:"errors"`
	// Results are the backup's warnings and errors, item by item, read from
	// its results object (<prefix>/backups/<name>/<name>-results.gz, through
	// a Velero DownloadRequest) when the backup is PartiallyFailed;
	// ResultsError says why they could not be read.
	Results      *Results `json:"results,omitempty"`
	ResultsError string   `json:"results_error,omitempty"`
	// Started and Completed are Velero's (whole seconds).
	Started   time.Time `json:"started"`
	Completed time.Time `json:"completed"`
	// DisasterTime is what RPO is measured from.
	DisasterTime time.Time `json:"disaster_time"`
	// RPOSeconds = DisasterTime - Started. Start, not completion: Velero
	// reads the cluster between the two, so only what was written before
	// the start is certainly in the backup; data written during the backup
	// may or may not be. Measuring from the start never understates the loss.
	RPOSeconds float64 `json:"rpo_seconds"`
	// Seed is the seed of a random pick within a window: the scenario's
	// window.seed, or one the restore chose (in [0, 2^53), so it survives
	// a JSON reader that keeps numbers as float64). The same seed over the
	// same candidates picks the same backup.
	Seed *int64 `json:"seed,omitempty"`
	// Candidates is how many backups the selector chose among.
	Candidates int `json:"candidates"`
	// Why says, in words, how the backup was chosen: the rule, the
	// candidates and, for a random pick, the seed to replay it with.
	Why string `json:"why"`
	// Skipped are the backups of the selector, newer than the recovery
	// point and not after the disaster, that could not be restored
	// (PartiallyFailed without AllowPartiallyFailed, Failed,
	// FailedValidation, still running, being deleted), newest first: the
	// RPO is measured from an older backup because of them.
	Skipped []recoverypoint.SkippedBackup `json:"skipped,omitempty"`
}

// SelectBackup chooses the backup among the Velero Backup objects of the
// target cluster (Velero syncs them from the bucket). When a backup named
// by name is not there yet, it waits up to syncWait for Velero's backup sync
// to bring it (see waitForBackup for why firedrill waits instead of creating
// the object itself). now is firedrill's clock, used when disaster is zero.
// A backup is restorable when Completed, or PartiallyFailed with
// sel.AllowPartiallyFailed (as `velero restore create --from-schedule
// --allow-partially-failed` chooses); the newer backups that are not are
// listed in RecoveryPoint.Skipped, and in the error when none is left
// (ErrNoBackup, wrapped).
func SelectBackup(ctx context.Context, dyn dynamic.Interface, veleroNS string, sel BackupSelector,
	disaster time.Time, syncWait time.Duration) (*RecoveryPoint, error) {
	backups := dyn.Resource(backupsGVR).Namespace(veleroNS)
	var chosen *velerov1.Backup
	rp := &RecoveryPoint{DisasterTime: disaster}
	switch {
	case sel.Name != "":
		u, err := backups.Get(ctx, sel.Name, metav1.GetOptions{})
		var b *velerov1.Backup
		switch {
		case apierrors.IsNotFound(err):
			b, err = waitForBackup(ctx, dyn, veleroNS, sel.Name, syncWait)
		case err == nil:
			b, err = toBackup(u)
		}
		if err != nil {
			return nil, err
		}
		if !recoverypoint.RestorablePhase(b.Status.Phase, sel.AllowPartiallyFailed) {
			return nil, fmt.Errorf("backup %q is not restorable: %s: %w", sel.Name, recoverypoint.Reason(b, sel.AllowPartiallyFailed), ErrNoBackup)
		}
		chosen, rp.Candidates = b, 1
		rp.Why = fmt.Sprintf("named by the scenario (backupName %s)", sel.Name)
	default:
		opts := metav1.ListOptions{}
		if sel.Schedule != "" {
			opts.LabelSelector = labelScheduleName + "=" + sel.Schedule
		}
		list, err := backups.List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("list Velero backups in namespace %s: %w", veleroNS, err)
		}
		inScope, err := backupsInScope(list.Items, sel, disaster)
		if err != nil {
			return nil, err
		}
		var cands []*velerov1.Backup
		for _, b := range inScope {
			if recoverypoint.Restorable(b, sel.AllowPartiallyFailed) {
				cands = append(cands, b)
			}
		}
		rp.Candidates = len(cands)
		if len(cands) == 0 {
			err := fmt.Errorf("%s: %w", describeSelector(sel, disaster), ErrNoBackup)
			if skipped := skippedSince(inScope, time.Time{}, sel); len(skipped) > 0 {
				err = fmt.Errorf("%s; not restorable: %s: %w", describeSelector(sel, disaster), recoverypoint.Join(skipped), ErrNoBackup)
			}
			return nil, err
		}
		chosen = cands[0]
		rp.Why = fmt.Sprintf("the newest of %d %s", len(cands), describeCandidates(sel))
		if sel.Window != nil && sel.Window.Random {
			seed := NewSeed()
			if sel.Window.Seed != nil {
				seed = *sel.Window.Seed
			}
			rp.Seed = &seed
			chosen = PickRandom(cands, seed)
			rp.Why = fmt.Sprintf("picked at random with seed %d among %d %s (newest first, it is number %d); window.seed: %d replays the pick",
				seed, len(cands), describeCandidates(sel), slices.Index(cands, chosen)+1, seed)
		}
		rp.Skipped = skippedSince(inScope, chosen.Status.StartTimestamp.Time, sel)
	}
	rp.Backup = chosen.Name
	rp.Schedule = chosen.Labels[labelScheduleName]
	rp.StorageLocation = chosen.Spec.StorageLocation
	rp.Phase = chosen.Status.Phase
	rp.Warnings, rp.Errors = chosen.Status.Warnings, chosen.Status.Errors
	if t := chosen.Status.StartTimestamp; t != nil {
		rp.Started = t.UTC()
		rp.RPOSeconds = disaster.Sub(rp.Started).Seconds()
	}
	if t := chosen.Status.CompletionTimestamp; t != nil {
		rp.Completed = t.UTC()
	}
	return rp, nil
}

// maxSeed bounds the seeds NewSeed chooses: 2^53, the largest range of
// integers a float64 (JSON numbers in JavaScript, jq) holds exactly.
const maxSeed = 1 << 53

// NewSeed is a random seed for a window's random pick, in [0, 2^53).
func NewSeed() int64 { return rand.Int64N(maxSeed) }

// PickRandom is the backup of cands (newest first, as backupsInScope
// orders them) that seed picks: the same seed over the same candidates
// always picks the same one (PCG with the seed as its state). cands must
// not be empty.
func PickRandom[T any](cands []T, seed int64) T {
	r := rand.New(rand.NewPCG(uint64(seed), 0))
	return cands[r.IntN(len(cands))]
}

// describeCandidates is what a selector without a name chose among, e.g.
// "Completed backups of schedule \"daily\"".
func describeCandidates(sel BackupSelector) string {
	what := "Completed"
	if sel.AllowPartiallyFailed {
		what = "Completed or PartiallyFailed"
	}
	switch {
	case sel.Schedule != "" && sel.Window != nil:
		return fmt.Sprintf("%s backups of schedule %q started within %s before the disaster", what, sel.Schedule, durfmt.Seconds(sel.Window.Within.Seconds()))
	case sel.Schedule != "":
		return fmt.Sprintf("%s backups of schedule %q", what, sel.Schedule)
	case sel.Window != nil:
		return fmt.Sprintf("%s backups started within %s before the disaster", what, durfmt.Seconds(sel.Window.Within.Seconds()))
	}
	return what + " backups"
}

// toBackup converts a Backup read through the dynamic client to Velero's type.
func toBackup(u *unstructured.Unstructured) (*velerov1.Backup, error) {
	var b velerov1.Backup
	if err := fromObject(u, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// backupsInScope are the backups the selector chooses among, whatever
// their phase, newest first: not after the disaster and, with a window,
// within it. Of two started in the same (whole) second, the later name
// comes first: scheduled backups are named <schedule>-<yyyymmddhhmmss>.
func backupsInScope(items []unstructured.Unstructured, sel BackupSelector, disaster time.Time) ([]*velerov1.Backup, error) {
	var out []*velerov1.Backup
	for i := range items {
		b, err := toBackup(&items[i])
		if err != nil {
			return nil, err
		}
		t := recoverypoint.Time(b)
		if t.IsZero() || t.After(disaster) {
			continue
		}
		if sel.Window != nil && t.Before(disaster.Add(-sel.Window.Within)) {
			continue
		}
		out = append(out, b)
	}
	slices.SortStableFunc(out, func(a, b *velerov1.Backup) int {
		if c := recoverypoint.Time(b).Compare(recoverypoint.Time(a)); c != 0 {
			return c
		}
		return compareStrings(b.Name, a.Name)
	})
	return out, nil
}

// skippedSince lists the backups of inScope (newest first) that are not
// restorable and are newer than after (all of them when after is zero).
func skippedSince(inScope []*velerov1.Backup, after time.Time, sel BackupSelector) []recoverypoint.SkippedBackup {
	var out []recoverypoint.SkippedBackup
	for _, b := range inScope {
		if recoverypoint.Restorable(b, sel.AllowPartiallyFailed) || !after.IsZero() && !recoverypoint.Time(b).After(after) {
			continue
		}
		out = append(out, recoverypoint.Skip(b, sel.AllowPartiallyFailed))
	}
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func describeSelector(sel BackupSelector, disaster time.Time) string {
	what := "Completed"
	if sel.AllowPartiallyFailed {
		what = "Completed or PartiallyFailed"
	}
	switch {
	case sel.Name != "":
		return fmt.Sprintf("backup %q", sel.Name)
	case sel.Schedule != "" && sel.Window != nil:
		return fmt.Sprintf("no %s backup of schedule %q started within %s before the disaster (from %s to %s)", what, sel.Schedule, durfmt.Seconds(sel.Window.Within.Seconds()),
			disaster.Add(-sel.Window.Within).UTC().Format(time.RFC3339), disaster.UTC().Format(time.RFC3339))
	case sel.Schedule != "":
		return fmt.Sprintf("no %s backup of schedule %q", what, sel.Schedule)
	case sel.Window != nil:
		return fmt.Sprintf("no %s backup started within %s before the disaster (from %s to %s)", what, durfmt.Seconds(sel.Window.Within.Seconds()),
			disaster.Add(-sel.Window.Within).UTC().Format(time.RFC3339), disaster.UTC().Format(time.RFC3339))
	}
	return "no selector"
}

// waitForBackup waits, with a watch, for Velero's backup sync to create the
// Backup object name in the target.
//
// Why wait rather than create the Backup object from the bucket's
// velero-backup.json: the sync runs on a 1-minute tick, so the wait is
// bounded and short, and the recovery-point step does not count toward RTO.
// The object the sync creates is exactly what Velero expects (labels,
// status, the location that holds it), is Velero's own and is not the
// drill's to clean up, and firedrill needs no read access to the bucket. A
// hand-made object would copy Velero's sync logic and could race with it,
// and the sync would delete it again (deleteOrphanedBackups) if its
// location did not list it. When the location itself is the problem (the
// primary storage is lost), the drill points the Backup at the copy's
// location instead (see useCopyLocation).
func waitForBackup(ctx context.Context, dyn dynamic.Interface, veleroNS, name string, wait time.Duration) (*velerov1.Backup, error) {
	notFound := fmt.Errorf("backup %q not found in namespace %s of the target (waited %s for Velero's backup sync): %w",
		name, veleroNS, wait, ErrNoBackup)
	if wait <= 0 {
		return nil, notFound
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var b *velerov1.Backup
	err := untilObject(wctx, dyn, listWatchOne(dyn.Resource(backupsGVR).Namespace(veleroNS), name), &unstructured.Unstructured{},
		veleroNS+"/"+name, nil, func(ev watch.Event) (bool, error) {
			if ev.Type != watch.Added && ev.Type != watch.Modified {
				return false, nil
			}
			var err error
			b, err = toBackup(ev.Object.(*unstructured.Unstructured))
			return err == nil, err
		})
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return nil, notFound
	}
	if err != nil {
		return nil, fmt.Errorf("wait for backup %q: %w", name, err)
	}
	return b, nil
}

func orNone(s string) string {
	if s == "" {
		return "without a phase"
	}
	return s
}
