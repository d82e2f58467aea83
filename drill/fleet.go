package drill

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// FleetState is where one cluster × scenario stands, worst first: a row
// has exactly one.
type FleetState string

// The values of FleetRow.State.
const (
	// FleetFailing: the last drill did not pass (fail, error,
	// interrupted, died).
	FleetFailing FleetState = "failing"
	// FleetOverdue: no drill passed within the cadence (DueOverdue,
	// DueNeverPassed).
	FleetOverdue FleetState = "overdue"
	// FleetDue: the last pass gets too old within FleetOptions.DueSoon.
	FleetDue FleetState = "due"
	// FleetOK: the last drill passed and the next is not due soon.
	FleetOK FleetState = "ok"
)

// FleetStates are the states in the order of FleetRow.State, worst first.
var FleetStates = []FleetState{FleetFailing, FleetOverdue, FleetDue, FleetOK}

// FleetEstimates are the columns of a row computed from the scenario's
// whole history on that cluster: the RTO forecast and the error budget.
// Forecast and ErrorBudget are JSON values (nil prints null); the *Text
// are their table cells ("" prints "-").
type FleetEstimates struct {
	Forecast        any
	ForecastText    string
	ErrorBudget     any
	ErrorBudgetText string
}

// FleetEstimator computes FleetEstimates from one cluster × scenario's
// drills, oldest first, at now. It must not keep drills.
type FleetEstimator func(drills []DrillSummary, now time.Time) FleetEstimates

// FleetDueRule says where one cluster × scenario stands against its
// cadence, from its drills (oldest first) at now.
type FleetDueRule func(drills []DrillSummary, now time.Time) DueStatus

// PolicyDue is the due rule of `firedrill due` (DueOf) for a row: the
// strictest of the policy's cadence and of the frameworks the newest
// drill recorded. The scenario's file is not read (the index is all the
// fleet knows), so "after a major change" shows only through the drills:
// a drill of the changed scenario that did not pass makes the row
// failing, its due state "changed".
func PolicyDue(policy DuePolicy) FleetDueRule {
	return func(drills []DrillSummary, now time.Time) DueStatus {
		name := ""
		if len(drills) > 0 {
			name = drills[0].Scenario
		}
		return DueOf(DueScenario{Name: name}, drills, policy, now)
	}
}

// FleetOutlook is the estimator of the fleet's forecast and error budget
// columns: Forecast, and ErrorBudgetOf against the error budget the
// newest drill of the row recorded (RecordedBudget: the scenario's
// objectives.errorBudget, kept in the fleet index), as OutlookOf for
// `firedrill history`.
func FleetOutlook() FleetEstimator {
	return func(drills []DrillSummary, now time.Time) FleetEstimates {
		f := Forecast(drills, now)
		target, window := RecordedBudget(drills)
		b := ErrorBudgetOf(drills, target, window, now)
		return FleetEstimates{Forecast: f, ForecastText: forecastText(f), ErrorBudget: b, ErrorBudgetText: b.String()}
	}
}

// forecastText is a forecast for a table cell: "miss in 40d",
// "missed", "steady", "-" without one.
func forecastText(f RTOForecast) string {
	switch {
	case f.State == ForecastSteady:
		return "steady"
	case f.State == ForecastTrend && f.DaysToObjective != nil && *f.DaysToObjective <= 0:
		return "past objective"
	case f.State == ForecastTrend && f.DaysToObjective != nil:
		return fmt.Sprintf("miss in %.0fd", math.Ceil(*f.DaysToObjective))
	}
	return ""
}

// FleetOptions say how Fleet computes its rows.
type FleetOptions struct {
	Now time.Time
	// Due is the cadence rule; PolicyDue of the default policy when nil.
	Due FleetDueRule
	// DueSoon makes a fresh row FleetDue when its due time is within it
	// of Now; 14 days when zero.
	DueSoon time.Duration
	// Estimate fills the forecast and error budget columns; they are
	// empty when nil.
	Estimate FleetEstimator
}

// FleetRow is one cluster × scenario of the fleet, as `fleet -o json`
// prints it.
type FleetRow struct {
	// Cluster is "" for the drills of the unprefixed history (run
	// without --cluster): the key is then left out, as in last_drill.
	Cluster  string `json:"cluster,omitempty"`
	Scenario string `json:"scenario"`
	// State is the row's worst state (FleetStates).
	State FleetState `json:"state"`
	// Drills counts the drills indexed for the row.
	Drills int `json:"drills"`
	// LastDrill is the newest drill that ended.
	LastDrill *DrillSummary `json:"last_drill"`
	// RTOTrendSeconds is the last drill's RTO minus that of the drill
	// before it that measured one (positive: slower); null without two.
	RTOTrendSeconds *float64  `json:"rto_trend_seconds"`
	Due             DueStatus `json:"due"`
	Forecast        any       `json:"forecast"`
	ErrorBudget     any       `json:"error_budget"`

	ForecastText    string `json:"-"`
	ErrorBudgetText string `json:"-"`
}

// Fleet makes one row per cluster × scenario of drills (any order),
// sorted by cluster and scenario. Drills still running are left out:
// they proved nothing yet.
func Fleet(drills []DrillSummary, o FleetOptions) []FleetRow {
	if o.Due == nil {
		o.Due = PolicyDue(DuePolicy{})
	}
	if o.DueSoon == 0 {
		o.DueSoon = 14 * 24 * time.Hour
	}
	ended := make([]DrillSummary, 0, len(drills))
	for _, d := range drills {
		if d.Result != ResultRunning {
			ended = append(ended, d)
		}
	}
	sortSummaries(ended)
	var rows []FleetRow
	for i := 0; i < len(ended); {
		j := i
		for j < len(ended) && ended[j].Cluster == ended[i].Cluster && ended[j].Scenario == ended[i].Scenario {
			j++
		}
		rows = append(rows, fleetRow(ended[i:j], o))
		i = j
	}
	return rows
}

// fleetRow is the row of one cluster × scenario's drills, oldest first.
func fleetRow(drills []DrillSummary, o FleetOptions) FleetRow {
	last := drills[len(drills)-1]
	row := FleetRow{Cluster: last.Cluster, Scenario: last.Scenario, Drills: len(drills), LastDrill: &last}
	if last.RTOSeconds != nil {
		for k := len(drills) - 2; k >= 0; k-- {
			if prev := drills[k].RTOSeconds; prev != nil {
				d := *last.RTOSeconds - *prev
				row.RTOTrendSeconds = &d
				break
			}
		}
	}
	row.Due = o.Due(drills, o.Now)
	row.Due.Scenario = last.Scenario
	if o.Estimate != nil {
		e := o.Estimate(drills, o.Now)
		row.Forecast, row.ForecastText = e.Forecast, e.ForecastText
		row.ErrorBudget, row.ErrorBudgetText = e.ErrorBudget, e.ErrorBudgetText
	}
	switch {
	case last.Result != ResultPass:
		row.State = FleetFailing
	case row.Due.IsDue():
		row.State = FleetOverdue
	case row.Due.DueAt != nil && row.Due.DueAt.Sub(o.Now) <= o.DueSoon:
		row.State = FleetDue
	default:
		row.State = FleetOK
	}
	return row
}

// SortFleet sorts rows by cluster ("" first) and scenario.
func SortFleet(rows []FleetRow) {
	slices.SortFunc(rows, func(a, b FleetRow) int {
		if c := strings.Compare(a.Cluster, b.Cluster); c != 0 {
			return c
		}
		return strings.Compare(a.Scenario, b.Scenario)
	})
}

// FleetFilter keeps rows: each non-empty list keeps the rows with one of
// its values.
type FleetFilter struct {
	Clusters, Scenarios []string
	States              []FleetState
}

// Keep returns the rows f keeps, in order.
func (f FleetFilter) Keep(rows []FleetRow) []FleetRow {
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	var out []FleetRow
	for _, r := range rows {
		if in(f.Clusters, r.Cluster) && in(f.Scenarios, r.Scenario) &&
			(len(f.States) == 0 || slices.Contains(f.States, r.State)) {
			out = append(out, r)
		}
	}
	return out
}

// ParseFleetState reads a state as --state gives it; ok is false for
// an unknown one.
func ParseFleetState(s string) (FleetState, bool) {
	st := FleetState(strings.ToLower(s))
	return st, slices.Contains(FleetStates, st)
}
