package metrics

import (
	"cmp"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/finding"
)

// The metric names. Alerts (see alerts/prometheusrule.yaml.tmpl) and dashboards
// depend on them: renaming one breaks them.
const (
	LastRunTimestamp     = "firedrill_drill_last_run_timestamp_seconds"
	LastSuccessTimestamp = "firedrill_drill_last_success_timestamp_seconds"
	Result               = "firedrill_drill_result"
	RTO                  = "firedrill_drill_rto_seconds"
	RTOObjective         = "firedrill_drill_rto_objective_seconds"
	RPO                  = "firedrill_drill_rpo_seconds"
	RPOObjective         = "firedrill_drill_rpo_objective_seconds"
	Findings             = "firedrill_drill_findings"

	// The recovery window of the scenario's schedule (report.json's
	// window), from the last drill that read it.
	WindowLength             = "firedrill_window_length_seconds"
	WindowRetentionObjective = "firedrill_window_retention_objective_seconds"
	WindowWorstGap           = "firedrill_window_worst_gap_seconds"
	WindowPastMaxRetention   = "firedrill_window_past_max_retention"
	WindowPastMaxRetentionB  = "firedrill_window_past_max_retention_bytes"

	// The scenario's outlook (drill.OutlookOf): the RTO forecast, present
	// only when the trend reaches the objective, and the error budget,
	// present when a drill counts in its window.
	ForecastDaysToObjective = "firedrill_rto_forecast_days_to_objective"
	ErrorBudgetRemaining    = "firedrill_error_budget_remaining_ratio"
	ErrorBudgetMet          = "firedrill_error_budget_met_ratio"
)

// Labels of the metrics.
const (
	LabelScenario = "scenario"
	LabelResult   = "result"
	LabelSeverity = "severity"
)

// results are the values of the result label: every way a drill ends.
var results = []drill.Result{drill.ResultPass, drill.ResultFail, drill.ResultError, drill.ResultInterrupted, drill.ResultDied}

// severities are the values of the severity label: those of findings that
// did not pass.
var severities = []finding.Severity{finding.SeverityWarn, finding.SeverityFail, finding.SeverityCritical}

// Scenario is where one scenario's drills stand: what the metrics say.
type Scenario struct {
	Name string
	// Last is the newest drill that ended (whatever its result).
	Last *drill.Report
	// LastPass is the newest passing drill; nil when none passed.
	LastPass *drill.Report
	// Window is the recovery window of the newest drill that read one
	// (a drill that ended in error before its protection step has none);
	// nil when none did.
	Window *backup.Window
	// windowAt is when the drill Window comes from started.
	windowAt time.Time
	// Outlook is the scenario's RTO forecast and error budget.
	Outlook drill.Outlook
}

// clock is the time the outlook is computed for.
var clock = time.Now

// Scenarios sums up reports per scenario, sorted by name. Drills still
// running are not counted; one whose process died (result died, as
// drill.ListReports settles it) is the scenario's last drill, a failed
// one for alerting. When
// two reports have the same drill id the later one in reports wins, so
// the drill just finished can be appended to a history that may already
// hold an older record of it.
func Scenarios(reports []*drill.Report) []Scenario {
	byID := map[string]*drill.Report{}
	var order []string
	for _, r := range reports {
		if _, seen := byID[r.DrillID]; !seen {
			order = append(order, r.DrillID)
		}
		byID[r.DrillID] = r
	}
	byName := map[string]*Scenario{}
	var drills []*drill.Report
	for _, id := range order {
		drills = append(drills, byID[id])
	}
	outlooks := map[string]drill.Outlook{}
	for _, o := range drill.Outlooks(drills, clock()) {
		outlooks[o.Scenario] = o
	}
	for _, id := range order {
		r := byID[id]
		if r.Result == drill.ResultRunning {
			continue
		}
		s, ok := byName[r.Scenario]
		if !ok {
			s = &Scenario{Name: r.Scenario, Outlook: outlooks[r.Scenario]}
			byName[r.Scenario] = s
		}
		if s.Last == nil || r.StartedAt.After(s.Last.StartedAt) {
			s.Last = r
		}
		if r.Result == drill.ResultPass && (s.LastPass == nil || r.StartedAt.After(s.LastPass.StartedAt)) {
			s.LastPass = r
		}
		if r.Window != nil && (s.Window == nil || r.StartedAt.After(s.windowAt)) {
			s.Window, s.windowAt = r.Window, r.StartedAt
		}
	}
	out := make([]Scenario, 0, len(byName))
	for _, s := range byName {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Scenario) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Collector exports the metrics of some scenarios. It computes them when
// collected; it holds no state of its own.
type Collector struct {
	scenarios []Scenario
	// withScenario is false when the scenario label comes from elsewhere
	// (a Pushgateway's grouping key).
	withScenario bool
	descs        descs
}

type descs struct {
	lastRun, lastSuccess, result, rto, rtoObjective, rpo, rpoObjective, findings *prometheus.Desc
	windowLength, windowRetention, windowWorstGap, windowPast, windowPastBytes   *prometheus.Desc
	forecastDays, budgetRemaining, budgetMet                                     *prometheus.Desc
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector exports the metrics of every scenario of reports, each
// series labelled with its scenario.
func NewCollector(reports []*drill.Report) *Collector {
	return newCollector(Scenarios(reports), true)
}

func newCollector(scenarios []Scenario, withScenario bool) *Collector {
	var base []string
	if withScenario {
		base = []string{LabelScenario}
	}
	with := func(l string) []string { return append(slices.Clone(base), l) }
	return &Collector{scenarios: scenarios, withScenario: withScenario, descs: descs{
		lastRun: prometheus.NewDesc(LastRunTimestamp,
			"Start of the scenario's last drill that ended, whatever its result, in seconds since the epoch.", base, nil),
		lastSuccess: prometheus.NewDesc(LastSuccessTimestamp,
			"Start of the scenario's last passing drill, in seconds since the epoch; absent when none passed.", base, nil),
		result: prometheus.NewDesc(Result,
			"1 for how the scenario's last drill ended (pass, fail, error, interrupted, died), 0 for the other results.", with(LabelResult), nil),
		rto: prometheus.NewDesc(RTO,
			"Recovery time of the scenario's last drill: measured, plus the declared estimates of the runbook's manual steps nobody timed; when the drill stopped recovering (failed, or interrupted: a scheduled drill's deadline) "+
				"after its RTO had passed, how long it had gone without recovering, a lower bound; absent when the recovery did not complete within the RTO.", base, nil),
		rtoObjective: prometheus.NewDesc(RTOObjective,
			"Recovery time objective of the scenario's last drill.", base, nil),
		rpo: prometheus.NewDesc(RPO,
			"Data loss (recovery point age) measured by the scenario's last drill; absent when no recovery point was chosen.", base, nil),
		rpoObjective: prometheus.NewDesc(RPOObjective,
			"Recovery point objective of the scenario's last drill.", base, nil),
		findings: prometheus.NewDesc(Findings,
			"Findings of the scenario's last drill that did not pass, by severity (warn, fail, critical).", with(LabelSeverity), nil),
		windowLength: prometheus.NewDesc(WindowLength,
			"How far back a restore can reach: from the oldest usable backup of the scenario's schedule to the check, by the last drill that read the window; 0 when no backup is usable.", base, nil),
		windowRetention: prometheus.NewDesc(WindowRetentionObjective,
			"The scenario's objectives.retention: how far back a restore must reach; absent when not declared.", base, nil),
		windowWorstGap: prometheus.NewDesc(WindowWorstGap,
			"Longest time between consecutive usable backups in the window (the newest to the check included): the worst-case RPO; absent when no backup is usable.", base, nil),
		windowPast: prometheus.NewDesc(WindowPastMaxRetention,
			"Backups, repository objects, TTLs and lock periods that keep data past the scenario's objectives.maxRetention; absent when not declared.", base, nil),
		windowPastBytes: prometheus.NewDesc(WindowPastMaxRetentionB,
			"Bytes of the data kept past objectives.maxRetention, where it was sized; absent when not declared.", base, nil),
		forecastDays: prometheus.NewDesc(ForecastDaysToObjective,
			"Days until the trend of the scenario's recovery time against what its drills restored reaches the RTO objective, 0 when it has; absent without a forecast (too few drills, a poor fit, or a steady size).", base, nil),
		budgetRemaining: prometheus.NewDesc(ErrorBudgetRemaining,
			"Share of the scenario's error budget left: 1 - (1 - met ratio) / (1 - target); negative when overspent; absent without a drill in the window.", base, nil),
		budgetMet: prometheus.NewDesc(ErrorBudgetMet,
			"Share of the scenario's drills in the error budget's window that met both RTO and RPO; absent without a drill in the window.", base, nil),
	}}
}

// Describe sends the descriptions of every metric.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	d := c.descs
	for _, desc := range []*prometheus.Desc{d.lastRun, d.lastSuccess, d.result, d.rto, d.rtoObjective, d.rpo, d.rpoObjective, d.findings,
		d.windowLength, d.windowRetention, d.windowWorstGap, d.windowPast, d.windowPastBytes,
		d.forecastDays, d.budgetRemaining, d.budgetMet} {
		ch <- desc
	}
}

// Collect sends the metrics of every scenario.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	d := c.descs
	for _, s := range c.scenarios {
		var labels []string
		if c.withScenario {
			labels = []string{s.Name}
		}
		gauge := func(desc *prometheus.Desc, v float64, extra ...string) {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, append(slices.Clone(labels), extra...)...)
		}
		last := s.Last
		gauge(d.lastRun, seconds(last.StartedAt.UnixNano()))
		if s.LastPass != nil {
			gauge(d.lastSuccess, seconds(s.LastPass.StartedAt.UnixNano()))
		}
		for _, r := range results {
			gauge(d.result, boolValue(last.Result == r), string(r))
		}
		if m := last.RTO.Judged(); m != nil { // with declared manual time: the total
			gauge(d.rto, *m)
		}
		gauge(d.rtoObjective, last.RTO.ObjectiveSeconds)
		if m := last.RPO.MeasuredSeconds; m != nil {
			gauge(d.rpo, *m)
		}
		gauge(d.rpoObjective, last.RPO.ObjectiveSeconds)
		bySeverity := finding.BySeverity(last.Findings)
		for _, sev := range severities {
			gauge(d.findings, float64(bySeverity[sev]), string(sev))
		}
		if w := s.Window; w != nil {
			length := 0.0
			if w.Oldest != nil && !w.Oldest.Started.IsZero() {
				length = w.CheckedAt.Sub(w.Oldest.Started).Seconds()
			}
			gauge(d.windowLength, length)
			if w.RetentionSeconds > 0 {
				gauge(d.windowRetention, w.RetentionSeconds)
			}
			if g := w.WorstGap; g != nil {
				gauge(d.windowWorstGap, g.Seconds)
			}
			if w.MaxRetentionSeconds > 0 {
				var n int64
				for _, r := range w.PastMaxRetention {
					n += r.Bytes
				}
				gauge(d.windowPast, float64(len(w.PastMaxRetention)))
				gauge(d.windowPastBytes, float64(n))
			}
		}
		if f := s.Outlook.RTOForecast; f.DaysToObjective != nil {
			gauge(d.forecastDays, *f.DaysToObjective)
		}
		if b := s.Outlook.ErrorBudget; b.BudgetRemainingRatio != nil {
			gauge(d.budgetRemaining, *b.BudgetRemainingRatio)
			gauge(d.budgetMet, *b.MetRatio)
		}
	}
}

func seconds(unixNano int64) float64 { return float64(unixNano) / 1e9 }

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
