package drill

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/runbooks"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// clockOperator is the operator of an interactive drill on a stepClock:
// each manual step takes took, then gets answer (nil: done).
type clockOperator struct {
	clock  *stepClock
	took   time.Duration
	answer error
	asked  []string
}

func (o *clockOperator) Confirm(_ context.Context, st runbooks.Step, _, _ int) error {
	o.asked = append(o.asked, st.Name)
	o.clock.Advance(o.took)
	return o.answer
}

// runManualDrill runs a drill with fakes and defaultTakes (measured RTO:
// 5m24s) whose runbook is rb, with op as its operator (nil: a
// non-interactive drill).
func runManualDrill(t *testing.T, sc *scenarios.Scenario, rb *runbooks.Runbook, op *clockOperator) *Report {
	t.Helper()
	clock := &stepClock{t: t0}
	rec := &fakeRecovery{Clock: clock, Takes: defaultTakes}
	opts := Options{StateDir: t.TempDir(), DrillID: "fd-test", Now: clock.Now, Recovery: rec, Runbook: rb,
		Protection: &fakeProtection{Clock: clock, Takes: defaultTakes.Protection}}
	if op != nil {
		op.clock = clock
		opts.Operator = op
	}
	out, err := Run(context.Background(), sc, opts)
	require.NoError(t, err)
	return out.Report
}

func manualRunbook(t *testing.T, estimate string) *runbooks.Runbook {
	t.Helper()
	rb, err := runbooks.Parse("rb.md", []byte("# R\n\n```sh firedrill-step name=\"check\" timeout=5s\ntrue\n```\n\n"+
		"```text firedrill-manual name=\"dns-cutover\" estimate="+estimate+"\nPoint shop.example.com at the new ingress.\n```\n"))
	require.NoError(t, err)
	return rb
}

// TestRun_DeclaredManualTimeJudgesTheRTO: the same drill meets a 10m
// objective on its measured 5m24s alone and misses it once the runbook's
// 6m of declared manual work is added; measured_seconds stays what the
// drill measured.
func TestRun_DeclaredManualTimeJudgesTheRTO(t *testing.T) {
	sc := testScenario(t, "10m")
	alone := runManualDrill(t, sc, nil, nil)
	require.Equal(t, ResultPass, alone.Result)
	require.NotNil(t, alone.RTO.MeasuredSeconds)
	assert.Equal(t, 324.0, *alone.RTO.MeasuredSeconds)
	assert.Nil(t, alone.RTO.DeclaredManualSeconds)
	assert.Empty(t, alone.ManualSteps)

	rep := runManualDrill(t, sc, manualRunbook(t, "6m"), nil)
	assert.Equal(t, ResultFail, rep.Result)
	assert.Equal(t, ObjectiveMissed, rep.RTO.Status)
	assert.False(t, *rep.RTO.Met)
	assert.Equal(t, 324.0, *rep.RTO.MeasuredSeconds, "what the drill measured")
	require.NotNil(t, rep.RTO.DeclaredManualSeconds)
	assert.Equal(t, 360.0, *rep.RTO.DeclaredManualSeconds)
	assert.Equal(t, 684.0, *rep.RTO.TotalSeconds)
	assert.Equal(t, -84.0, *rep.RTO.MarginSeconds)
	assert.Equal(t, 684.0, *rep.RTO.Judged())
	assert.Equal(t, []ManualStep{{Name: "dns-cutover", Line: 7, Status: runbooks.StepDeclared, EstimateSeconds: 360, Source: SourceDeclared}}, rep.ManualSteps)
	assert.Equal(t, "MISSED: 11m24s (5m24s measured + 6m00s declared manual) against 10m00s (over by 1m24s)", objectiveLine(rep.RTO))

	require.NotNil(t, rep.RTOBudget)
	assert.Equal(t, []BudgetSegment{
		{Step: BeforeRecovery, Seconds: 24, Share: 0.04, Source: SourceMeasured},
		{Step: "restore", Seconds: 240, Share: 0.4, Source: SourceMeasured},
		{Step: "verify", Seconds: 60, Share: 0.1, Source: SourceMeasured},
		{Step: "dns-cutover", Seconds: 360, Share: 0.6, Source: SourceDeclared},
	}, rep.RTOBudget.Segments, "the runbook's command step took no time on the drill's clock")
	assert.Equal(t, 684.0, rep.RTOBudget.TotalSeconds)
	assert.Equal(t, -84.0, rep.RTOBudget.MarginSeconds)
}

// TestRun_TimedManualStepIsInsideTheMeasuredRTO: at a terminal the step
// is timed inside the runbook step, so nothing is declared on top.
func TestRun_TimedManualStepIsInsideTheMeasuredRTO(t *testing.T) {
	op := &clockOperator{took: 3 * time.Minute}
	rep := runManualDrill(t, testScenario(t, "10m"), manualRunbook(t, "6m"), op)
	assert.Equal(t, []string{"dns-cutover"}, op.asked)
	require.Equal(t, ResultPass, rep.Result, "findings: %+v", rep.Findings)
	assert.Equal(t, 504.0, *rep.RTO.MeasuredSeconds, "5m24s + the operator's 3m")
	assert.Nil(t, rep.RTO.DeclaredManualSeconds)
	assert.Nil(t, rep.RTO.TotalSeconds)
	assert.Equal(t, 96.0, *rep.RTO.MarginSeconds)
	took := 180.0
	assert.Equal(t, []ManualStep{{Name: "dns-cutover", Line: 7, Status: runbooks.StepPassed, EstimateSeconds: 360, TookSeconds: &took, Source: SourceTimed}}, rep.ManualSteps)
	require.NotNil(t, rep.RTOBudget)
	assert.Equal(t, []BudgetSegment{
		{Step: BeforeRecovery, Seconds: 24, Share: 0.04, Source: SourceMeasured},
		{Step: "restore", Seconds: 240, Share: 0.4, Source: SourceMeasured},
		{Step: "verify", Seconds: 60, Share: 0.1, Source: SourceMeasured},
		{Step: "dns-cutover", Seconds: 180, Share: 0.3, Source: SourceTimed},
	}, rep.RTOBudget.Segments, "the timed step is carved out of the runbook step, which has nothing left")
	assert.Equal(t, 96.0, rep.RTOBudget.MarginSeconds)
}

func TestRun_DeclinedManualStepIsAFinding(t *testing.T) {
	op := &clockOperator{took: time.Minute, answer: errors.Join(runbooks.ErrDeclined, errors.New("no access to the DNS console"))}
	rep := runManualDrill(t, testScenario(t, "10m"), manualRunbook(t, "6m"), op)
	assert.Equal(t, ResultFail, rep.Result)
	assert.Equal(t, PhaseFailed, phaseStatus(rep, StepRunbook))
	f := findingByID(rep.Findings, "runbook.manual-step-not-done")
	require.NotNil(t, f, "findings: %+v", rep.Findings)
	assert.Equal(t, `runbook rb.md, manual step "dns-cutover" (line 7)`, f.Subject)
	assert.Contains(t, f.Message, "no access to the DNS console")
	assert.Nil(t, findingByID(rep.Findings, "runbook.out-of-date"), "a declined step is not an out-of-date runbook")
	assert.Equal(t, ObjectiveNotMeasured, rep.RTO.Status)
	assert.Nil(t, rep.RTOBudget)
	assert.Equal(t, []ManualStep{{Name: "dns-cutover", Line: 7, Status: runbooks.StepFailed, EstimateSeconds: 360}}, rep.ManualSteps)
}

// budgetReport is a passed drill whose restore takes most of a 1h RTO.
func budgetReport() *Report {
	// Every step a drill records, the last ending when the drill did.
	r := &Report{StartedAt: t0, DisasterAt: t0, FinishedAt: t0.Add(2901 * time.Second), Phases: []Phase{
		phase(StepLoad, 0, 0.05, PhasePassed), phase(StepPreflight, 0.05, 2, PhasePassed),
		phase(StepProtection, 2, 20, PhasePassed), phase(StepRecoveryPoint, 20, 30, PhasePassed),
		phase(StepRestore, 30, 2730, PhasePassed), phase(StepVerify, 2730, 2790, PhasePassed),
		phase(StepRunbook, 2790, 2820, PhasePassed), phase(StepReport, 2820, 2821, PhasePassed),
		phase(StepEvidence, 2821, 2841, PhasePassed), phase(StepCleanup, 2841, 2901, PhasePassed),
	}, Runbook: []runbooks.StepResult{
		{Name: "check", Line: 3, Status: runbooks.StepPassed, Duration: 30 * time.Second},
		{Name: "dns-cutover", Line: 8, Status: runbooks.StepDeclared, Manual: true, Estimate: 5 * time.Minute},
	}}
	r.RTO = MeasureRTO(time.Hour, r.DisasterAt, r.Phases)
	r.ManualSteps = ManualSteps(r.Runbook)
	r.RTO = WithDeclaredManual(r.RTO, DeclaredManual(r.ManualSteps))
	r.RTOBudget = NewRTOBudget(r)
	return r
}

func TestRTOBudget_OneStepEatsMostOfTheBudget(t *testing.T) {
	b := budgetReport().RTOBudget
	require.NotNil(t, b)
	assert.Equal(t, []BudgetSegment{
		{Step: BeforeRecovery, Seconds: 30, Share: 30.0 / 3600, Source: SourceMeasured},
		{Step: "restore", Seconds: 2700, Share: 0.75, Source: SourceMeasured},
		{Step: "verify", Seconds: 60, Share: 60.0 / 3600, Source: SourceMeasured},
		{Step: "runbook", Seconds: 30, Share: 30.0 / 3600, Source: SourceMeasured},
		{Step: "dns-cutover", Seconds: 300, Share: 300.0 / 3600, Source: SourceDeclared},
	}, b.Segments)
	assert.Equal(t, "restore", b.Largest().Step)
	assert.Equal(t, 3120.0, b.TotalSeconds, "2820s measured + 300s declared")
	assert.Equal(t, 480.0, b.MarginSeconds)
	sum := 0.0
	for _, s := range b.Segments {
		sum += s.Seconds
	}
	assert.InDelta(t, b.TotalSeconds, sum, 1e-9, "the segments add up to the RTO judged")

	bars := b.Bars()
	assert.InDelta(t, 100.0/3600*30, bars[1].LeftPercent, 1e-9, "each bar starts where the one before ended")
	assert.InDelta(t, 75.0, bars[1].WidthPercent, 1e-9)
	assert.Equal(t, 100.0, b.ObjectivePercent(), "on time: the scale is the objective")
}

func TestRTOBudget_OverrunScalesToTheTotal(t *testing.T) {
	r := budgetReport()
	r.RTO = MeasureRTO(45*time.Minute, r.DisasterAt, r.Phases)
	r.RTO = WithDeclaredManual(r.RTO, DeclaredManual(r.ManualSteps))
	b := NewRTOBudget(r)
	assert.Equal(t, ObjectiveMissed, r.RTO.Status)
	assert.Equal(t, -420.0, b.MarginSeconds)
	assert.Equal(t, 420.0, b.Overrun())
	assert.Equal(t, 100.0, b.TotalPercent())
	assert.InDelta(t, 100*2700.0/3120, b.ObjectivePercent(), 1e-9)
	assert.Equal(t, 1.0, b.Segments[1].Share, "the restore alone takes the whole 45m objective")
}

func TestWithDeclaredManual_NothingDeclaredOrNotMeasured(t *testing.T) {
	m := Measure(10*time.Minute, 5*time.Minute)
	assert.Equal(t, m, WithDeclaredManual(m, 0))
	nm := NotMeasured(10*time.Minute, "recovery did not complete")
	assert.Equal(t, nm, WithDeclaredManual(nm, 300))
	assert.Nil(t, nm.Judged())
}

func TestReport_ManualJSONKeysAndOldRecords(t *testing.T) {
	b, err := json.Marshal(budgetReport())
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	rto := m["rto"].(map[string]any)
	assert.Equal(t, 2820.0, rto["measured_seconds"])
	assert.Equal(t, 300.0, rto["declared_manual_seconds"])
	assert.Equal(t, 3120.0, rto["total_seconds"])
	assert.Equal(t, 480.0, rto["margin_seconds"])
	ms := m["manual_steps"].([]any)[0].(map[string]any)
	assert.Equal(t, map[string]any{"name": "dns-cutover", "line": 8.0, "status": "declared", "estimate_seconds": 300.0, "took_seconds": nil, "source": "declared"}, ms)
	budget := m["rto_budget"].(map[string]any)
	assert.Equal(t, 3600.0, budget["objective_seconds"])
	assert.Equal(t, 480.0, budget["margin_seconds"])
	seg := budget["segments"].([]any)[1].(map[string]any)
	assert.Equal(t, map[string]any{"step": "restore", "seconds": 2700.0, "share": 0.75, "source": "measured"}, seg)

	// A record written before manual steps: no new keys, and the RTO it
	// was judged on is its measured one.
	old := []byte(`{"schema":"firedrill.dev/report/v2","drill_id":"fd-old","scenario":"s","result":"pass",
		"rto":{"objective_seconds":600,"measured_seconds":300,"met":true,"status":"met","margin_seconds":300},
		"rpo":{"objective_seconds":600,"measured_seconds":60,"met":true,"status":"met"},"phases":[],"findings":[],"order_verified":null}`)
	r, err := decodeReport(old, "old.json")
	require.NoError(t, err)
	assert.Nil(t, r.ManualSteps)
	assert.Nil(t, r.RTOBudget)
	assert.Equal(t, 300.0, *r.RTO.Judged())
	md, err := RenderMarkdown(r)
	require.NoError(t, err)
	assert.NotContains(t, string(md), "RTO budget")
	// Its next steps were never computed: not "nothing to do".
	assert.Nil(t, r.NextSteps)
	assert.NotContains(t, string(md), "Nothing to do")
	assert.Contains(t, string(md), "Not computed")
	html, err := RenderHTML(r)
	require.NoError(t, err)
	assert.NotContains(t, string(html), "Nothing to do")
}

// manualSampleReport is a passed drill of a runbook with one timed and
// one declared manual step, whose restore takes most of the budget.
func manualSampleReport() *Report {
	r := budgetReport()
	r.Schema, r.DrillID, r.Scenario, r.Summary, r.FiredrillVer = ReportSchema, "fd-20261122-100000-ab12", "region-loss", "The region hosting the shop is down", "test"
	r.Runbook = []runbooks.StepResult{
		{Name: "check", Line: 3, Status: runbooks.StepPassed, Duration: 10 * time.Second},
		{Name: "approve-change", Line: 8, Status: runbooks.StepPassed, Manual: true, Estimate: 15 * time.Minute, Duration: 20 * time.Second},
		{Name: "dns-cutover", Line: 13, Status: runbooks.StepDeclared, Manual: true, Estimate: 5 * time.Minute},
	}
	r.RTO = MeasureRTO(time.Hour, r.DisasterAt, r.Phases)
	r.RPO = Measure(24*time.Hour, time.Hour)
	r.ManualSteps = ManualSteps(r.Runbook)
	r.RTO = WithDeclaredManual(r.RTO, DeclaredManual(r.ManualSteps))
	r.RTOBudget = NewRTOBudget(r)
	r.Findings = nil
	r.Result = r.Decide()
	r.NextSteps = NextSteps(r) // as a drill does: the budget is 87% used
	return r
}

func TestRender_GoldenManualSteps(t *testing.T) {
	r := manualSampleReport()
	require.Equal(t, ResultPass, r.Result)
	requireCoherentTimeline(t, r)
	md, err := RenderMarkdown(r)
	require.NoError(t, err)
	golden(t, "report-manual.md.golden", md)
	// The budget is 87% used and one step eats 75% of it: a next step
	// says so and names that step.
	assert.Contains(t, string(md), "RTO used 87% of its objective (52m00s (47m00s measured + 5m00s declared manual) of 1h00m): little margin left; step restore takes 75% of it")
	assert.NotContains(t, string(md), "Nothing to do")
	html, err := RenderHTML(r)
	require.NoError(t, err)
	golden(t, "report-manual.html.golden", html)
	page := strings.ReplaceAll(string(html), `xmlns="http://www.w3.org/2000/svg"`, "")
	// Links to the README's sections are followed, never loaded.
	page = strings.ReplaceAll(page, `href="`+ReadmeURL+"#", "")
	for _, external := range []string{"<script src", "<link ", "http://", "https://", "url("} {
		assert.NotContains(t, page, external, "report.html must not load %q", external)
	}
}
