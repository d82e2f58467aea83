//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/drill"
)

// TestFleet_IndexKeepsEveryEntryOfConcurrentDrills races drills ending at
// once on the lab's MinIO: 64 writers put the final record of 64 drills
// of one cluster and scenario (report.json, which writes the drill's index
// entry) at the same moment, and the index lists all 64.
func TestFleet_IndexKeepsEveryEntryOfConcurrentDrills(t *testing.T) {
	l := lab(t)
	_, bucket := historyBucket(t, l)
	ctx := testContext(t, 2*time.Minute)
	h := &drill.S3Records{Store: historyStore(t, l), Bucket: bucket, Prefix: "race", Cluster: "eu-1"}
	const n = 64
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, n)
	t0 := time.Date(2026, 6, 1, 6, 0, 0, 0, time.UTC)
	for i := range n {
		b, err := json.Marshal(synthRecord("region-loss", "eu-1", fmt.Sprintf("fd-race-%02d", i), t0.Add(time.Duration(i)*time.Hour), "pass", 300+float64(i), 40))
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = h.WriteFile(ctx, fmt.Sprintf("fd-race-%02d", i), drill.ReportFile, b)
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	idx, err := h.ReadIndex(ctx)
	require.NoError(t, err)
	require.Len(t, idx, n, "no entry lost")
	for i, s := range idx {
		assert.Equal(t, fmt.Sprintf("fd-race-%02d", i), s.ID)
		assert.Equal(t, 300+float64(i), *s.RTOSeconds)
		assert.Equal(t, "eu-1", s.Cluster)
	}
}

// synthRecord is a drill record as report.json holds it, for histories
// the tests load without running drills.
func synthRecord(scenario, cluster, id string, started time.Time, result string, rto float64, items int) map[string]any {
	status := "met"
	if rto > 3600 {
		status = "missed"
	}
	return map[string]any{
		"schema": drill.ReportSchema, "drill_id": id, "scenario": scenario, "cluster": cluster,
		"started_at": started, "finished_at": started.Add(time.Duration(rto+30) * time.Second), "disaster_at": started, "result": result,
		"rto":      map[string]any{"objective_seconds": 3600, "measured_seconds": rto, "status": status},
		"rpo":      map[string]any{"objective_seconds": 900, "measured_seconds": 120, "status": "met"},
		"restores": []map[string]any{{"name": id + "-workloads", "phase": "workloads", "items_restored": items}},
		"phases":   []any{}, "findings": []any{},
	}
}

// TestFleet_TwoClustersAndASyntheticHistory runs one real drill for each
// of two lab "clusters" (--cluster lab-a, lab-b) into one shared history
// prefix of the test's own, loads a synthetic history for a third cluster
// written as a firedrill before the index would have (records only),
// indexes it with 'fleet --reindex', and reads the fleet as JSON: both
// drilled clusters, and the synthetic history's due and forecast columns.
func TestFleet_TwoClustersAndASyntheticHistory(t *testing.T) {
	l := lab(t)
	primary := l.Stores["primary"]
	mc, bucket := historyBucket(t, l)
	ctx := testContext(t, 10*time.Minute)
	file, targets := drillScenario(t, l, "e2e-fleet")
	history := "s3://" + bucket + "/fleet"
	env := append(drillEnv(), historyEnv(l)...)

	ids := map[string]string{}
	for _, cluster := range []string{"lab-a", "lab-b"} {
		args := []string{"run", file, "--state-dir", t.TempDir(), "--history", history, "--history-path-style", "-o", "json", "--log-level", "warn"}
		runEnv := env
		if cluster == "lab-a" {
			args = append(args, "--cluster", cluster)
		} else {
			runEnv = append(append([]string{}, env...), "FIREDRILL_CLUSTER="+cluster)
		}
		res := firedrill(t, ctx, runEnv, args...)
		require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
		var rep struct {
			drillReport
			Cluster string `json:"cluster"`
		}
		require.NoError(t, json.Unmarshal([]byte(res.stdout), &rep))
		assert.Equal(t, cluster, rep.Cluster, "the record names the cluster")
		assertNamespacesGone(t, l, targets)
		_, err := mc.StatObject(ctx, bucket, "fleet/clusters/"+cluster+"/drills/"+rep.DrillID+"/report.json", minio.StatObjectOptions{})
		require.NoError(t, err, "the record is under the cluster's folder")
		ids[cluster] = rep.DrillID
	}

	// history --cluster reads one cluster's folder.
	hist := firedrill(t, ctx, env, "history", "--history", history, "--history-path-style", "--cluster", "lab-b", "-o", "json")
	require.Equal(t, 0, hist.code, hist.stderr)
	var hdoc struct {
		Drills []struct {
			DrillID string `json:"drill_id"`
		} `json:"drills"`
	}
	require.NoError(t, json.Unmarshal([]byte(hist.stdout), &hdoc))
	require.Len(t, hdoc.Drills, 1)
	assert.Equal(t, ids["lab-b"], hdoc.Drills[0].DrillID)

	// The synthetic cluster: records only, as an older firedrill wrote
	// them. region-loss passed last 100 days ago (overdue at --max-age
	// 90d), its RTO growing with what it restores; namespace-deletion
	// passed 80 days ago (due within --due-soon 14d).
	now := time.Now().UTC()
	day := 24 * time.Hour
	synth := []map[string]any{
		synthRecord("region-loss", "", "fd-synth-rl-1", now.Add(-460*day), "pass", 1200, 1000),
		synthRecord("region-loss", "", "fd-synth-rl-2", now.Add(-370*day), "pass", 1500, 1300),
		synthRecord("region-loss", "", "fd-synth-rl-3", now.Add(-280*day), "pass", 1800, 1600),
		synthRecord("region-loss", "", "fd-synth-rl-4", now.Add(-190*day), "pass", 2100, 1900),
		synthRecord("region-loss", "", "fd-synth-rl-5", now.Add(-100*day), "pass", 2400, 2200),
		synthRecord("namespace-deletion", "", "fd-synth-nd-1", now.Add(-80*day), "pass", 300, 50),
	}
	for _, r := range synth {
		b, err := json.Marshal(r)
		require.NoError(t, err)
		_, err = mc.PutObject(ctx, bucket, fmt.Sprintf("fleet/clusters/synthetic/drills/%s/report.json", r["drill_id"]),
			bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{ContentType: "application/json"})
		require.NoError(t, err)
	}

	fleet := func(args ...string) (cliResult, fleetJSON) {
		t.Helper()
		res := firedrill(t, ctx, env, append([]string{"fleet", "--history", history, "--history-path-style", "-o", "json"}, args...)...)
		var doc fleetJSON
		require.NoError(t, json.Unmarshal([]byte(res.stdout), &doc), "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
		return res, doc
	}
	res, doc := fleet()
	assert.Equal(t, 0, res.code, res.stderr)
	assert.Len(t, doc.Rows, 2, "the synthetic records are not indexed yet")

	res, doc = fleet("--reindex")
	assert.Equal(t, 3, res.code, "region-loss of the synthetic cluster is overdue: exit 3; stderr:\n%s", res.stderr)
	assert.Contains(t, res.stderr, "Reindexed s3://"+bucket+"/fleet: 8 index entries written.")
	assert.Equal(t, "firedrill.dev/fleet/v1", doc.Schema)
	rows := map[string]fleetRowJSON{}
	for _, r := range doc.Rows {
		rows[r.Cluster+"/"+r.Scenario] = r
	}
	require.Len(t, rows, 4, "%v", doc.Rows)
	for _, c := range []string{"lab-a", "lab-b"} {
		r := rows[c+"/e2e-fleet"]
		assert.Equal(t, "ok", r.State, c)
		assert.Equal(t, ids[c], r.LastDrill.ID, c)
		assert.Equal(t, "pass", r.LastDrill.Result, c)
		assert.NotNil(t, r.LastDrill.RTOSeconds, c)
		assert.Equal(t, "fresh", r.Due.State, c)
	}
	rl := rows["synthetic/region-loss"]
	assert.Equal(t, "overdue", rl.State)
	assert.Equal(t, 5, rl.Drills)
	assert.Equal(t, 300.0, *rl.RTOTrendSeconds)
	assert.Equal(t, "overdue", rl.Due.State)
	require.NotNil(t, rl.Due.DueAt)
	assert.WithinDuration(t, now.Add(-10*day), *rl.Due.DueAt, time.Second, "due 90 days after the last pass")
	nd := rows["synthetic/namespace-deletion"]
	assert.Equal(t, "due", nd.State)
	require.NotNil(t, nd.Due.DueAt)
	assert.WithinDuration(t, now.Add(10*day), *nd.Due.DueAt, time.Second)
	assertFleetForecast(t, rl, nd)

	// Filters, and the page.
	_, only := fleet("--cluster", "synthetic", "--state", "due")
	require.Len(t, only.Rows, 1)
	assert.Equal(t, "namespace-deletion", only.Rows[0].Scenario)
	page := firedrill(t, ctx, env, "fleet", "--history", history, "--history-path-style", "-o", "html")
	assert.Equal(t, 3, page.code, page.stderr)
	assert.Contains(t, page.stdout, "<td>lab-a</td>")
	assert.NotContains(t, page.stdout, "<script")
	assert.NotContains(t, page.stdout+page.stderr, primary.SecretKey)
}

type fleetJSON struct {
	Schema string         `json:"schema"`
	Rows   []fleetRowJSON `json:"rows"`
}

type fleetRowJSON struct {
	Cluster   string `json:"cluster"`
	Scenario  string `json:"scenario"`
	State     string `json:"state"`
	Drills    int    `json:"drills"`
	LastDrill struct {
		ID         string   `json:"drill_id"`
		Result     string   `json:"result"`
		RTOSeconds *float64 `json:"rto_seconds"`
	} `json:"last_drill"`
	RTOTrendSeconds *float64 `json:"rto_trend_seconds"`
	Due             struct {
		State string     `json:"state"`
		DueAt *time.Time `json:"due_at"`
	} `json:"due"`
	Forecast    json.RawMessage `json:"forecast"`
	ErrorBudget json.RawMessage `json:"error_budget"`
}

// assertFleetForecast checks the forecast and error budget columns of the
// synthetic rows. region-loss restores 300 more items every 90 days and
// takes one second more per item (RTO = items + 200 s): the RTO objective
// (3,600 s) is reached at 3,400 items, 1,200 items after the last drill,
// so 360 days after it, 260 days from now. Its error budget counts the
// three drills of the last four quarters, all met.
func assertFleetForecast(t *testing.T, growing, single fleetRowJSON) {
	t.Helper()
	var f struct {
		State              string   `json:"state"`
		Size               string   `json:"size"`
		SecondsToObjective *float64 `json:"seconds_to_objective"`
	}
	require.NoError(t, json.Unmarshal(growing.Forecast, &f), string(growing.Forecast))
	assert.Equal(t, "trend", f.State, string(growing.Forecast))
	assert.Equal(t, "restored_items", f.Size)
	require.NotNil(t, f.SecondsToObjective, string(growing.Forecast))
	assert.InDelta(t, 260*86400, *f.SecondsToObjective, 86400)
	var b struct {
		Drills int `json:"drills"`
		Met    int `json:"met"`
	}
	require.NoError(t, json.Unmarshal(growing.ErrorBudget, &b), string(growing.ErrorBudget))
	assert.Equal(t, 3, b.Drills)
	assert.Equal(t, 3, b.Met)

	require.NoError(t, json.Unmarshal(single.Forecast, &f), string(single.Forecast))
	assert.Equal(t, "none", f.State, "one drill: no forecast")
	assert.Nil(t, f.SecondsToObjective)
}
