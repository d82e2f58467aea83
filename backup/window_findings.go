package backup

import (
	"fmt"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/firedrill-dev/firedrill/internal/durfmt"
	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/internal/plural"
)

// maxWindowFindings bounds the findings of one kind listed one by one;
// the last one counts the rest.
const maxWindowFindings = 10

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// sizeOf renders a size in binary units (go-humanize's IBytes).
func sizeOf(n int64) string { return humanize.IBytes(uint64(max(n, 0))) }

// windowFindings turns a judged window into findings, one ID per kind of
// fault (IDWindow*): a pass where the kind was checked and found nothing.
// cronNote says why missed runs were not looked for when w.Cron is empty.
func windowFindings(w *Window, subject string, lock objectstore.LockConfig, cronNote string) []finding.Finding {
	var fs []finding.Finding
	what := "backups"
	if w.Schedule != "" {
		what = "backups of schedule " + w.Schedule
	}

	// The window's length against retention.
	switch {
	case w.Oldest == nil:
		fs = append(fs, finding.Fail(IDWindowShort, finding.SeverityFail, subject,
			fmt.Sprintf("no usable %s in the bucket (%d found): nothing to restore from", what, w.BackupCount)).
			With(retentionWant(w), "no usable backup", "check that the schedule runs and its backups complete (velero schedule describe, velero backup logs)"))
	case !w.ReachesBack:
		fs = append(fs, finding.Fail(IDWindowShort, finding.SeverityFail, subject,
			fmt.Sprintf("the window reaches back only to %s (%s), %s short of the retention %s: the oldest usable backup is %s",
				rfc(w.Oldest.point()), durfmt.Seconds(w.CheckedAt.Sub(w.Oldest.point()).Seconds()), durfmt.Seconds(w.MissingSeconds), durfmt.Seconds(w.RetentionSeconds), w.Oldest.Name)).
			With(retentionWant(w), "back to "+rfc(w.Oldest.point()),
				"backups older than that are gone or never completed: check the schedule's TTL (at least the retention), the bucket's lifecycle rules and when the schedule was created"))
	default:
		msg := fmt.Sprintf("%d usable %s from %s (%s) to %s (%s)", w.Usable, what,
			rfc(w.Oldest.point()), w.Oldest.Name, rfc(w.Newest.point()), w.Newest.Name)
		if w.RetentionSeconds > 0 {
			msg += fmt.Sprintf(": the window reaches back the retention %s", durfmt.Seconds(w.RetentionSeconds))
		}
		fs = append(fs, finding.Pass(IDWindowShort, subject, msg))
	}

	// Backups a restore would not take.
	for i, b := range w.NotCompleted {
		if i == maxWindowFindings {
			fs = append(fs, finding.Warn(IDWindowFailedBackup, subject, "and "+plural.Count(len(w.NotCompleted)-i, "more backup", "more backups")+" in the window not Completed"))
			break
		}
		msg := fmt.Sprintf("backup %s of %s is %s (%s, %s)", b.Name, rfc(b.at()), orNone(b.Phase, "without a phase"),
			plural.Count(b.Errors, "error", "errors"), plural.Count(b.Warnings, "warning", "warnings"))
		if b.FailureReason != "" {
			msg += ": " + b.FailureReason
		}
		if b.Usable {
			msg += "; counted as usable (allowPartiallyFailed)"
		}
		fs = append(fs, finding.Warn(IDWindowFailedBackup, subject, msg).
			With("Completed", orNone(b.Phase, "no phase"), "velero backup describe "+b.Name+" --details; velero backup logs "+b.Name))
	}
	if len(w.NotCompleted) == 0 && len(w.Backups) > 0 {
		fs = append(fs, finding.Pass(IDWindowFailedBackup, subject, fmt.Sprintf("%s in the window Completed", plural.Of(len(w.Backups), "the one backup", fmt.Sprintf("all %d backups", len(w.Backups))))))
	}

	// Runs that left no backup.
	switch {
	case w.Cron == "":
		fix := "set spec.backups.scheduleCron to the Schedule's spec.schedule, or let the drill read the source cluster's Schedule"
		if w.Schedule == "" {
			fix = "name the Velero Schedule in spec.backups.schedule (window then picks among its backups), and its spec.schedule in spec.backups.scheduleCron"
		}
		fs = append(fs, finding.Warn(IDWindowMissedRun, subject,
			cronNote+": runs that left no backup were not looked for").With("", "", fix))
	case w.MissedRunCount == 0:
		fs = append(fs, finding.Pass(IDWindowMissedRun, subject, fmt.Sprintf("every run of %q in the window left a backup", w.Cron)))
	default:
		for i, m := range w.MissedRuns {
			if i == maxWindowFindings {
				fs = append(fs, finding.Warn(IDWindowMissedRun, subject, "and "+plural.Count(w.MissedRunCount-i, "more run", "more runs")+" that left no backup"))
				break
			}
			at := rfc(m.Expected)
			if m.ExpectedLocal != "" {
				at += " (" + m.ExpectedLocal + ")"
			}
			fs = append(fs, finding.Warn(IDWindowMissedRun, subject, fmt.Sprintf("the run of %q due %s left no backup", w.Cron, at)).
				With("a backup created before the next run", "none",
					"Velero skips a run while a backup of the schedule is still in progress or when its server was down, and does not catch up: check the Velero server's logs around that time"))
		}
	}

	// The worst gap against the RPO.
	if g := w.WorstGap; g != nil {
		to := "now"
		if g.ToBackup != "" {
			to = g.ToBackup
		}
		msg := fmt.Sprintf("worst gap %s between usable backups, from %s (%s) to %s (%s)", durfmt.Seconds(g.Seconds), rfc(g.From), g.FromBackup, rfc(g.To), to)
		switch {
		case g.OverRPO:
			fs = append(fs, finding.Fail(IDWindowGap, finding.SeverityFail, subject, msg+fmt.Sprintf(": a disaster then would have lost more than the RPO %s", durfmt.Seconds(w.RPOSeconds))).
				With("at most "+durfmt.Seconds(w.RPOSeconds), durfmt.Seconds(g.Seconds),
					"runs were missed or failed in that time (see window.missed-run and window.failed-backup); schedule backups at least as often as the RPO"))
		case w.RPOSeconds > 0:
			fs = append(fs, finding.Pass(IDWindowGap, subject, msg+fmt.Sprintf(", within the RPO %s", durfmt.Seconds(w.RPOSeconds))))
		default:
			fs = append(fs, finding.Pass(IDWindowGap, subject, msg))
		}
	}

	// Object lock of the window's backups.
	if w.Lock.Checked != "none" {
		for i, s := range w.Lock.Short {
			if i == maxWindowFindings {
				more := len(w.Lock.Short) - i
				fs = append(fs, finding.Fail(IDWindowUnlocked, finding.SeverityFail, subject, "and "+plural.Count(more, "more backup", "more backups")+" not locked until "+plural.Of(more, "it expires", "they expire")))
				break
			}
			fs = append(fs, finding.Fail(IDWindowUnlocked, finding.SeverityFail, subject,
				fmt.Sprintf("backup %s: %s not locked until it expires %s, e.g. %s: %s", s.Backup, plural.Count(s.Versions, "object version", "object versions"), rfc(s.Expiration), s.Example, s.Problem)).
				With("every version locked until "+rfc(s.Expiration), s.Problem,
					"give the bucket a COMPLIANCE default retention at least the schedule's TTL; PutObjectRetention can extend an existing version's lock"))
		}
		if len(w.Lock.Short) == 0 {
			fs = append(fs, finding.Pass(IDWindowUnlocked, subject, lockPassText(w)))
		} else {
			fs = append(fs, finding.Fail(IDWindowUnlocked, finding.SeverityFail, subject, lockShortText(w)))
		}
	}

	// Remembering to forget.
	if w.MaxRetentionSeconds > 0 {
		fs = append(fs, forgetFindings(w, subject, lock)...)
	}
	return fs
}

// lockChecked names the backups whose lock was checked, and counts them:
// "the 8 backups in the window", "the 4 backups (the 3 in the window and
// the one before its start that it reaches back to)", "the 3 drawn (seed
// 42) from ...".
func lockChecked(w *Window) (string, int) {
	n := len(w.Backups)
	var of string
	switch anchor := len(w.lockTargets()) > n; {
	case n == 0:
		// A window shorter than the time between backups holds none.
		of = "the backup before the window's start that it reaches back to (the window holds none)"
	case n == 1 && anchor:
		of = "the 2 backups (the one in the window and the one before its start that it reaches back to)"
	case anchor:
		of = fmt.Sprintf("the %d backups (the %d in the window and the one before its start that it reaches back to)", n+1, n)
	case n == 1:
		of = "the backup in the window"
	default:
		of = fmt.Sprintf("the %d backups in the window", n)
	}
	count := len(w.lockTargets())
	if w.Lock.Checked != "sample" {
		return of, count
	}
	if w.Lock.Sample == 1 {
		return fmt.Sprintf("the one drawn (seed %d) from %s", *w.Lock.Seed, of), 1
	}
	return fmt.Sprintf("the %d drawn (seed %d) from %s", w.Lock.Sample, *w.Lock.Seed, of), w.Lock.Sample
}

// lockPassText says that every backup checked is locked until it expires.
func lockPassText(w *Window) string {
	of, count := lockChecked(w)
	if count == 1 {
		return "every object version of " + of + " is locked until at least its backup's expiration"
	}
	return "every object version of each of " + of + " is locked until at least its backup's expiration"
}

// lockShortText counts the backups checked that are not locked until they
// expire: "1 of ... is", "3 of ... are", "none of ... is locked".
func lockShortText(w *Window) string {
	of, count := lockChecked(w)
	switch short := len(w.Lock.Short); {
	case count == 1:
		return of + " is not locked until it expires"
	case short >= count:
		return "none of " + of + " is locked until it expires"
	case short == 1:
		return "1 of " + of + " is not locked until it expires"
	default:
		return fmt.Sprintf("%d of %s are not locked until they expire", short, of)
	}
}

func retentionWant(w *Window) string {
	if w.RetentionSeconds == 0 {
		return "a usable backup"
	}
	return "usable backups back to " + rfc(w.From) + " (" + durfmt.Seconds(w.RetentionSeconds) + ")"
}

// forgetFindings are the findings of what is kept past maxRetention.
func forgetFindings(w *Window, subject string, lock objectstore.LockConfig) []finding.Finding {
	var fs []finding.Finding
	max := durfmt.Seconds(w.MaxRetentionSeconds)
	n := map[string]int{}
	for _, r := range w.PastMaxRetention {
		n[r.Kind]++
		if n[r.Kind] > maxWindowFindings {
			continue
		}
		switch r.Kind {
		case RetainedBackup:
			fs = append(fs, finding.Fail(IDWindowPastMax, finding.SeverityFail, subject,
				fmt.Sprintf("backup %s of %s is still in the bucket (%s, %s), %s past the maxRetention %s",
					r.Subject, rfc(r.Since), plural.Count(r.Objects, "object", "objects"), sizeOf(r.Bytes), durfmt.Seconds(r.ExcessSeconds), max)).
				With("no backup older than "+max, "created "+rfc(r.Since),
					"velero backup delete "+r.Subject+" (Velero deletes it with its data once its lock allows); lower the schedule's TTL to at most "+max))
		case RetainedTTL:
			fs = append(fs, finding.Fail(IDWindowTTL, finding.SeverityFail, subject,
				fmt.Sprintf("%s %s a Velero TTL %s longer than the maxRetention %s, the newest %s expiring %s",
					plural.Count(r.Objects, "backup", "backups"), plural.Of(r.Objects, "has", "have"), durfmt.Seconds(r.ExcessSeconds), max, r.Subject, rfc(r.Until))).
				With("spec.ttl at most "+max, durfmt.Seconds(r.ExcessSeconds+w.MaxRetentionSeconds),
					"set the Schedule's spec.template.ttl to at most "+max))
		case RetainedBucketLock:
			fs = append(fs, finding.Fail(IDWindowLockTooLong, finding.SeverityFail, subject,
				fmt.Sprintf("the bucket's default retention (%s %s) keeps every object %s past the maxRetention %s: it cannot be erased in time",
					lock.DefaultMode, durText(lock.DefaultPeriod()), durfmt.Seconds(r.ExcessSeconds), max)).
				With("default retention at most "+max, durText(lock.DefaultPeriod()),
					"lower the bucket's default retention to at most "+max+" (new objects); versions already locked in COMPLIANCE mode keep their date"))
		case RetainedObjectLock:
			fs = append(fs, finding.Fail(IDWindowLockTooLong, finding.SeverityFail, subject,
				fmt.Sprintf("backup %s of %s has object versions locked until %s, %s past the maxRetention %s",
					r.Subject, rfc(r.Since), rfc(r.Until), durfmt.Seconds(r.ExcessSeconds), max)).
				With("locked at most until "+rfc(r.Since.Add(time.Duration(w.MaxRetentionSeconds*float64(time.Second)))), "until "+rfc(r.Until),
					"a COMPLIANCE lock cannot be shortened: lower the bucket's default retention so new backups are not locked past "+max))
		case RetainedRepository:
			fs = append(fs, finding.Warn(IDWindowRepositoryOld, subject,
				fmt.Sprintf("repository %s holds %s (%s) last written before the maxRetention %s, the oldest %s",
					r.Subject, plural.Count(r.Objects, "volume-data object", "volume-data objects"), sizeOf(r.Bytes), max, rfc(r.Since))).
				With("no volume data older than "+max, plural.Count(r.Objects, "object", "objects")+", "+sizeOf(r.Bytes),
					"a pack still referenced by newer snapshots keeps its content; once the old backups are deleted, Velero's repository maintenance (full) rewrites or removes the packs only they used"))
		}
	}
	for _, kind := range []string{RetainedBackup, RetainedObjectLock} {
		if c := n[kind]; c > maxWindowFindings {
			id := map[string]string{RetainedBackup: IDWindowPastMax, RetainedObjectLock: IDWindowLockTooLong}[kind]
			fs = append(fs, finding.Fail(id, finding.SeverityFail, subject, "and "+plural.Count(c-maxWindowFindings, "more backup", "more backups")+" kept or locked past the maxRetention "+max))
		}
	}
	if len(w.PastMaxRetention) == 0 {
		fs = append(fs, finding.Pass(IDWindowPastMax, subject, "nothing in the bucket is kept, or locked, past the maxRetention "+max))
	}
	return fs
}
