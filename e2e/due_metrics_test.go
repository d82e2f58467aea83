//go:build e2e

package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// received is what a local HTTP server (a webhook, a Pushgateway) got.
type received struct {
	mu   sync.Mutex
	reqs []receivedRequest
}

type receivedRequest struct {
	method, path string
	body         []byte
}

func (r *received) server(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, receivedRequest{req.Method, req.URL.Path, b})
		r.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (r *received) all() []receivedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receivedRequest(nil), r.reqs...)
}

// TestDueMetricsNotify_RealDrillAsACronJobRunsIt runs a real drill of the
// lab the way a scheduled job does (shared history in a bucket, metrics to
// a file and a Pushgateway, a webhook), then asks `due` about it from an
// empty state directory: only the bucket can say it is fresh.
func TestDueMetricsNotify_RealDrillAsACronJobRunsIt(t *testing.T) {
	l := lab(t)
	primary := l.Stores["primary"]
	_, bucket := historyBucket(t, l)
	ctx := testContext(t, 5*time.Minute)
	file, targets := drillScenario(t, l, "e2e-scheduled")
	history := "s3://" + bucket + "/team"
	env := append(append(drillEnv(), historyEnv(l)...), "FIREDRILL_HISTORY="+history)
	var hook, gateway received
	hookURL := hook.server(t).URL + "/services/T0001/B0001/s3cretT0ken"
	gatewayURL := gateway.server(t).URL
	promFile := filepath.Join(t.TempDir(), "firedrill.prom")

	res := firedrill(t, ctx, append(env, "FIREDRILL_NOTIFY_WEBHOOK="+hookURL), "run", file, "--state-dir", t.TempDir(), "--history-path-style",
		"--metrics-file", promFile, "--pushgateway", gatewayURL, "-o", "json", "--log-level", "warn")
	require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	var rep drillReport
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &rep))
	require.Equal(t, "pass", rep.Result)
	require.NotNil(t, rep.RTO.Measured)
	// The lab's scenario declares retention: 30s, shorter than the time
	// between its daily runs, on purpose (README, "The lab"); validate and
	// run warn of that, and of nothing else.
	for _, line := range strings.Split(res.stderr, "\n") {
		if strings.Contains(line, "Warning:") && !strings.Contains(line, "spec.objectives.retention: 30s is shorter than the time between backups") {
			t.Errorf("unexpected warning: %s", line)
		}
	}
	assert.NotContains(t, res.stdout+res.stderr, "s3cretT0ken")
	assert.NotContains(t, res.stdout+res.stderr, primary.SecretKey)
	assertNamespacesGone(t, l, targets)

	// The textfile: the drill's series, parsed as Prometheus parses them.
	f, err := os.Open(promFile)
	require.NoError(t, err)
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(f)
	require.NoError(t, err)
	gauge := func(name string, labels ...string) float64 {
		t.Helper()
		mf, ok := families[name]
		require.True(t, ok, "metric %s", name)
	metrics:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue metrics
				}
			}
			return m.GetGauge().GetValue()
		}
		require.Failf(t, "no series", "%s%v", name, labels)
		return 0
	}
	assert.Equal(t, 1.0, gauge("firedrill_drill_result", "scenario", "e2e-scheduled", "result", "pass"))
	assert.Equal(t, 0.0, gauge("firedrill_drill_result", "scenario", "e2e-scheduled", "result", "fail"))
	assert.Equal(t, float64(rep.StartedAt.UnixNano())/1e9, gauge("firedrill_drill_last_success_timestamp_seconds", "scenario", "e2e-scheduled"))
	require.NotNil(t, rep.RTO.Total, "the lab runbook's manual step is declared")
	assert.InDelta(t, *rep.RTO.Total, gauge("firedrill_drill_rto_seconds", "scenario", "e2e-scheduled"), 1e-6, "the RTO judged: measured + declared manual")
	assert.Equal(t, rep.RTO.Objective, gauge("firedrill_drill_rto_objective_seconds", "scenario", "e2e-scheduled"))
	assert.Equal(t, 0.0, gauge("firedrill_drill_findings", "scenario", "e2e-scheduled", "severity", "fail"))

	pushes := gateway.all()
	require.Len(t, pushes, 1)
	assert.Equal(t, http.MethodPut, pushes[0].method)
	assert.Equal(t, "/metrics/job/firedrill/scenario/e2e-scheduled", pushes[0].path)

	notes := hook.all()
	require.Len(t, notes, 1)
	var sum struct {
		DrillID      string `json:"drill_id"`
		Result       string `json:"result"`
		SharedReport string `json:"shared_report"`
	}
	require.NoError(t, json.Unmarshal(notes[0].body, &sum))
	assert.Equal(t, rep.DrillID, sum.DrillID)
	assert.Equal(t, "pass", sum.Result)
	assert.Equal(t, "s3://"+bucket+"/team/drills/"+rep.DrillID+"/report.html", sum.SharedReport)

	// due reads the bucket: fresh within 90 days, exit 0.
	due := firedrill(t, ctx, env, "due", "e2e-scheduled", "--state-dir", t.TempDir(), "--history-path-style", "-o", "json")
	require.Equal(t, 0, due.code, "stdout:\n%s\nstderr:\n%s", due.stdout, due.stderr)
	var doc struct {
		Scenarios []struct {
			Scenario string `json:"scenario"`
			State    string `json:"state"`
			LastPass *struct {
				DrillID string `json:"drill_id"`
			} `json:"last_pass"`
		} `json:"scenarios"`
	}
	require.NoError(t, json.Unmarshal([]byte(due.stdout), &doc))
	rows := doc.Scenarios
	require.Len(t, rows, 1)
	assert.Equal(t, "fresh", rows[0].State)
	require.NotNil(t, rows[0].LastPass)
	assert.Equal(t, rep.DrillID, rows[0].LastPass.DrillID)

	// The same history with a maximum age the drill is already older than.
	overdue := firedrill(t, ctx, env, "due", "e2e-scheduled", "--history-path-style", "--max-age", "1ns")
	assert.Equal(t, 3, overdue.code, "stdout:\n%s\nstderr:\n%s", overdue.stdout, overdue.stderr)
	assert.Contains(t, overdue.stdout, "overdue")
}
