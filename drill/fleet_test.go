package drill

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

func fptr(f float64) *float64 { return &f }

func sampleSummary(cluster, scenario, id string, started time.Time, result Result, rto float64) DrillSummary {
	return DrillSummary{ID: id, Scenario: scenario, Cluster: cluster, StartedAt: started, FinishedAt: started.Add(10 * time.Minute),
		Result: result, RTOSeconds: fptr(rto), RPOSeconds: fptr(60.5), RTOStatus: ObjectiveMet, RPOStatus: ObjectiveMet,
		RTOObjectiveSeconds: 3600, RPOObjectiveSeconds: 900, RestoredItems: 42, RestoredBytes: 1 << 30,
		ScenarioSHA256: strings.Repeat("ab", 32), Compliance: []string{"dora", "pci-dss"}}
}

func TestIndexKey_RoundTrip(t *testing.T) {
	h, _ := sharedHistory(t)
	for _, s := range []DrillSummary{
		sampleSummary("eu-1", "region-loss", "fd-20261201-a1", t0, ResultPass, 312.25),
		sampleSummary("", "ns-deletion", "fd-x", t0.Add(time.Millisecond*1500), ResultFail, 0),
		{ID: "fd-bare", Scenario: "s", Result: ResultError}, // nothing measured
		{ID: "fd-budget", Scenario: "s", Result: ResultPass, ErrorBudgetTarget: 0.9, ErrorBudgetWindowSeconds: 180 * 86400},
	} {
		key, err := h.indexKey(s)
		require.NoError(t, err)
		got, err := parseIndexKey(strings.TrimPrefix(key, "team/index/v1/"))
		require.NoError(t, err, key)
		assert.True(t, got.StartedAt.Equal(s.StartedAt), key)
		got.StartedAt, s.StartedAt = time.Time{}, time.Time{}
		got.FinishedAt, s.FinishedAt = time.Time{}, time.Time{}
		s.ScenarioSHA256 = shortHash(s.ScenarioSHA256)
		assert.Equal(t, s, got, key)
	}
}

// MinIO refuses a key with a "/"-separated part longer than 255 bytes
// (XMinioInvalidObjectName): the longest summary stays within it.
func TestIndexKey_PartsFitMinIO(t *testing.T) {
	h, _ := sharedHistory(t)
	s := sampleSummary(strings.Repeat("c", 63), strings.Repeat("s", 63), "fd-20261201-151700-8dea", t0.Add(123456789*time.Nanosecond), ResultInterrupted, 123456.123456789)
	s.FinishedAt = s.FinishedAt.Add(987654321 * time.Nanosecond)
	s.RPOSeconds, s.RTOStatus, s.RPOStatus = fptr(987654.987654321), ObjectiveNotMeasured, ObjectiveNotMeasured
	s.RestoredItems, s.RestoredBytes = 123456789, 1<<50
	s.ScenarioSHA256, s.RunbookSHA256, s.TargetSHA256 = strings.Repeat("a", 64), strings.Repeat("b", 64), strings.Repeat("c", 64)
	s.Compliance = []string{"dora", "pci-dss", "soc2", "iso27001", "nis2", "hipaa"}
	key, err := h.indexKey(s)
	require.NoError(t, err)
	for _, part := range strings.Split(key, "/") {
		assert.LessOrEqual(t, len(part), 255, part)
	}
	got, err := parseIndexKey(strings.TrimPrefix(key, "team/index/v1/"))
	require.NoError(t, err)
	assert.Equal(t, 123456.123, *got.RTOSeconds, "to the millisecond")
	assert.Equal(t, "aaaaaaaaaaaaaaaa", got.ScenarioSHA256)
	assert.Equal(t, s.Compliance, got.Compliance)
}

func TestIndexKey_Refused(t *testing.T) {
	h, _ := sharedHistory(t)
	for name, s := range map[string]DrillSummary{
		"cluster with slash": {ID: "fd-1", Scenario: "s", Cluster: "a/b"},
		"cluster underscore": {ID: "fd-1", Scenario: "s", Cluster: "_"},
		"scenario with ,":    {ID: "fd-1", Scenario: "a,b"},
		"drill id":           {ID: "../x", Scenario: "s"},
		"too long":           {ID: "fd-1", Scenario: "s", Compliance: []string{strings.Repeat("x", 1100)}},
	} {
		_, err := h.indexKey(s)
		assert.Error(t, err, name)
	}
}

func TestS3Records_ClusterPrefix(t *testing.T) {
	h, st := sharedHistory(t)
	eu := h.ForCluster("eu-1")
	ctx := context.Background()
	require.NoError(t, eu.WriteFile(ctx, "fd-1", "report.md", []byte("x")))
	require.NoError(t, h.WriteFile(ctx, "fd-2", "report.md", []byte("y")))
	assert.Equal(t, []string{
		"PutObject s3://team-drills/team/clusters/eu-1/drills/fd-1/report.md",
		"PutObject s3://team-drills/team/drills/fd-2/report.md",
	}, st.Writes())
	assert.Equal(t, "s3://team-drills/team/clusters/eu-1/drills/fd-1/report.md", eu.URL("fd-1", "report.md"))
	clusters, err := h.Clusters(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"eu-1"}, clusters)
}

// writeRecord writes a report.json as a drill does, through WriteFile.
func writeRecord(t *testing.T, h *S3Records, s DrillSummary) {
	t.Helper()
	r := &Report{Schema: ReportSchema, DrillID: s.ID, Scenario: s.Scenario, Cluster: s.Cluster, StartedAt: s.StartedAt,
		FinishedAt: s.FinishedAt, Result: s.Result,
		RTO: Objective{ObjectiveSeconds: s.RTOObjectiveSeconds, MeasuredSeconds: s.RTOSeconds, Status: s.RTOStatus},
		RPO: Objective{ObjectiveSeconds: s.RPOObjectiveSeconds, MeasuredSeconds: s.RPOSeconds, Status: s.RPOStatus}}
	b, err := json.Marshal(r)
	require.NoError(t, err)
	require.NoError(t, h.ForCluster(s.Cluster).WriteFile(context.Background(), s.ID, ReportFile, b))
}

func TestS3Records_ReportWritesIndexEntryOnceEnded(t *testing.T) {
	h, st := sharedHistory(t)
	ctx := context.Background()
	s := sampleSummary("eu-1", "region-loss", "fd-1", t0, ResultRunning, 1)
	s.ScenarioSHA256, s.Compliance, s.RestoredBytes, s.RestoredItems = "", nil, 0, 0
	writeRecord(t, h, s)
	idx, err := h.ReadIndex(ctx)
	require.NoError(t, err)
	assert.Empty(t, idx, "a running drill has no entry yet")

	s.Result = ResultPass
	writeRecord(t, h, s)
	writeRecord(t, h, s) // the same record again: one entry
	idx, err = h.ReadIndex(ctx)
	require.NoError(t, err)
	require.Len(t, idx, 1)
	assert.Equal(t, "eu-1", idx[0].Cluster)
	assert.Equal(t, ResultPass, idx[0].Result)
	assert.Equal(t, 1.0, *idx[0].RTOSeconds)
	var entries []string
	for _, w := range st.Writes() {
		if strings.Contains(w, "/index/") {
			entries = append(entries, w)
		}
	}
	assert.Equal(t, []string{
		"PutObject s3://team-drills/team/index/v1/eu-1/region-loss/fd-1/started=20261122T100000Z,finished=20261122T101000Z,result=pass,rto=1,rto_obj=3600,rto_status=met,rpo=60.5,rpo_obj=900,rpo_status=met,items=0,bytes=0/-",
		"PutObject s3://team-drills/team/index/v1/eu-1/region-loss/fd-1/started=20261122T100000Z,finished=20261122T101000Z,result=pass,rto=1,rto_obj=3600,rto_status=met,rpo=60.5,rpo_obj=900,rpo_status=met,items=0,bytes=0/-",
	}, entries, "one entry, written once per ended record")
}

func TestS3Records_ConcurrentWritersLoseNoEntry(t *testing.T) {
	h, _ := sharedHistory(t)
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			writeRecord(t, h, sampleSummary("eu-1", "region-loss", fmt.Sprintf("fd-%03d", i), t0.Add(time.Duration(i)*time.Minute), ResultPass, 100))
		}()
	}
	wg.Wait()
	idx, err := h.ReadIndex(context.Background())
	require.NoError(t, err)
	assert.Len(t, idx, n)
}

func TestS3Records_ReindexIndexesOldHistories(t *testing.T) {
	h, st := sharedHistory(t)
	ctx := context.Background()
	// Records written before the index: straight to the store.
	old := []DrillSummary{
		sampleSummary("", "region-loss", "fd-old-1", t0, ResultPass, 100),
		sampleSummary("eu-1", "region-loss", "fd-old-2", t0.Add(time.Hour), ResultFail, 200),
	}
	old[1].Cluster = "" // a record of a cluster folder written before Report.Cluster
	for i, s := range old {
		b, err := json.Marshal(&Report{DrillID: s.ID, Scenario: s.Scenario, StartedAt: s.StartedAt, Result: s.Result})
		require.NoError(t, err)
		key := []string{"team/drills/fd-old-1/report.json", "team/clusters/eu-1/drills/fd-old-2/report.json"}[i]
		_, err = st.PutObject(ctx, "team-drills", key, b, objectstore.PutOptions{})
		require.NoError(t, err)
	}
	idx, err := h.ReadIndex(ctx)
	require.NoError(t, err)
	require.Empty(t, idx)

	n, err := h.Reindex(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	idx, err = h.ReadIndex(ctx)
	require.NoError(t, err)
	require.Len(t, idx, 2)
	assert.Equal(t, []string{"", "eu-1"}, []string{idx[0].Cluster, idx[1].Cluster})
	assert.Equal(t, []Result{ResultPass, ResultFail}, []Result{idx[0].Result, idx[1].Result})

	scan, err := h.ScanRecords(ctx, 3)
	require.NoError(t, err)
	assert.Equal(t, idx, scan, "the index reads as the records")
}

func TestFleet_Rows(t *testing.T) {
	now := t0.Add(100 * 24 * time.Hour)
	day := 24 * time.Hour
	drills := []DrillSummary{
		// eu-1/a: passed 10 days ago, slower than before: ok.
		sampleSummary("eu-1", "a", "fd-a1", now.Add(-40*day), ResultPass, 100),
		sampleSummary("eu-1", "a", "fd-a2", now.Add(-10*day), ResultPass, 130),
		// eu-1/b: the last drill failed.
		sampleSummary("eu-1", "b", "fd-b1", now.Add(-10*day), ResultPass, 100),
		sampleSummary("eu-1", "b", "fd-b2", now.Add(-5*day), ResultFail, 100),
		// us-2/a: passed 80 days ago: due within 14 days.
		sampleSummary("us-2", "a", "fd-c1", now.Add(-80*day), ResultPass, 100),
		// us-2/b: passed 95 days ago: overdue.
		sampleSummary("us-2", "b", "fd-d1", now.Add(-95*day), ResultPass, 100),
		// still running: not counted.
		sampleSummary("us-2", "b", "fd-d2", now.Add(-time.Hour), ResultRunning, 100),
	}
	var seen []int
	rows := Fleet(drills, FleetOptions{Now: now, Estimate: func(d []DrillSummary, _ time.Time) FleetEstimates {
		seen = append(seen, len(d))
		return FleetEstimates{ForecastText: "f"}
	}})
	require.Len(t, rows, 4)
	got := map[string]FleetState{}
	for _, r := range rows {
		got[r.Cluster+"/"+r.Scenario] = r.State
	}
	assert.Equal(t, map[string]FleetState{"eu-1/a": FleetOK, "eu-1/b": FleetFailing, "us-2/a": FleetDue, "us-2/b": FleetOverdue}, got)
	assert.Equal(t, 30.0, *rows[0].RTOTrendSeconds)
	assert.Equal(t, "fd-a2", rows[0].LastDrill.ID)
	assert.Equal(t, 2, rows[0].Drills)
	assert.Nil(t, rows[2].RTOTrendSeconds, "one drill: no trend")
	assert.Equal(t, 1, rows[3].Drills, "the running drill is left out")
	assert.Equal(t, []int{2, 2, 1, 1}, seen)

	assert.Equal(t, "f", rows[0].ForecastText)

	kept := FleetFilter{States: []FleetState{FleetFailing, FleetOverdue}}.Keep(rows)
	require.Len(t, kept, 2)
	assert.Equal(t, []string{"b", "b"}, []string{kept[0].Scenario, kept[1].Scenario})
	assert.Len(t, FleetFilter{Clusters: []string{"us-2"}, Scenarios: []string{"a"}}.Keep(rows), 1)
}

func TestFleet_ChangedAndOutlook(t *testing.T) {
	now := t0.Add(400 * 24 * time.Hour)
	day := 24 * time.Hour
	var drills []DrillSummary
	for i := range 5 {
		d := sampleSummary("eu-1", "a", fmt.Sprintf("fd-%d", i), now.Add(-time.Duration(5-i)*30*day), ResultPass, 1000+float64(i)*300)
		d.RestoredItems, d.RestoredBytes = 1000+i*300, 0
		drills = append(drills, d)
	}
	rows := Fleet(drills, FleetOptions{Now: now, Estimate: FleetOutlook()})
	require.Len(t, rows, 1)
	assert.Equal(t, FleetOK, rows[0].State)
	f, ok := rows[0].Forecast.(RTOForecast)
	require.True(t, ok)
	assert.Equal(t, ForecastTrend, f.State, f.Reason)
	// RTO = items, +300 items every 30 days: 3,600 s is 1,400 items
	// after the last drill's 2,200, 140 days after it (30 days ago).
	assert.InDelta(t, 110, *f.DaysToObjective, 0.5)
	assert.Equal(t, "miss in 110d", rows[0].ForecastText)
	assert.Equal(t, "5/5 met (100%), target 75%, budget 100%", rows[0].ErrorBudgetText)

	// A drill of the changed scenario (another SHA-256) that failed: the
	// row is failing, its due state says why.
	drills = append(drills, drills[4])
	drills[5].ID, drills[5].StartedAt, drills[5].Result = "fd-5", now.Add(-day), ResultFail
	drills[5].ScenarioSHA256 = strings.Repeat("cd", 32)
	rows = Fleet(drills, FleetOptions{Now: now})
	assert.Equal(t, FleetFailing, rows[0].State)
	assert.Equal(t, DueChanged, rows[0].Due.State)
}

func TestS3Records_EachIndexGroupHoldsOneGroupAtATime(t *testing.T) {
	h, _ := sharedHistory(t)
	ctx := context.Background()
	for _, s := range []DrillSummary{
		sampleSummary("eu-1", "a", "fd-2", t0.Add(time.Hour), ResultPass, 1),
		sampleSummary("eu-1", "a", "fd-1", t0, ResultPass, 1),
		sampleSummary("eu-1", "a-b", "fd-3", t0, ResultPass, 1),
		sampleSummary("", "a", "fd-4", t0, ResultFail, 1),
		sampleSummary("us-2", "a", "fd-5", t0, ResultPass, 1),
	} {
		require.NoError(t, h.WriteIndexEntry(ctx, s))
	}
	var groups [][]string
	require.NoError(t, h.EachIndexGroup(ctx, func(d []DrillSummary) {
		var ids []string
		for _, s := range d {
			ids = append(ids, s.Cluster+"/"+s.Scenario+"/"+s.ID)
		}
		groups = append(groups, ids)
	}))
	// Clusters in any order (listed in parallel); within one, in key
	// order ("a-b/" before "a/"), each group's drills by start.
	slices.SortStableFunc(groups, func(a, b []string) int {
		return strings.Compare(strings.SplitN(a[0], "/", 2)[0], strings.SplitN(b[0], "/", 2)[0])
	})
	assert.Equal(t, [][]string{{"/a/fd-4"}, {"eu-1/a-b/fd-3"}, {"eu-1/a/fd-1", "eu-1/a/fd-2"}, {"us-2/a/fd-5"}}, groups)
}

// The fleet's error budget is the one the scenario's newest drill
// recorded, as history's (OutlookOf): not a fleet-wide default.
func TestFleetOutlook_RecordedBudget(t *testing.T) {
	now := t0.Add(400 * 24 * time.Hour)
	day := 24 * time.Hour
	var drills []DrillSummary
	for i := range 4 {
		d := sampleSummary("eu-1", "a", fmt.Sprintf("fd-%d", i), now.Add(-time.Duration(4-i)*30*day), ResultPass, 1000)
		d.ErrorBudgetTarget, d.ErrorBudgetWindowSeconds = 0.9, (100 * day).Seconds()
		drills = append(drills, d)
	}
	drills[3].RTOStatus = ObjectiveMissed // 30 days ago
	drills[0].RTOStatus = ObjectiveMissed // 120 days ago: outside the 100 days
	rows := Fleet(drills, FleetOptions{Now: now, Estimate: FleetOutlook()})
	require.Len(t, rows, 1)
	b := rows[0].ErrorBudget.(ErrorBudget)
	assert.Equal(t, 0.9, b.Target)
	assert.Equal(t, (100 * day).Seconds(), b.WindowSeconds)
	assert.Equal(t, 3, b.Drills, "the drill 120 days ago is outside the window")
	assert.Equal(t, OutlookOf("a", drills, now).ErrorBudget, b, "the same figure as history's")

	// Entries written before the index kept the budget: the defaults.
	for i := range drills {
		drills[i].ErrorBudgetTarget, drills[i].ErrorBudgetWindowSeconds = 0, 0
	}
	b = Fleet(drills, FleetOptions{Now: now, Estimate: FleetOutlook()})[0].ErrorBudget.(ErrorBudget)
	assert.Equal(t, 0.75, b.Target)
	assert.Equal(t, 4, b.Drills)
}

// Median is drill's one median: the mean of the two middle values of an
// even count (the bench's upper middle gave 3 here).
func TestMedian(t *testing.T) {
	in := []float64{4, 1, 3, 2}
	assert.Equal(t, 2.5, Median(in))
	assert.Equal(t, []float64{4, 1, 3, 2}, in, "not sorted in place")
	assert.Equal(t, 3.0, Median([]float64{5, 3, 1}))
}
