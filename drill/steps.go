package drill

import (
	"context"
	"time"

	"github.com/firedrill-dev/firedrill/runbooks"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// StepName names a step of a drill.
type StepName string

// The steps of a drill, in the order they run (steps).
const (
	StepLoad          StepName = "load"
	StepPreflight     StepName = "preflight"
	StepProtection    StepName = "protection"
	StepRecoveryPoint StepName = "recovery-point"
	StepRestore       StepName = "restore"
	StepVerify        StepName = "verify"
	StepRunbook       StepName = "runbook"
	StepReport        StepName = "report"
	StepEvidence      StepName = "evidence"
	StepCleanup       StepName = "cleanup"
)

// step is one step of a drill: the one description that the plan (NewPlan),
// the run (Run) and the report (Report.StoppedBy, MeasureRTO through
// Phase.CountsTowardRTO) all read, as kind's actions are one list its
// cluster creation runs.
type step struct {
	name StepName
	// countsTowardRTO: restoring, verifying and following the runbook are
	// what a real recovery takes; preparing and reporting are not.
	countsTowardRTO bool
	// afterStop: the step runs even when an earlier one stopped the drill
	// (run.stop). The first such step ends the recovery: an interruption
	// before it is the drill's result.
	afterStop bool
	// detached: the step runs even after the drill was interrupted, on a
	// context the interruption does not cancel, within timeout.
	detached bool
	// errorIsWarning: the step comes after what the drill proved, so its
	// error is a warning finding of its own, never a drill in error.
	errorIsWarning bool
	// publishes: when the step passes, every report file goes to the
	// shared history (reportFiles), not only report.json.
	publishes bool
	// timeout bounds the step; nil means Options.StepTimeout.
	timeout func(r *run) time.Duration
	// skip says why the step is not run at all; nil or "" runs it.
	skip func(r *run) string
	// plan says, in the plan, what the step would do.
	plan func(p *PlanStep, sc *scenarios.Scenario, rb *runbooks.Runbook)
	// run runs the step: PhasePassed, PhaseFailed or PhaseSkipped, or an
	// error (PhaseError).
	run func(r *run, ctx context.Context) (string, error)
}

// steps is every step of a drill, in the order it runs them. A function,
// not a variable: the steps' functions read it (through CountsTowardRTO).
func steps() []step {
	return []step{
		{name: StepLoad, plan: planLoad,
			run: func(*run, context.Context) (string, error) { return PhasePassed, nil }},
		{name: StepPreflight, plan: planPreflight, run: (*run).preflight},
		{name: StepProtection, plan: planProtection, run: (*run).protection},
		{name: StepRecoveryPoint, plan: planRecoveryPoint, run: (*run).recoveryPoint},
		{name: StepRestore, countsTowardRTO: true, plan: planRestore, run: (*run).restore},
		{name: StepVerify, countsTowardRTO: true, plan: planVerify, run: (*run).verify},
		{name: StepRunbook, countsTowardRTO: true, plan: planRunbook, run: (*run).runbook},
		// The report is rendered before cleanup (its step on the
		// timeline), then again after (Run's finish), so it includes
		// cleanup.
		{name: StepReport, afterStop: true, detached: true, publishes: true,
			timeout: func(*run) time.Duration { return time.Minute },
			plan:    planReport, run: (*run).writeReport},
		// Evidence is collected after a failed restore too: what came
		// back, or did not, is the evidence of the failure.
		{name: StepEvidence, afterStop: true, errorIsWarning: true, plan: planEvidence, run: (*run).collectEvidence},
		{name: StepCleanup, afterStop: true, detached: true, errorIsWarning: true,
			timeout: func(r *run) time.Duration { return r.opts.CleanupTimeout },
			skip: func(r *run) string {
				if r.opts.Recovery == nil {
					return "nothing was created"
				}
				return ""
			},
			plan: planCleanup, run: (*run).cleanup},
	}
}

// stepNamed is the step called name; the zero step for an unknown name.
func stepNamed(name StepName) step {
	for _, s := range steps() {
		if s.name == name {
			return s
		}
	}
	return step{name: name}
}

// Steps lists every step in the order a drill runs them.
func Steps() []StepName {
	var out []StepName
	for _, s := range steps() {
		out = append(out, s.name)
	}
	return out
}

// CountsTowardRTO reports whether the time spent in the step is part of the
// measured recovery time: restoring, verifying and following the runbook
// are what a real recovery takes; preparing and reporting are not. False
// for a name that is no step.
func (n StepName) CountsTowardRTO() bool { return stepNamed(n).countsTowardRTO }
