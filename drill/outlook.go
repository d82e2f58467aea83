package drill

import (
	"cmp"
	"slices"
	"time"
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
// error budget the newest drill recorded (RecordedBudget).
func OutlookOf(scenario string, history []DrillSummary, now time.Time) Outlook {
	target, window := RecordedBudget(history)
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
