package drill

import (
	"fmt"
	"time"

	"github.com/firedrill-dev/firedrill/runbooks"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// manualTime is what a runbook's manual steps declare against the RTO
// objective: a drill nobody times (CI, a scheduled drill, --yes) counts
// every estimate toward RTO.
type manualTime struct {
	steps int
	// total is the sum of the estimates; largest the step declaring the
	// most (the first of equals).
	total   time.Duration
	largest runbooks.Step
	rto     time.Duration
}

func manualTimeOf(sc *scenarios.Scenario, rb *runbooks.Runbook) manualTime {
	m := manualTime{rto: time.Duration(sc.Spec.Objectives.RTO)}
	if rb == nil {
		return m
	}
	for _, st := range rb.Steps {
		if !st.Manual {
			continue
		}
		m.steps++
		m.total += st.Estimate
		if st.Estimate > m.largest.Estimate {
			m.largest = st
		}
	}
	return m
}

// exceeds reports whether the estimates alone leave nothing of the RTO.
func (m manualTime) exceeds() bool { return m.rto > 0 && m.total >= m.rto }

// near reports whether the estimates alone use more than NearObjective of
// the RTO, without exceeding it.
func (m manualTime) near() bool {
	return m.rto > 0 && !m.exceeds() && m.total.Seconds() > NearObjective*m.rto.Seconds()
}

// againstRTO is the plan's note on the total: "" when the estimates
// leave the restore most of the RTO.
func (m manualTime) againstRTO() string {
	switch {
	case m.exceeds():
		return fmt.Sprintf(" (alone %s the RTO objective %s)", m.verb(), FormatSeconds(m.rto.Seconds()))
	case m.near():
		return fmt.Sprintf(" (alone %.0f%% of the RTO objective %s)", m.share(), FormatSeconds(m.rto.Seconds()))
	}
	return ""
}

func (m manualTime) verb() string {
	if m.total == m.rto {
		return "all of"
	}
	return "more than"
}

func (m manualTime) share() float64 { return 100 * m.total.Seconds() / m.rto.Seconds() }

// warning is the runbook warning at the largest estimate when the
// estimates alone exceed the RTO objective or nearly exhaust it; nil
// otherwise.
func (m manualTime) warning(rb *runbooks.Runbook) *runbooks.ParseError {
	total, rto := FormatSeconds(m.total.Seconds()), FormatSeconds(m.rto.Seconds())
	var what string
	switch {
	case m.exceeds() && m.total == m.rto:
		what = fmt.Sprintf("the declared manual time alone (%s) is all of the RTO objective %s: a drill nobody times (CI, a scheduled drill, --yes) counts the estimates toward RTO, so it misses the RTO whatever the restore takes", total, rto)
	case m.exceeds():
		what = fmt.Sprintf("the declared manual time alone (%s) exceeds the RTO objective %s: a drill nobody times (CI, a scheduled drill, --yes) counts the estimates toward RTO, so it misses the RTO whatever the restore takes", total, rto)
	case m.near():
		what = fmt.Sprintf("the declared manual time alone (%s) is %.0f%% of the RTO objective %s, leaving %s for the restore, the checks and the runbook's commands: a drill nobody times (CI, a scheduled drill, --yes) counts the estimates toward RTO",
			total, m.share(), rto, FormatSeconds((m.rto - m.total).Seconds()))
	default:
		return nil
	}
	largest := fmt.Sprintf("manual step %q, here, declares the largest estimate, %s", m.largest.Name, FormatSeconds(m.largest.Estimate.Seconds()))
	if m.steps == 1 {
		largest = fmt.Sprintf("manual step %q, here, is the only one", m.largest.Name)
	}
	return &runbooks.ParseError{File: rb.File, Line: m.largest.Line, Where: "manual steps", Message: fmt.Sprintf(
		"%s; %s: correct the estimates if the work is quicker, move work that is not part of the recovery out of the runbook, or raise spec.objectives.rto",
		what, largest)}
}
