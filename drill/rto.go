package drill

import (
	"fmt"
	"math"
	"strings"

	"github.com/firedrill-dev/firedrill/runbooks"
)

// The RTO rule, for manual work (README "Runbooks"): the drill measures
// RTO from the disaster to the end of its last recovery step. A manual
// step the operator confirmed at a terminal ran inside the runbook step,
// so its time is already in that measurement (source timed). A manual
// step nobody timed (a non-interactive drill: CI, a scheduled pod, --yes)
// took no time in the drill, so its declared estimate is added (source
// declared). The objective is judged on measured + declared.

// The values of ManualStep.Source and BudgetSegment.Source.
const (
	// SourceMeasured: a drill step, timed by the drill.
	SourceMeasured = "measured"
	// SourceTimed: a manual step the operator confirmed; the drill timed
	// it, inside the runbook step.
	SourceTimed = "timed"
	// SourceDeclared: a manual step nobody timed; its estimate counts.
	SourceDeclared = "declared"
)

// BeforeRecovery is the budget segment from the disaster declaration to
// the start of the first recovery step: the scenario's declaredAt lead
// and the drill's load, preflight, protection and recovery-point steps.
const BeforeRecovery = "before-recovery"

// ManualStep is one manual step of the runbook in report.json.
type ManualStep struct {
	Name string `json:"name"`
	// Line is the line of its block in the runbook.
	Line int `json:"line"`
	// Status is the runbook step's: passed (the operator confirmed it),
	// declared, failed (declined, or the drill was interrupted), skipped
	// (an earlier step failed).
	Status          runbooks.StepStatus `json:"status"`
	EstimateSeconds float64             `json:"estimate_seconds"`
	// TookSeconds is how long the operator took; null unless timed.
	TookSeconds *float64 `json:"took_seconds"`
	// Source is timed or declared for a step that counts toward RTO;
	// empty for one that does not (failed, skipped).
	Source string `json:"source,omitempty"`
}

// ManualSteps are the manual steps among a runbook's results, in order.
func ManualSteps(results []runbooks.StepResult) []ManualStep {
	var out []ManualStep
	for _, r := range results {
		if !r.Manual {
			continue
		}
		m := ManualStep{Name: r.Name, Line: r.Line, Status: r.Status, EstimateSeconds: r.Estimate.Seconds()}
		switch r.Status {
		case runbooks.StepPassed:
			took := r.Duration.Seconds()
			m.TookSeconds, m.Source = &took, SourceTimed
		case runbooks.StepDeclared:
			m.Source = SourceDeclared
		}
		out = append(out, m)
	}
	return out
}

// DeclaredManual is the sum of the estimates of the declared manual
// steps, in seconds.
func DeclaredManual(steps []ManualStep) float64 {
	sum := 0.0
	for _, m := range steps {
		if m.Source == SourceDeclared {
			sum += m.EstimateSeconds
		}
	}
	return sum
}

// WithDeclaredManual judges a measured RTO on measured + declared seconds
// of manual work (the RTO rule above): it sets DeclaredManualSeconds and
// TotalSeconds, and Met, Status and MarginSeconds from the total, keeping
// MeasuredSeconds. It returns o unchanged when declared is zero or o was
// not measured. Call it for a completed recovery only: a recovery that
// did not complete has no total to judge.
func WithDeclaredManual(o Objective, declared float64) Objective {
	if declared <= 0 || o.MeasuredSeconds == nil {
		return o
	}
	total := *o.MeasuredSeconds + declared
	margin := o.ObjectiveSeconds - total
	met := total <= o.ObjectiveSeconds
	o.DeclaredManualSeconds, o.TotalSeconds, o.MarginSeconds, o.Met = &declared, &total, &margin, &met
	o.Status = ObjectiveMissed
	if met {
		o.Status = ObjectiveMet
	}
	return o
}

// RTOBudget is the RTO split by recovery step and set against its
// objective (rto_budget of report.json): which step eats the budget.
type RTOBudget struct {
	ObjectiveSeconds float64 `json:"objective_seconds"`
	// TotalSeconds is the RTO judged against the objective
	// (Objective.Judged): the segments add up to it.
	TotalSeconds float64 `json:"total_seconds"`
	// MarginSeconds is objective minus total: what is left, negative
	// for an overrun.
	MarginSeconds float64         `json:"margin_seconds"`
	Segments      []BudgetSegment `json:"segments"`
}

// BudgetSegment is one recovery step's part of the RTO.
type BudgetSegment struct {
	// Step is before-recovery (BeforeRecovery), a drill step that counts
	// toward RTO (restore, verify, runbook: the runbook's command steps),
	// or the name of a manual step of the runbook.
	Step    string  `json:"step"`
	Seconds float64 `json:"seconds"`
	// Share is Seconds over the objective: 0.25 is a quarter of the
	// budget. The shares add up to more than 1 when the RTO is missed.
	Share float64 `json:"share"`
	// Source is measured (a drill step), timed or declared (a manual step).
	Source string `json:"source"`
}

// NewRTOBudget splits rep's RTO by recovery step; nil when the RTO was
// not measured. Each drill step's segment runs from the end of the one
// before it to its own end, so the few milliseconds between steps are
// counted and the segments add up to the measured RTO; the runbook's
// timed manual steps are carved out of the runbook step, and its declared
// ones, when the RTO counts them (Objective.DeclaredManualSeconds), are
// added after it.
func NewRTOBudget(rep *Report) *RTOBudget {
	total := rep.RTO.Judged()
	if total == nil {
		return nil
	}
	b := &RTOBudget{ObjectiveSeconds: rep.RTO.ObjectiveSeconds, TotalSeconds: *total, MarginSeconds: rep.RTO.ObjectiveSeconds - *total}
	add := func(step string, seconds float64, source string) {
		if seconds <= 0 {
			return
		}
		b.Segments = append(b.Segments, BudgetSegment{Step: step, Seconds: seconds, Share: b.share(seconds), Source: source})
	}
	cursor := rep.DisasterAt
	first := true
	for _, p := range rep.Phases {
		if !p.CountsTowardRTO || p.End.IsZero() {
			continue
		}
		if first {
			add(BeforeRecovery, p.Start.Sub(cursor).Seconds(), SourceMeasured)
			if p.Start.After(cursor) {
				cursor = p.Start
			}
			first = false
		}
		seconds := p.End.Sub(cursor).Seconds()
		if p.End.After(cursor) {
			cursor = p.End
		}
		if p.Name != StepRunbook {
			add(string(p.Name), seconds, SourceMeasured)
			continue
		}
		var manual []ManualStep
		for _, m := range rep.ManualSteps {
			if m.Source == SourceTimed {
				seconds -= *m.TookSeconds
			}
			if m.Source == SourceTimed || m.Source == SourceDeclared && rep.RTO.DeclaredManualSeconds != nil {
				manual = append(manual, m)
			}
		}
		add(string(p.Name), math.Max(seconds, 0), SourceMeasured)
		for _, m := range manual {
			if m.Source == SourceTimed {
				add(m.Name, *m.TookSeconds, SourceTimed)
			} else {
				add(m.Name, m.EstimateSeconds, SourceDeclared)
			}
		}
	}
	return b
}

// Largest is the segment that takes the most time; the zero segment
// when there is none.
func (b *RTOBudget) Largest() BudgetSegment {
	var max BudgetSegment
	for _, s := range b.Segments {
		if s.Seconds > max.Seconds {
			max = s
		}
	}
	return max
}

// BudgetBar is a segment placed on the budget's scale for drawing: its
// left edge and width as percentages of the scale, which is the objective
// or, when the RTO is over it, the total.
type BudgetBar struct {
	BudgetSegment
	LeftPercent, WidthPercent float64
}

// Bars places the segments end to end on one scale (see BudgetBar).
func (b *RTOBudget) Bars() []BudgetBar {
	scale := b.scale()
	bars := make([]BudgetBar, len(b.Segments))
	left := 0.0
	for i, s := range b.Segments {
		w := 100 * s.Seconds / scale
		bars[i] = BudgetBar{BudgetSegment: s, LeftPercent: left, WidthPercent: w}
		left += w
	}
	return bars
}

// ObjectivePercent is where the objective falls on the scale of Bars:
// 100 unless the RTO is over it.
func (b *RTOBudget) ObjectivePercent() float64 { return 100 * b.ObjectiveSeconds / b.scale() }

// TotalPercent is where the RTO ends on the scale of Bars.
func (b *RTOBudget) TotalPercent() float64 { return 100 * b.TotalSeconds / b.scale() }

// TotalShare is the total over the objective.
func (b *RTOBudget) TotalShare() float64 { return b.share(b.TotalSeconds) }

// MarginShare is the margin left over the objective.
func (b *RTOBudget) MarginShare() float64 { return b.share(b.MarginSeconds) }

// Overrun is how far the total is over the objective; zero when it is not.
func (b *RTOBudget) Overrun() float64 { return math.Max(-b.MarginSeconds, 0) }

// OverrunShare is the overrun over the objective.
func (b *RTOBudget) OverrunShare() float64 { return b.share(b.Overrun()) }

func (b *RTOBudget) share(seconds float64) float64 {
	if b.ObjectiveSeconds <= 0 {
		return 0
	}
	return seconds / b.ObjectiveSeconds
}

func (b *RTOBudget) scale() float64 {
	if s := math.Max(b.ObjectiveSeconds, b.TotalSeconds); s > 0 {
		return s
	}
	return 1
}

// TimeText is the time the objective was judged on, for people: the
// measured time ("—" when not measured) and, when manual work was
// declared, the total and its two parts: "6m35s (1m35s measured + 5m00s
// declared manual)".
func (o Objective) TimeText() string {
	if o.TotalSeconds == nil || o.DeclaredManualSeconds == nil {
		return fmtSecondsPtr(o.MeasuredSeconds)
	}
	return fmt.Sprintf("%s (%s measured + %s declared manual)", fmtSeconds(*o.TotalSeconds), fmtSecondsPtr(o.MeasuredSeconds), fmtSeconds(*o.DeclaredManualSeconds))
}

func rtoTime(o Objective) string { return o.TimeText() }

// percent prints a share (0.25) as a percentage for people: "25%", "<1%".
func percent(share float64) string {
	switch p := share * 100; {
	case p > 0 && p < 1:
		return "<1%"
	default:
		return fmt.Sprintf("%.0f%%", p)
	}
}

// textBar draws a share as a bar of block characters, one per 5% of the
// objective (at least one for any time, at most 40: twice the objective),
// for the Markdown budget table.
func textBar(share float64) string {
	n := int(math.Round(share * 20))
	switch {
	case n < 1 && share > 0:
		n = 1
	case n > 40:
		n = 40
	}
	return strings.Repeat("█", n)
}

// recovered says whether every step that counts toward RTO passed.
func recovered(phases []Phase) bool {
	n := 0
	for _, p := range phases {
		if p.CountsTowardRTO {
			n++
			if p.Status != PhasePassed {
				return false
			}
		}
	}
	return n > 0
}
