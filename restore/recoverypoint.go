package restore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
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
	// Seed is the seed of a random pick within a window.
	Seed *int64 `json:"seed,omitempty"`
	// Candidates is how many backups the selector chose among.
	Candidates int `json:"candidates"`
}

// SelectBackup chooses the backup among the Velero Backup objects of the
// target cluster (Velero syncs them from the bucket). When a backup named
// by name is not there yet, it waits up to syncWait for Velero's backup sync
// to bring it (see waitForBackup for why firedrill waits instead of creating
// the object itself). now is firedrill's clock, used when disaster is zero.
func SelectBackup(ctx context.Context, dyn dynamic.Interface, veleroNS string, sel BackupSelector,
	disaster time.Time, syncWait time.Duration) (*RecoveryPoint, error) {
	backups := dyn.Resource(backupsGVR).Namespace(veleroNS)
	var chosen *unstructured.Unstructured
	rp := &RecoveryPoint{DisasterTime: disaster}
	switch {
	case sel.Name != "":
		b, err := backups.Get(ctx, sel.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			b, err = waitForBackup(ctx, dyn, veleroNS, sel.Name, syncWait)
		}
		if err != nil {
			return nil, err
		}
		if p := str(b, "status", "phase"); p != "Completed" {
			return nil, fmt.Errorf("backup %q is %s, not Completed: %w", sel.Name, orNone(p), ErrNoBackup)
		}
		chosen, rp.Candidates = b, 1
	default:
		opts := metav1.ListOptions{}
		if sel.Schedule != "" {
			opts.LabelSelector = labelScheduleName + "=" + sel.Schedule
		}
		list, err := backups.List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("list Velero backups in namespace %s: %w", veleroNS, err)
		}
		cands := candidates(list.Items, sel, disaster)
		rp.Candidates = len(cands)
		if len(cands) == 0 {
			return nil, fmt.Errorf("%s: %w", describeSelector(sel), ErrNoBackup)
		}
		chosen = cands[0]
		if sel.Window != nil && sel.Window.Random {
			seed := time.Now().UnixNano()
			if sel.Window.Seed != nil {
				seed = *sel.Window.Seed
			}
			rp.Seed = &seed
			r := rand.New(rand.NewPCG(uint64(seed), 0))
			chosen = cands[r.IntN(len(cands))]
		}
	}
	rp.Backup = chosen.GetName()
	rp.Schedule = chosen.GetLabels()[labelScheduleName]
	rp.StorageLocation = str(chosen, "spec", "storageLocation")
	rp.Started = parseTime(str(chosen, "status", "startTimestamp"))
	rp.Completed = parseTime(str(chosen, "status", "completionTimestamp"))
	if !rp.Started.IsZero() {
		rp.RPOSeconds = disaster.Sub(rp.Started).Seconds()
	}
	return rp, nil
}

// candidates are the Completed backups the selector allows, newest first.
func candidates(items []unstructured.Unstructured, sel BackupSelector, disaster time.Time) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for i := range items {
		b := &items[i]
		if str(b, "status", "phase") != "Completed" {
			continue
		}
		start := parseTime(str(b, "status", "startTimestamp"))
		if start.IsZero() || start.After(disaster) {
			continue
		}
		if sel.Window != nil && start.Before(disaster.Add(-sel.Window.Within)) {
			continue
		}
		out = append(out, b)
	}
	slices.SortStableFunc(out, func(a, b *unstructured.Unstructured) int {
		ta, tb := parseTime(str(a, "status", "startTimestamp")), parseTime(str(b, "status", "startTimestamp"))
		if c := tb.Compare(ta); c != 0 {
			return c
		}
		return compareStrings(b.GetName(), a.GetName())
	})
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

func describeSelector(sel BackupSelector) string {
	switch {
	case sel.Name != "":
		return fmt.Sprintf("backup %q", sel.Name)
	case sel.Schedule != "":
		return fmt.Sprintf("no Completed backup of schedule %q", sel.Schedule)
	case sel.Window != nil:
		return fmt.Sprintf("no Completed backup started within %s before the disaster", sel.Window.Within)
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
func waitForBackup(ctx context.Context, dyn dynamic.Interface, veleroNS, name string, wait time.Duration) (*unstructured.Unstructured, error) {
	notFound := fmt.Errorf("backup %q not found in namespace %s of the target (waited %s for Velero's backup sync): %w",
		name, veleroNS, wait, ErrNoBackup)
	if wait <= 0 {
		return nil, notFound
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	res := dyn.Resource(backupsGVR).Namespace(veleroNS)
	sel := fields.OneTermEqualSelector("metadata.name", name).String()
	list, err := res.List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("list backup %q: %w", name, err)
	}
	if len(list.Items) > 0 {
		return &list.Items[0], nil
	}
	w, err := res.Watch(ctx, metav1.ListOptions{FieldSelector: sel, ResourceVersion: list.GetResourceVersion()})
	if err != nil {
		return nil, fmt.Errorf("watch backup %q: %w", name, err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, notFound
			}
			return nil, ctx.Err()
		case ev, ok := <-w.ResultChan():
			if !ok {
				return waitForBackup(ctx, dyn, veleroNS, name, time.Until(deadline(ctx)))
			}
			if ev.Type == watch.Added || ev.Type == watch.Modified {
				if u, ok := ev.Object.(*unstructured.Unstructured); ok {
					return u, nil
				}
			}
		}
	}
}

func deadline(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func orNone(s string) string {
	if s == "" {
		return "without a phase"
	}
	return s
}
