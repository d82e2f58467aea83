package drill

import (
	"cmp"
	"slices"
	"time"

	"github.com/firedrill-dev/firedrill/scenarios"
)

// Outlook is where one scenario is heading: its RTO forecast and its
// error budget, from its drills.
type Outlook struct {
	Scenario    string      `json:"scenario"`
	RTOForecast RTOForecast `json:"rto_forecast"`
	ErrorBudget ErrorBudget `json:"error_budget"`
}

// OutlookOf is the outlook of one scenario from its drills (history, any
// order; settled, see Settle): Forecast, and ErrorBudgetOf against the
// error budget the newest drill recorded (the scenario's
// objectives.errorBudget; scenarios.DefaultErrorBudgetTarget and
// DefaultErrorBudgetWindow for records without one).
func OutlookOf(scenario string, history []DrillSummary, now time.Time) Outlook {
	target, window := scenarios.DefaultErrorBudgetTarget, time.Duration(scenarios.DefaultErrorBudgetWindow)
	if len(history) > 0 {
		newest := slices.MaxFunc(history, func(a, b DrillSummary) int { return a.StartedAt.Compare(b.StartedAt) })
		if newest.ErrorBudgetTarget > 0 {
			target = newest.ErrorBudgetTarget
		}
		if newest.ErrorBudgetWindowSeconds > 0 {
			window = time.Duration(newest.ErrorBudgetWindowSeconds * float64(time.Second))
		}
	}
	return Outlook{Scenario: scenario, RTOForecast: Forecast(history, now), ErrorBudget: ErrorBudgetOf(history, target, window, now)}
}

// Outlooks are the outlooks of every scenario of reports, sorted by name;
// a drill whose process died (Dead at now) counts as died.
func Outlooks(reports []*Report, now time.Time) []Outlook {
	byName := map[string][]DrillSummary{}
	for _, r := range reports {
		if r.Dead(now) {
			c := *r
			Settle(&c, now)
			r = &c
		}
		byName[r.Scenario] = append(byName[r.Scenario], Summarize(r))
	}
	out := make([]Outlook, 0, len(byName))
	for name, h := range byName {
		out = append(out, OutlookOf(name, h, now))
	}
	slices.SortFunc(out, func(a, b Outlook) int { return cmp.Compare(a.Scenario, b.Scenario) })
	return out
}
