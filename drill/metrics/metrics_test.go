package metrics

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/finding"
)

// The outlook (forecast, error budget) is computed as of an hour after t3.
func init() { clock = func() time.Time { return t3.Add(time.Hour) } }

var (
	t1 = time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC)
	t2 = time.Date(2026, 11, 20, 9, 30, 0, 500_000_000, time.UTC)
	t3 = time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
)

// history holds, in the order a history and the drill just finished are
// put together:
//
//	region-loss         passed at t1; failed at t2 (RTO missed, findings of every severity)
//	namespace-deletion  error at t3: nothing measured
//	shop                only a drill still running: no series
//
// The drill at t2 appears twice: its record while running, then the final
// report, which wins.
func history() []*drill.Report {
	passed := &drill.Report{DrillID: "fd-1", Scenario: "region-loss", StartedAt: t1, Result: drill.ResultPass,
		RTO: drill.Measure(time.Hour, 2*time.Minute), RPO: drill.Measure(6*time.Hour, 3*time.Hour),
		Findings: []finding.Finding{finding.Pass("protection.bucket.lock", "s3://b", "locked")}}
	running := &drill.Report{DrillID: "fd-2", Scenario: "region-loss", StartedAt: t2, Result: drill.ResultRunning,
		RTO: drill.NotMeasured(time.Hour, "running"), RPO: drill.NotMeasured(6*time.Hour, "running")}
	failed := &drill.Report{DrillID: "fd-2", Scenario: "region-loss", StartedAt: t2, Result: drill.ResultFail,
		RTO: drill.Measure(time.Hour, 5000*time.Second), RPO: drill.Measure(6*time.Hour, 90*time.Minute),
		Findings: []finding.Finding{
			finding.Pass("protection.bucket.lock", "s3://b", "locked"),
			finding.Warn("history.upload", "s3://h", "upload failed"),
			finding.Fail("verify.check.web", finding.SeverityFail, "web", "503"),
			finding.Fail("protection.canary", finding.SeverityCritical, "s3://b", "a locked object was deleted"),
		}}
	// Its window reaches back 5 days of a 7-day retention, with a
	// 30-hour gap and two things kept past the 30-day maxRetention.
	oldest := backup.WindowBackup{Name: "nightly-1", Phase: "Completed", Started: t2.Add(-5 * 24 * time.Hour), Usable: true}
	failed.Window = &backup.Window{Schedule: "nightly", CheckedAt: t2, RetentionSeconds: 7 * 86400, MaxRetentionSeconds: 30 * 86400,
		Oldest: &oldest, WorstGap: &backup.Gap{Seconds: 30 * 3600, OverRPO: true},
		PastMaxRetention: []backup.Retained{{Kind: "backup", Subject: "nightly-0", Bytes: 1 << 20}, {Kind: "ttl", Subject: "nightly"}}}
	errored := &drill.Report{DrillID: "fd-3", Scenario: "namespace-deletion", StartedAt: t3, Result: drill.ResultError,
		RTO: drill.NotMeasured(4*time.Hour, "no recovery step ran"), RPO: drill.NotMeasured(24*time.Hour, "no recovery point was chosen")}
	stillRunning := &drill.Report{DrillID: "fd-4", Scenario: "shop", StartedAt: t3, Result: drill.ResultRunning}
	return []*drill.Report{running, errored, passed, stillRunning, failed}
}

// series is one parsed family: label values joined by "," (in label-name
// order) -> value.
type series map[string]float64

func parseText(t *testing.T, r io.Reader) map[string]series {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(r)
	require.NoError(t, err)
	return flatten(families)
}

func flatten(families map[string]*dto.MetricFamily) map[string]series {
	out := map[string]series{}
	for name, mf := range families {
		s := series{}
		for _, m := range mf.GetMetric() {
			var vals []string
			for _, l := range m.GetLabel() {
				vals = append(vals, l.GetName()+"="+l.GetValue())
			}
			s[strings.Join(vals, ",")] = m.GetGauge().GetValue()
		}
		out[name] = s
	}
	return out
}

func TestScenarios_LastAndLastPassPerScenario(t *testing.T) {
	got := Scenarios(history())
	require.Len(t, got, 2, "a scenario with only a running drill has nothing to say")
	assert.Equal(t, "namespace-deletion", got[0].Name)
	assert.Equal(t, "fd-3", got[0].Last.DrillID)
	assert.Nil(t, got[0].LastPass)
	assert.Equal(t, "region-loss", got[1].Name)
	assert.Equal(t, drill.ResultFail, got[1].Last.Result, "the final report of fd-2 replaces its running record")
	assert.Equal(t, "fd-1", got[1].LastPass.DrillID)
}

func TestWriteFile_ParsesWithTheExpectedSeries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "firedrill.prom")
	require.NoError(t, os.WriteFile(path, []byte("stale\n"), 0o600))
	require.NoError(t, WriteFile(path, history()))

	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	got := parseText(t, f)

	rl, nd := "scenario=region-loss", "scenario=namespace-deletion"
	want := map[string]series{
		LastRunTimestamp:     {rl: float64(t2.UnixNano()) / 1e9, nd: float64(t3.Unix())},
		LastSuccessTimestamp: {rl: float64(t1.Unix())},
		Result: {
			"result=pass," + rl: 0, "result=fail," + rl: 1, "result=error," + rl: 0, "result=interrupted," + rl: 0, "result=died," + rl: 0,
			"result=pass," + nd: 0, "result=fail," + nd: 0, "result=error," + nd: 1, "result=interrupted," + nd: 0, "result=died," + nd: 0,
		},
		RTO:          {rl: 5000},
		RTOObjective: {rl: 3600, nd: 4 * 3600},
		RPO:          {rl: 5400},
		RPOObjective: {rl: 6 * 3600, nd: 24 * 3600},
		Findings: {
			rl + ",severity=warn": 1, rl + ",severity=fail": 1, rl + ",severity=critical": 1,
			nd + ",severity=warn": 0, nd + ",severity=fail": 0, nd + ",severity=critical": 0,
		},
		// namespace-deletion's drill read no window: no series.
		WindowLength:             {rl: 5 * 86400},
		WindowRetentionObjective: {rl: 7 * 86400},
		WindowWorstGap:           {rl: 30 * 3600},
		WindowPastMaxRetention:   {rl: 2},
		WindowPastMaxRetentionB:  {rl: 1 << 20},
		// region-loss: 1 of 2 drills met both objectives against the
		// default target 0.75: 1 - 0.5/0.25 = -1; namespace-deletion's
		// only drill errored: 1 - 1/0.25 = -3.
		ErrorBudgetMet:       {rl: 0.5, nd: 0},
		ErrorBudgetRemaining: {rl: -1, nd: -3},
	}
	assert.Equal(t, want, got)

	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), info.Mode().Perm(), "node-exporter must be able to read it")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left beside it")
}

func TestWriteFile_ErrorNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-dir", "firedrill.prom")
	err := WriteFile(path, history())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "write metrics to "+path)
}

// pushgateway records what a Pushgateway would receive.
type pushgateway struct {
	method, path, user, pass string
	body                     map[string]series
}

func newPushgateway(t *testing.T, status int) (*httptest.Server, *pushgateway) {
	got := &pushgateway{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.method, got.path = r.Method, r.URL.Path
		got.user, got.pass, _ = r.BasicAuth()
		dec := expfmt.NewDecoder(r.Body, expfmt.ResponseFormat(r.Header))
		families := map[string]*dto.MetricFamily{}
		for {
			var mf dto.MetricFamily
			if err := dec.Decode(&mf); err != nil {
				break
			}
			families[mf.GetName()] = &mf
		}
		got.body = flatten(families)
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestPush_ReplacesTheScenarioGroup(t *testing.T) {
	srv, got := newPushgateway(t, http.StatusOK)
	gw := Pushgateway{URL: strings.Replace(srv.URL, "http://", "http://drill:s3cret@", 1) + "/"}
	require.NoError(t, gw.Push(context.Background(), "region-loss", history()))

	assert.Equal(t, http.MethodPut, got.method, "PUT replaces the whole group, so stale series go")
	assert.Equal(t, "/metrics/job/firedrill/scenario/region-loss", got.path)
	assert.Equal(t, "drill", got.user)
	assert.Equal(t, "s3cret", got.pass)
	// The Pushgateway adds scenario from the grouping key; the series
	// carry only their own labels.
	assert.Equal(t, series{"": float64(t1.Unix())}, got.body[LastSuccessTimestamp])
	assert.Equal(t, series{"": 5000}, got.body[RTO])
	assert.Equal(t, series{"result=pass": 0, "result=fail": 1, "result=error": 0, "result=interrupted": 0, "result=died": 0}, got.body[Result])
	assert.Len(t, got.body, 15)
	assert.Equal(t, series{"": 30 * 3600}, got.body[WindowWorstGap])
}

func TestPush_ErrorsNameTheGatewayNotItsPassword(t *testing.T) {
	srv, _ := newPushgateway(t, http.StatusInternalServerError)
	gw := Pushgateway{URL: strings.Replace(srv.URL, "http://", "http://drill:s3cret@", 1)}
	err := gw.Push(context.Background(), "region-loss", history())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "push metrics of region-loss to the Pushgateway at "+srv.URL)
	assert.Contains(t, err.Error(), "500")
	assert.NotContains(t, err.Error(), "s3cret")

	err = gw.Push(context.Background(), "shop", history())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no finished drill of shop")
}

func TestPush_Cancelled(t *testing.T) {
	srv, got := newPushgateway(t, http.StatusOK)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Pushgateway{URL: srv.URL}.Push(ctx, "region-loss", history())
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, got.method, "nothing was sent")
}

func TestCheckPushgatewayURL(t *testing.T) {
	tests := []struct {
		url, wantErr string
	}{
		{"http://pushgateway:9091", ""},
		{"https://user:pass@pushgateway.example.com", ""},
		{"pushgateway:9091", "want http(s)://HOST:PORT"},
		{"ftp://pushgateway", "want http(s)://HOST:PORT"},
		{"http://pushgateway:9091/?token=s3cret", "no query or fragment"},
		{"http://user:s3cret@pushgateway:9091/?token=x", "no query or fragment"},
		{"http://user:s3cret@[::1", "want http(s)://HOST:PORT"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := CheckPushgatewayURL(tt.url)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error(), "s3cret")
		})
	}
}

// A scheduled drill stopped by its Job's deadline ends "interrupted", which
// FiredrillDrillFailed ignores; its RTO, missed, is still exported, above
// its objective, so FiredrillRTOObjectiveMissed fires (issue 14, item 9).
func TestWriteFile_DrillStoppedAfterItsRTOExportsTheMiss(t *testing.T) {
	stopped := &drill.Report{DrillID: "fd-9", Scenario: "region-loss", StartedAt: t1, Result: drill.ResultInterrupted,
		RTO: drill.MeasureRTO(4*time.Hour, t1, []drill.Phase{
			{Name: drill.StepRestore, CountsTowardRTO: true, Status: drill.PhaseError, End: t1.Add(5 * time.Hour)},
			{Name: drill.StepVerify, CountsTowardRTO: true, Status: drill.PhaseSkipped, End: t1.Add(5*time.Hour + time.Second)},
		}),
		RPO: drill.Measure(24*time.Hour, time.Hour)}
	path := filepath.Join(t.TempDir(), "firedrill.prom")
	require.NoError(t, WriteFile(path, []*drill.Report{stopped}))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	got := parseText(t, f)
	rl := "scenario=region-loss"
	assert.Equal(t, series{rl: 5*3600 + 1}, got[RTO])
	assert.Equal(t, series{rl: 4 * 3600}, got[RTOObjective])
	assert.Greater(t, got[RTO][rl], got[RTOObjective][rl], "FiredrillRTOObjectiveMissed: rto_seconds > rto_objective_seconds")
	assert.Equal(t, 1.0, got[Result]["result=interrupted,"+rl])
}

// A drill whose process died (issue 18) is the scenario's last drill, with
// result died: a failed drill for FiredrillDrillFailed, never a silent
// "running" that the metrics skip.
func TestWriteFile_DiedDrillIsTheLastDrill(t *testing.T) {
	passed := &drill.Report{DrillID: "fd-1", Scenario: "region-loss", StartedAt: t1, Result: drill.ResultPass}
	dead := &drill.Report{DrillID: "fd-2", Scenario: "region-loss", StartedAt: t2, Result: drill.ResultRunning,
		Heartbeat: &drill.Heartbeat{At: t2.Add(time.Minute), IntervalSeconds: 30, Step: drill.StepRestore}}
	require.True(t, drill.Settle(dead, t2.Add(time.Hour)), "as drill.ListReports settles it")
	path := filepath.Join(t.TempDir(), "firedrill.prom")
	require.NoError(t, WriteFile(path, []*drill.Report{passed, dead}))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	got := parseText(t, f)
	rl := "scenario=region-loss"
	assert.Equal(t, 1.0, got[Result]["result=died,"+rl])
	assert.Equal(t, 0.0, got[Result]["result=pass,"+rl])
	assert.Equal(t, series{rl: float64(t2.UnixNano()) / 1e9}, got[LastRunTimestamp])
	assert.Equal(t, series{rl: float64(t1.UnixNano()) / 1e9}, got[LastSuccessTimestamp])
}

func TestWriteFile_ForecastOfAGrowingScenario(t *testing.T) {
	path := filepath.Join(t.TempDir(), "firedrill.prom")
	require.NoError(t, WriteFile(path, append(history(), growing()...)))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	got := parseText(t, f)
	require.Len(t, got[ForecastDaysToObjective], 1, "only a scenario with a forecast has the series")
	assert.InDelta(t, 150-1.0/24, got[ForecastDaysToObjective]["scenario=payments"], 1e-3, "150 days after t3, asked an hour after it")
	assert.Equal(t, 1.0, got[ErrorBudgetRemaining]["scenario=payments"])
	assert.Equal(t, 1.0, got[ErrorBudgetMet]["scenario=payments"])
}

// TestScenarios_WindowOfTheNewestDrillThatReadOne: a drill that ended
// before it read the window (an error at preflight) does not drop the
// window's series, so its alerts neither resolve nor flap.
func TestScenarios_WindowOfTheNewestDrillThatReadOne(t *testing.T) {
	later := &drill.Report{DrillID: "fd-9", Scenario: "region-loss", StartedAt: t3, Result: drill.ResultError}
	got := Scenarios(append(history(), later))
	require.Len(t, got, 2)
	assert.Equal(t, "fd-9", got[1].Last.DrillID)
	require.NotNil(t, got[1].Window)
	assert.Equal(t, t2, got[1].Window.CheckedAt, "the window of fd-2")

	// A window with no usable backup reaches back nothing.
	empty := &drill.Report{DrillID: "fd-10", Scenario: "shop", StartedAt: t3, Result: drill.ResultFail,
		Window: &backup.Window{Schedule: "nightly", CheckedAt: t3, RetentionSeconds: 86400}}
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(NewCollector([]*drill.Report{empty})))
	families, err := reg.Gather()
	require.NoError(t, err)
	flat := flatten(toMap(families))
	assert.Equal(t, series{"scenario=shop": 0}, flat[WindowLength])
	assert.Equal(t, series{"scenario=shop": 86400}, flat[WindowRetentionObjective])
	assert.NotContains(t, flat, WindowWorstGap)
	assert.NotContains(t, flat, WindowPastMaxRetention, "no maxRetention declared")
}

func toMap(families []*dto.MetricFamily) map[string]*dto.MetricFamily {
	out := map[string]*dto.MetricFamily{}
	for _, mf := range families {
		out[mf.GetName()] = mf
	}
	return out
}
