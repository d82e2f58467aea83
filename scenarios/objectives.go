package scenarios

import (
	"fmt"
	"slices"
	"time"

	"github.com/robfig/cron/v3"
)

// backupSpacing warns where the objectives ask for less than the time
// between two backups allows: the schedule's runs further apart than the
// RPO, and a retention, maxRetention or window shorter than the time
// between backups, which then holds no backup at times. The time between
// backups is the longest between the runs of scheduleCron when the scenario
// names its schedule; else it is unknown and the RPO stands for it (the
// most it may be if the backups meet the RPO), which the warnings say,
// with how to tell validate the real one. Contradictions
// between two objectives alone (maxRetention shorter than retention) are
// errors of objectives and backups.
func (v *validator) backupSpacing() {
	o, b := v.sc.Spec.Objectives, v.sc.Spec.Backups
	if o.RPO <= 0 {
		return
	}
	// A field with an error is fixed first; a warning would only repeat it.
	warnf := func(path, format string, args ...any) {
		if !v.d.reported(path) && !slices.ContainsFunc(v.d.errs, func(e *ValidationError) bool { return e.Path == path }) {
			v.warnf(path, format, args...)
		}
	}
	rpo := time.Duration(o.RPO)
	spacing := rpo
	// Without scheduleCron the time between backups is unknown, and the
	// RPO stands for it: the most it may be if the backups meet the RPO.
	// shorter says so, after the field's value; learn is the fix that
	// tells validate the real time, when the scenario names a schedule.
	shorter := fmt.Sprintf("may be shorter than the time between backups: the scenario names no schedule whose runs would tell, and the RPO objective allows backups as much as %s apart; if they are that far apart, ", o.RPO)
	learn := ""
	if v.has("spec.backups.schedule") && b.ScheduleCron == "" {
		ns := b.VeleroNamespace
		if ns == "" {
			ns = DefaultVeleroNamespace
		}
		shorter = fmt.Sprintf("may be shorter than the time between backups: without spec.backups.scheduleCron the runs of schedule %s are unknown, and the RPO objective allows backups as much as %s apart; if they are that far apart, ", b.Schedule, o.RPO)
		learn = fmt.Sprintf("; if they come more often, set spec.backups.scheduleCron to the Schedule's spec.schedule (kubectl -n %s get schedule %s -o jsonpath='{.spec.schedule}'), so that validate judges the real time between them", ns, b.Schedule)
	}
	if v.has("spec.backups.schedule") && b.ScheduleCron != "" {
		// An expression Velero refuses is an error of backups.
		sched, err := cron.ParseStandard(b.ScheduleCron)
		if err != nil {
			return
		}
		g, ok := longestCronGap(sched)
		if spec, isSpec := sched.(*cron.SpecSchedule); isSpec {
			// Next answers in the zone it is asked in; say when in the schedule's.
			g.from, g.to = g.from.In(spec.Location), g.to.In(spec.Location)
		}
		if !ok {
			warnf("spec.backups.scheduleCron", "%q never runs (no date matches it), so the schedule takes no backup and cannot meet the RPO objective %s; fix the expression (Velero accepts it and waits forever)",
				b.ScheduleCron, o.RPO)
			return
		}
		spacing = g.gap
		shorter = fmt.Sprintf("is shorter than the time between backups, which come as much as %s apart (the runs of scheduleCron %q): ", Duration(g.gap), b.ScheduleCron)
		if g.gap > rpo {
			when := ""
			if !g.regular {
				when = fmt.Sprintf(" (from %s to %s)", cronTime(g.from), cronTime(g.to))
			}
			warnf("spec.backups.scheduleCron", "%q runs as much as %s apart%s, longer than the RPO objective %s: the schedule alone cannot meet the RPO (a disaster just before a run loses up to %s of data); run it at least every %s, or raise spec.objectives.rpo to %s if that loss is acceptable",
				b.ScheduleCron, Duration(g.gap), when, o.RPO, Duration(g.gap), o.RPO, Duration(g.gap))
		}
	}
	at := Duration(spacing)
	if o.Retention > 0 && time.Duration(o.Retention) < spacing {
		pick := ""
		if b.Window != nil && !v.has("spec.backups.window.within") {
			pick = ", and the window pick (spec.backups.window, whose within defaults to retention) then finds no backup to restore"
		}
		warnf("spec.objectives.retention", "%s %sa window reaching back only %s holds no backup at times, so the recovery-window check judges little but the backup before it%s; set retention to at least %s (how far back a restore must reach, such as 7d for a week of nightly backups)%s",
			o.Retention, shorter, o.Retention, pick, at, learn)
	}
	if o.MaxRetention > 0 && o.MaxRetention >= o.Retention && time.Duration(o.MaxRetention) < spacing {
		warnf("spec.objectives.maxRetention", "%s %sa backup gone after %s leaves none to restore from at times; raise maxRetention to at least %s, or back up at least every %s%s",
			o.MaxRetention, shorter, o.MaxRetention, at, o.MaxRetention, learn)
	}
	if w := b.Window; w != nil && v.has("spec.backups.window.within") && time.Duration(w.Within) < spacing {
		warnf("spec.backups.window.within", "%s %sat times no backup started within %s before the disaster, and the drill has none to restore; look back at least %s%s",
			w.Within, shorter, w.Within, at, learn)
	}
}

// cronGap is the longest time between two consecutive runs of a cron
// schedule, from and to the runs around it; regular is true when every
// run follows the one before by the same time.
type cronGap struct {
	gap      time.Duration
	from, to time.Time
	regular  bool
}

// cronReference is where longestCronGap starts: a fixed time, so that
// validating a file always says the same.
var cronReference = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// maxCronRuns bounds the runs longestCronGap looks at: a schedule that
// runs every minute is not followed for a year (Velero's are hourly at
// the most, and a year of hourly runs is 8,760).
const maxCronRuns = 20000

// longestCronGap follows a year of runs of sched (time zone changes
// included, when it names a CRON_TZ), from the first run after
// cronReference, and returns the longest time between two of them; ok is
// false when sched never runs. A schedule that runs less than once a year
// (February 29) gives the time to its second run.
func longestCronGap(sched cron.Schedule) (g cronGap, ok bool) {
	first := sched.Next(cronReference)
	if first.IsZero() {
		return g, false
	}
	g.regular = true
	end := first.Add(366 * 24 * time.Hour)
	prev := first
	for range maxCronRuns {
		next := sched.Next(prev)
		if next.IsZero() {
			break
		}
		switch gap := next.Sub(prev); {
		case gap > g.gap:
			if g.gap > 0 {
				g.regular = false
			}
			g.gap, g.from, g.to = gap, prev, next
		case gap < g.gap:
			g.regular = false
		}
		if next.After(end) {
			break
		}
		prev = next
	}
	return g, g.gap > 0
}

// cronTime writes a run's time with its weekday, in the schedule's time
// zone: "Sat 2025-01-04 03:00 UTC".
func cronTime(t time.Time) string { return t.Format("Mon 2006-01-02 15:04 MST") }
