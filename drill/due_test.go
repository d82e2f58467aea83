package drill

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	got := Due(reports, []string{"region-loss", "random-audit"}, 90*24*time.Hour, dueNow)

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
			if tt.lastPass == "" {
				assert.Nil(t, s.LastPass)
				assert.Nil(t, s.AgeSeconds)
				assert.Nil(t, s.DueAt)
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
			got := Due(tt.reports, nil, maxAge, dueNow)
			require.Len(t, got, 1)
			assert.Equal(t, tt.state, got[0].State)
			require.NotNil(t, got[0].AgeSeconds)
			assert.Equal(t, tt.age, *got[0].AgeSeconds)
		})
	}
}

func TestDue_NoScenariosNoHistory(t *testing.T) {
	assert.Empty(t, Due(nil, nil, time.Hour, dueNow))
}
