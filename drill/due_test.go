package drill

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/evidence"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// dueHistory is a state directory whose drills cover every DueState as of
// dueNow, with a 90-day maximum age:
//
//	region-loss         passed 10 days ago                   fresh
//	namespace-deletion  passed 120 days ago                  overdue
//	observability-loss  passed 30 days ago, failed yesterday fresh: the last pass counts
//	failed-upgrade      failed 200 and 5 days ago            never-passed
//	ransomware          running now (or died mid-drill)      never-run
//	random-audit        nothing                              never-run
func dueHistory(t *testing.T) string {
	t.Helper()
	state := t.TempDir()
	day := 24 * time.Hour
	for _, d := range []struct {
		id       string
		scenario string
		ago      time.Duration
		result   Result
	}{
		{"fd-a", "region-loss", 10 * day, ResultPass},
		{"fd-b", "region-loss", 100 * day, ResultPass},
		{"fd-c", "namespace-deletion", 120 * day, ResultPass},
		{"fd-d", "namespace-deletion", 95 * day, ResultInterrupted},
		{"fd-e", "observability-loss", 30 * day, ResultPass},
		{"fd-f", "observability-loss", day, ResultFail},
		{"fd-g", "failed-upgrade", 200 * day, ResultError},
		{"fd-h", "failed-upgrade", 5 * day, ResultFail},
		{"fd-i", "ransomware", time.Minute, ResultRunning},
	} {
		dir, err := CreateDir(state, d.id)
		require.NoError(t, err)
		require.NoError(t, dir.WriteReport(&Report{DrillID: d.id, Scenario: d.scenario, StartedAt: dueNow.Add(-d.ago), Result: d.result}))
	}
	return state
}

var dueNow = time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)

func TestDue_EveryStateFromAHistory(t *testing.T) {
	reports, err := ListReports(context.Background(), LocalRecords{StateDir: dueHistory(t)}, "")
	require.NoError(t, err)
	got := Due(reports, []DueScenario{{Name: "region-loss"}, {Name: "random-audit"}}, DuePolicy{MaxAge: 90 * 24 * time.Hour}, dueNow)

	byName := map[string]DueStatus{}
	var names []string
	for _, s := range got {
		byName[s.Scenario] = s
		names = append(names, s.Scenario)
	}
	assert.Equal(t, []string{"failed-upgrade", "namespace-deletion", "observability-loss", "random-audit", "ransomware", "region-loss"}, names,
		"the scenarios named and those of the history, sorted")

	tests := []struct {
		scenario  string
		state     DueState
		lastDrill string
		lastPass  string
		ageDays   float64
	}{
		{"region-loss", DueFresh, "fd-a", "fd-a", 10},
		{"namespace-deletion", DueOverdue, "fd-d", "fd-c", 120},
		{"observability-loss", DueFresh, "fd-f", "fd-e", 30},
		{"failed-upgrade", DueNeverPassed, "fd-h", "", 0},
		{"ransomware", DueNeverRun, "", "", 0},
		{"random-audit", DueNeverRun, "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			s := byName[tt.scenario]
			assert.Equal(t, tt.state, s.State)
			assert.Equal(t, tt.state != DueFresh, s.IsDue())
			if tt.lastDrill == "" {
				assert.Nil(t, s.LastDrill)
			} else if assert.NotNil(t, s.LastDrill) {
				assert.Equal(t, tt.lastDrill, s.LastDrill.DrillID)
			}
			require.NotNil(t, s.DueAt, "due_at says what the DUE column says, for every state")
			if tt.lastPass == "" {
				assert.Nil(t, s.LastPass)
				assert.Nil(t, s.AgeSeconds)
				assert.Equal(t, dueNow, *s.DueAt, "due now: no pass says when")
				return
			}
			require.NotNil(t, s.LastPass)
			assert.Equal(t, tt.lastPass, s.LastPass.DrillID)
			assert.Equal(t, ResultPass, s.LastPass.Result)
			require.NotNil(t, s.AgeSeconds)
			assert.Equal(t, tt.ageDays*86400, *s.AgeSeconds)
			require.NotNil(t, s.DueAt)
			assert.Equal(t, s.LastPass.StartedAt.Add(90*24*time.Hour), *s.DueAt)
		})
	}
}

func TestDue_Boundaries(t *testing.T) {
	maxAge := 90 * 24 * time.Hour
	pass := func(startedAt time.Time) []*Report {
		return []*Report{{DrillID: "fd-x", Scenario: "s", StartedAt: startedAt, Result: ResultPass}}
	}
	tests := []struct {
		name    string
		reports []*Report
		state   DueState
		age     float64
	}{
		{"exactly max age is still fresh", pass(dueNow.Add(-maxAge)), DueFresh, maxAge.Seconds()},
		{"a second later it is overdue", pass(dueNow.Add(-maxAge - time.Second)), DueOverdue, maxAge.Seconds() + 1},
		{"a drill from the future counts as now", pass(dueNow.Add(time.Hour)), DueFresh, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Due(tt.reports, nil, DuePolicy{MaxAge: maxAge}, dueNow)
			require.Len(t, got, 1)
			assert.Equal(t, tt.state, got[0].State)
			require.NotNil(t, got[0].AgeSeconds)
			assert.Equal(t, tt.age, *got[0].AgeSeconds)
		})
	}
}

func TestDue_NoScenariosNoHistory(t *testing.T) {
	assert.Empty(t, Due(nil, nil, DuePolicy{MaxAge: time.Hour}, dueNow))
}

func TestDueOf_ComplianceCadence(t *testing.T) {
	day := 24 * time.Hour
	pass := func(ago time.Duration, compliance ...string) []DrillSummary {
		return []DrillSummary{{ID: "fd-p", StartedAt: dueNow.Add(-ago), Result: ResultPass, Compliance: compliance}}
	}
	tests := []struct {
		name    string
		history []DrillSummary
		sc      DueScenario
		policy  DuePolicy
		state   DueState
		rule    string
		maxAge  time.Duration
		reason  string
	}{
		{"the organisation's 90 days is stricter than PCI DSS's year", pass(100*day, "pci-dss"), DueScenario{Name: "s"},
			DuePolicy{}, DueOverdue, "max-age", 90 * day, "last pass 100d ago, more than 90d (the organisation's cadence)"},
		{"with a two-year policy, PCI DSS 12.10.2's 12 months wins", pass(400*day, "pci-dss"), DueScenario{Name: "s"},
			DuePolicy{MaxAge: 730 * day}, DueOverdue, "pci-dss", 365 * day, "last pass 400d ago, more than 365d (PCI DSS v4.0 req. 12.10.2: at least once every 12 months)"},
		{"frameworks that tie are all named", pass(200 * day), DueScenario{Name: "s", Compliance: []string{"dora", "pci-dss"}},
			DuePolicy{MaxAge: 730 * day}, DueFresh, "dora, pci-dss", 365 * day, ""},
		{"the scenario's compliance now wins over the drill's", pass(200*day, "pci-dss"), DueScenario{Name: "s", Compliance: []string{}},
			DuePolicy{MaxAge: 730 * day}, DueFresh, "max-age", 730 * day, ""},
		{"a policy for soc2 overrides the default", pass(200*day, "soc2", "hipaa"), DueScenario{Name: "s"},
			DuePolicy{MaxAge: 730 * day, Cadences: map[string]time.Duration{"soc2": 180 * day}}, DueOverdue, "soc2", 180 * day, "last pass 200d ago, more than 180d (soc2: the organisation's policy)"},
		{"a policy cannot loosen PCI DSS 12.10.2's 12 months", pass(400*day, "pci-dss"), DueScenario{Name: "s"},
			DuePolicy{MaxAge: 3 * 365 * day, Cadences: map[string]time.Duration{"pci-dss": 3 * 365 * day}}, DueOverdue, "pci-dss", 365 * day, ""},
		{"but may tighten it", pass(200*day, "dora"), DueScenario{Name: "s"},
			DuePolicy{MaxAge: 730 * day, Cadences: map[string]time.Duration{"dora": 180 * day}}, DueOverdue, "dora", 180 * day, ""},
		{"no drill", nil, DueScenario{Name: "s", Compliance: []string{"nis2"}},
			DuePolicy{MaxAge: 730 * day}, DueNeverRun, "nis2", 365 * day, "no drill recorded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DueOf(tt.sc, tt.history, tt.policy, dueNow)
			assert.Equal(t, "s", got.Scenario)
			assert.Equal(t, tt.state, got.State)
			assert.Equal(t, tt.rule, got.Rule)
			assert.Equal(t, tt.maxAge.Seconds(), got.MaxAgeSeconds)
			if tt.reason != "" {
				assert.Equal(t, tt.reason, got.Reason)
			}
			require.NotNil(t, got.DueAt)
			if len(tt.history) > 0 {
				assert.Equal(t, tt.history[0].StartedAt.Add(tt.maxAge), *got.DueAt)
			} else {
				assert.Equal(t, dueNow, *got.DueAt)
			}
		})
	}
	for _, name := range []string{"dora", "pci-dss", "soc2", "iso27001", "nis2", "hipaa"} {
		c, ok := CadenceOf(name)
		assert.True(t, ok, name)
		assert.Equal(t, 365*day, c.MaxAge, "%s: yearly (source or documented default)", name)
	}
}

func TestDueOf_AfterAMajorChange(t *testing.T) {
	day := 24 * time.Hour
	fp := Fingerprint{ScenarioSHA256: "s1", RunbookSHA256: "r1", TargetSHA256: "t1"}
	drill := func(id string, ago time.Duration, result Result, f Fingerprint) DrillSummary {
		return DrillSummary{ID: id, StartedAt: dueNow.Add(-ago), Result: result,
			ScenarioSHA256: f.ScenarioSHA256, RunbookSHA256: f.RunbookSHA256, TargetSHA256: f.TargetSHA256}
	}
	passed := []DrillSummary{drill("fd-1", 10*day, ResultPass, fp)}
	with := func(change func(*Fingerprint)) *Fingerprint { f := fp; change(&f); return &f }
	tests := []struct {
		name    string
		history []DrillSummary
		current *Fingerprint
		changed []string
	}{
		{"nothing changed", passed, &fp, nil},
		{"the scenario file", passed, with(func(f *Fingerprint) { f.ScenarioSHA256 = "s2" }), []string{"scenario"}},
		{"the runbook", passed, with(func(f *Fingerprint) { f.RunbookSHA256 = "r2" }), []string{"runbook"}},
		{"the runbook removed", passed, with(func(f *Fingerprint) { f.RunbookSHA256 = "" }), []string{"runbook"}},
		{"the target and the scenario", passed, with(func(f *Fingerprint) { f.TargetSHA256 = "t2"; f.ScenarioSHA256 = "s2" }), []string{"scenario", "target"}},
		{"a target that cannot be read now is not a change", passed, with(func(f *Fingerprint) { f.TargetSHA256 = "" }), nil},
		{"a last pass recorded before hashes is not compared", []DrillSummary{drill("fd-0", 10*day, ResultPass, Fingerprint{})}, with(func(f *Fingerprint) { f.ScenarioSHA256 = "s2" }), nil},
		{"without the current state, a later failed drill of the changed scenario shows it",
			append(slices.Clone(passed), drill("fd-2", day, ResultFail, Fingerprint{ScenarioSHA256: "s1", RunbookSHA256: "r2", TargetSHA256: "t1"})), nil, []string{"runbook"}},
		{"a pass after the change makes it fresh again",
			append(slices.Clone(passed), drill("fd-2", day, ResultPass, Fingerprint{ScenarioSHA256: "s2", RunbookSHA256: "r1", TargetSHA256: "t1"})), with(func(f *Fingerprint) { f.ScenarioSHA256 = "s2" }), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DueOf(DueScenario{Name: "s", Current: tt.current}, tt.history, DuePolicy{}, dueNow)
			assert.Equal(t, tt.changed, got.Changed)
			require.NotNil(t, got.DueAt)
			if tt.changed == nil {
				assert.Equal(t, DueFresh, got.State, got.Reason)
				assert.True(t, got.DueAt.After(dueNow), "fresh: due when the last pass gets too old")
				return
			}
			assert.Equal(t, DueChanged, got.State)
			assert.Equal(t, dueNow, *got.DueAt, "changed: due now, as the DUE column says, not when the last pass gets too old")
			assert.Equal(t, "changed", got.Rule)
			assert.True(t, got.IsDue())
			assert.Contains(t, got.Reason, "changed since the last pass")
		})
	}
}

// Every framework a scenario can name has a cadence and controls in the
// evidence's control mapping, and every control there belongs to one.
func TestCadences_MatchFrameworksAndControls(t *testing.T) {
	m, err := evidence.BuiltinMapping()
	require.NoError(t, err)
	var names []string
	for _, c := range Cadences {
		names = append(names, c.Framework)
		n := 0
		for _, ctl := range m.Controls {
			if strings.HasPrefix(ctl.ID, c.ControlPrefix) {
				n++
			}
		}
		assert.Positive(t, n, "%s: no control id starting %q in controls.yaml", c.Framework, c.ControlPrefix)
	}
	assert.Equal(t, scenarios.Frameworks, names)
	for _, ctl := range m.Controls {
		assert.True(t, slices.ContainsFunc(Cadences, func(c Cadence) bool { return strings.HasPrefix(ctl.ID, c.ControlPrefix) }),
			"control %s belongs to no framework a scenario can name", ctl.ID)
	}
}
