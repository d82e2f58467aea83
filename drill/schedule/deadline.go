package schedule

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// deadlineMargin is the part of a scheduled drill's deadline beyond its RTO,
// its cleanup and what follows it: the pod's scheduling and image pull
// before the drill's clock starts (activeDeadlineSeconds counts from the
// Job's start), the report step (at most a minute) and the evidence step
// (reading the restored objects: seconds), with room to spare.
const deadlineMargin = 30 * time.Minute

// JobDeadline is how long the Job of a scheduled drill of sc may run, its
// activeDeadlineSeconds, rounded up to the minute:
//
//	RTO + cleanup.timeout + 4m (record, history upload, evidence, metrics, notification) + 30m margin
//
// A scheduled drill's disaster is its start, so its RTO covers everything
// before recovery ends, the protection checks included; the rest is what a
// drill does after recovering. A drill that meets its RTO is therefore
// never stopped by the deadline, and one the deadline stops (SIGTERM, then
// cleanup within the pod's grace period) had not recovered within its RTO:
// its report says the RTO was missed (drill.MeasureRTO), and so do the
// metrics. The margin leaves 30 minutes for the pod to start.
func JobDeadline(sc *scenarios.Scenario) time.Duration {
	cleanup := time.Duration(sc.Spec.Cleanup.Timeout)
	if cleanup <= 0 {
		cleanup = time.Duration(scenarios.DefaultCleanupTimeout)
	}
	d := time.Duration(sc.Spec.Objectives.RTO) + cleanup + afterSIGTERM + deadlineMargin
	if r := d.Truncate(time.Minute); r < d {
		d = r + time.Minute
	}
	return d
}

// deadlineParts says what JobDeadline adds up, for messages.
func deadlineParts(sc *scenarios.Scenario) string {
	cleanup := time.Duration(sc.Spec.Cleanup.Timeout)
	if cleanup <= 0 {
		cleanup = time.Duration(scenarios.DefaultCleanupTimeout)
	}
	return fmt.Sprintf("RTO %s + cleanup %s + %s after it + %s margin",
		drill.FormatSeconds(time.Duration(sc.Spec.Objectives.RTO).Seconds()), drill.FormatSeconds(cleanup.Seconds()),
		drill.FormatSeconds(afterSIGTERM.Seconds()), drill.FormatSeconds(deadlineMargin.Seconds()))
}

// deadlineOf is the deadline of sc's Job: --job-timeout when set, else
// JobDeadline.
func deadlineOf(o Options, sc *scenarios.Scenario) time.Duration {
	if o.JobTimeout > 0 {
		return o.JobTimeout
	}
	return JobDeadline(sc)
}

// Warnings lists what in o makes scheduled drills fail for a reason other
// than the recovery itself; empty when nothing does. The command line
// prints them as warnings:
//
//   - two scenarios restore into the same target namespace and their drills
//     can run at the same time (from their schedules and deadlines): the
//     later one finds the first's namespaces and cannot restore;
//   - a scenario keeps the namespaces of a failed drill for investigation
//     (cleanup.policy onSuccess, the default) or of every drill (never):
//     until someone deletes them, the next drill cannot restore into them.
func Warnings(o Options) []string {
	o = o.withDefaults()
	var out []string
	type window struct {
		sc         *scenarios.Scenario
		start      time.Duration // after midnight of the day the drills start
		deadline   time.Duration
		namespaces []string
	}
	ws := make([]window, len(o.Scenarios))
	for i, sc := range o.Scenarios {
		// One render has one schedule: --cron for all, or --cadence, whose
		// drills start an hour apart on the same day (Cadence.Cron).
		start := time.Duration((cadenceHour+i)%24) * time.Hour
		if o.Cron != "" {
			start = 0
		}
		ws[i] = window{sc: sc, start: start, deadline: deadlineOf(o, sc), namespaces: targetNamespaces(sc)}
	}
	for i, a := range ws {
		for _, b := range ws[i+1:] {
			shared := slices.DeleteFunc(slices.Clone(a.namespaces), func(ns string) bool { return !slices.Contains(b.namespaces, ns) })
			if len(shared) == 0 || a.start >= b.start+b.deadline || b.start >= a.start+a.deadline {
				continue
			}
			when := "they start at the same time"
			if o.Cron == "" {
				when = fmt.Sprintf("%s starts at %02d:00 and may run %s, %s at %02d:00 and may run %s", a.sc.Metadata.Name, int(a.start.Hours()),
					drill.FormatSeconds(a.deadline.Seconds()), b.sc.Metadata.Name, int(b.start.Hours()), drill.FormatSeconds(b.deadline.Seconds()))
			}
			out = append(out, fmt.Sprintf("scenarios %s and %s both restore into namespace %s and their drills can run at the same time (%s): "+
				"the later one finds the other's namespaces and cannot restore; render them separately, with --cron times at least %s apart, "+
				"or map them to different namespaces (spec.target.namespaceMapping)",
				a.sc.Metadata.Name, b.sc.Metadata.Name, strings.Join(shared, ", "), when, drill.FormatSeconds(max(a.deadline, b.deadline).Seconds())))
		}
	}
	for _, w := range ws {
		ns := strings.Join(w.namespaces, ", ")
		switch w.sc.Spec.Cleanup.Policy {
		case scenarios.CleanupOnSuccess, "":
			out = append(out, fmt.Sprintf("scenario %s keeps the namespaces of a failed drill (%s) for investigation (spec.cleanup.policy onSuccess): "+
				"until someone deletes them, its next scheduled drill cannot restore into them and fails too; "+
				"set spec.cleanup.policy: always for a scheduled scenario (the drill's record keeps what failed)", w.sc.Metadata.Name, ns))
		case scenarios.CleanupNever:
			out = append(out, fmt.Sprintf("scenario %s keeps the namespaces of every drill (%s; spec.cleanup.policy never): "+
				"every scheduled drill after the first fails until someone deletes them; set spec.cleanup.policy: always for a scheduled scenario",
				w.sc.Metadata.Name, ns))
		}
	}
	return out
}

// deadlineSource says where the deadline of sc's Job comes from.
func deadlineSource(o Options, sc *scenarios.Scenario) string {
	if o.JobTimeout > 0 {
		return "--job-timeout"
	}
	return deadlineParts(sc)
}
