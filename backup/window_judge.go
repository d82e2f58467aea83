package backup

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
)

// windowObjectives are what a window is judged against; zero durations
// are not declared.
type windowObjectives struct {
	retention, maxRetention, rpo time.Duration
}

// cronSchedule is a parsed cron expression and the time zone its
// CRON_TZ= names (nil for UTC or none).
type cronSchedule struct {
	expr  string
	sched cron.Schedule
	loc   *time.Location
}

// parseCron parses expr as Velero parses a Schedule's spec.schedule
// (cron.ParseStandard: five fields, descriptors like @daily and @every,
// an optional CRON_TZ= or TZ= time zone).
func parseCron(expr string) (*cronSchedule, error) {
	s, err := cron.ParseStandard(expr)
	if err != nil {
		return nil, err
	}
	cs := &cronSchedule{expr: expr, sched: s}
	if spec, ok := s.(*cron.SpecSchedule); ok && spec.Location != time.Local && spec.Location != time.UTC {
		cs.loc = spec.Location
	}
	return cs, nil
}

// at is when a backup's run happened: its creation, else its start.
func (b WindowBackup) at() time.Time {
	if !b.Created.IsZero() {
		return b.Created
	}
	return b.Started
}

// point is the recovery point a usable backup gives: its start (what was
// written after it may be missing), else its creation.
func (b WindowBackup) point() time.Time {
	if !b.Started.IsZero() {
		return b.Started
	}
	return b.Created
}

// windowBackup is the WindowBackup of a Backup read from the bucket.
func windowBackup(vb *velerov1.Backup, allowPartiallyFailed bool) WindowBackup {
	return WindowBackup{
		Name:          vb.Name,
		Phase:         string(vb.Status.Phase),
		Created:       vb.CreationTimestamp.UTC(),
		Started:       utc(vb.Status.StartTimestamp),
		Completed:     utc(vb.Status.CompletionTimestamp),
		Expiration:    utc(vb.Status.Expiration),
		TTLSeconds:    vb.Spec.TTL.Seconds(),
		Errors:        vb.Status.Errors,
		Warnings:      vb.Status.Warnings,
		FailureReason: vb.Status.FailureReason,
		Usable:        restorablePhase(vb.Status.Phase, allowPartiallyFailed),
	}
}

func restorablePhase(p velerov1.BackupPhase, allowPartiallyFailed bool) bool {
	return p == velerov1.BackupPhaseCompleted || allowPartiallyFailed && p == velerov1.BackupPhasePartiallyFailed
}

// judgeWindow works out the window of a schedule's backups (any order)
// at now: its bounds, the backups a restore would not take, the runs cs
// expected that left no backup (none looked for when cs is nil), the
// worst gap and what is kept past maxRetention. It does no I/O; the lock
// coverage and the bucket's and repositories' retention are added by
// CheckWindow.
//
// A run due at t is missed when no backup was created in [t, next due
// time) and the next due time has passed; runs are looked for from the
// later of the window's start and the schedule's oldest backup (before
// it, the window is short, not missed). Velero does not catch up missed
// runs (pkg/controller/schedule_controller.go), so each is a lost point.
func judgeWindow(schedule string, bs []WindowBackup, cs *cronSchedule, now time.Time, o windowObjectives) Window {
	w := Window{
		Schedule: schedule, CheckedAt: now.UTC(),
		RetentionSeconds: o.retention.Seconds(), MaxRetentionSeconds: o.maxRetention.Seconds(), RPOSeconds: o.rpo.Seconds(),
		BackupCount: len(bs), Backups: []WindowBackup{}, NotCompleted: []WindowBackup{}, MissedRuns: []MissedRun{},
		Lock: LockCoverage{Checked: "none", Backups: []string{}, Short: []LockShort{}}, PastMaxRetention: []Retained{},
	}
	if cs != nil {
		w.Cron = cs.expr
	}
	if o.retention > 0 {
		w.From = w.CheckedAt.Add(-o.retention)
	}
	bs = slices.Clone(bs)
	slices.SortFunc(bs, func(a, b WindowBackup) int {
		return cmp.Or(a.at().Compare(b.at()), strings.Compare(a.Name, b.Name))
	})

	// The usable backups by recovery point; the one just before the
	// window's start anchors its first gap.
	var usable []WindowBackup
	for _, b := range bs {
		if b.Usable {
			usable = append(usable, b)
		}
		if b.at().Before(w.From) {
			continue
		}
		w.Backups = append(w.Backups, b)
		if b.Phase != string(velerov1.BackupPhaseCompleted) {
			w.NotCompleted = append(w.NotCompleted, b)
		}
	}
	slices.SortStableFunc(usable, func(a, b WindowBackup) int { return a.point().Compare(b.point()) })
	w.Usable = len(usable)

	first := 0 // the first usable backup that counts for the window
	for i, b := range usable {
		if !b.point().After(w.From) {
			first = i
		}
	}
	if len(usable) > 0 {
		oldest, newest := usable[first], usable[len(usable)-1]
		w.Oldest, w.Newest = &oldest, &newest
	}
	switch {
	case w.Oldest == nil:
		w.MissingSeconds = o.retention.Seconds()
	case w.From.IsZero() || !w.Oldest.point().After(w.From):
		w.ReachesBack = true
	default:
		w.MissingSeconds = w.Oldest.point().Sub(w.From).Seconds()
	}

	if len(usable) > 0 {
		in := usable[first:]
		gap := func(a WindowBackup, to time.Time, toName string) *Gap {
			g := &Gap{From: a.point(), To: to, FromBackup: a.Name, ToBackup: toName, Seconds: to.Sub(a.point()).Seconds()}
			g.OverRPO = o.rpo > 0 && g.Seconds > o.rpo.Seconds()
			return g
		}
		w.WorstGap = gap(in[len(in)-1], w.CheckedAt, "")
		for i := 1; i < len(in); i++ {
			if g := gap(in[i-1], in[i].point(), in[i].Name); g.Seconds > w.WorstGap.Seconds {
				w.WorstGap = g
			}
		}
	}

	if cs != nil && len(bs) > 0 {
		w.MissedRuns, w.MissedRunCount = missedRuns(cs, bs, maxTime(w.From, bs[0].at()), w.CheckedAt)
	}

	if o.maxRetention > 0 {
		limit := w.CheckedAt.Add(-o.maxRetention)
		for _, b := range bs {
			if b.at().Before(limit) {
				w.PastMaxRetention = append(w.PastMaxRetention, Retained{
					Kind: RetainedBackup, Subject: b.Name, Since: b.at(), Until: b.Expiration,
					ExcessSeconds: limit.Sub(b.at()).Seconds(),
				})
			}
		}
		w.PastMaxRetention = append(w.PastMaxRetention, longTTLs(bs, o.maxRetention)...)
	}
	return w
}

// The values of Retained.Kind.
const (
	RetainedBackup     = "backup"
	RetainedRepository = "repository"
	RetainedTTL        = "ttl"
	RetainedBucketLock = "bucket-lock"
	RetainedObjectLock = "object-lock"
)

// longTTLs are the backups whose Velero TTL keeps them past maxRetention:
// the newest of each TTL, Objects counting the backups with it.
func longTTLs(bs []WindowBackup, maxRetention time.Duration) []Retained {
	byTTL := map[float64]*Retained{}
	var order []float64
	for _, b := range bs { // oldest first: the last one seen is the newest
		if b.TTLSeconds <= maxRetention.Seconds() {
			continue
		}
		r, ok := byTTL[b.TTLSeconds]
		if !ok {
			r = &Retained{Kind: RetainedTTL, ExcessSeconds: b.TTLSeconds - maxRetention.Seconds()}
			byTTL[b.TTLSeconds] = r
			order = append(order, b.TTLSeconds)
		}
		r.Subject, r.Since, r.Until = b.Name, b.at(), b.Expiration
		r.Objects++
	}
	out := make([]Retained, 0, len(order))
	for _, ttl := range order {
		out = append(out, *byTTL[ttl])
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// missedRuns are the runs of cs due after from (exclusive) whose period
// [due, next due) has passed by now with no backup of bs (sorted by at)
// created in it; at most MaxWindowItems of them, with the count of all.
func missedRuns(cs *cronSchedule, bs []WindowBackup, from, now time.Time) ([]MissedRun, int) {
	out := []MissedRun{}
	n, j := 0, 0
	for due := cs.sched.Next(from); !due.IsZero(); {
		next := cs.sched.Next(due)
		if next.IsZero() || next.After(now) {
			break
		}
		for j < len(bs) && bs[j].at().Before(due) {
			j++
		}
		if j == len(bs) || !bs[j].at().Before(next) {
			n++
			if len(out) < MaxWindowItems {
				m := MissedRun{Expected: due.UTC()}
				if cs.loc != nil {
					m.ExpectedLocal = due.In(cs.loc).Format(time.RFC3339)
				}
				out = append(out, m)
			}
		}
		due = next
	}
	return out, n
}
