package cli

import (
	"context"
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

	"github.com/firedrill-dev/firedrill/drill"
)

// These tests run real drills of the project scenario shop-namespace,
// whose scratch cluster does not exist: each ends in error at preflight,
// in milliseconds, without a lab, and exits 1. What runs after the drill
// must leave that exit code alone.

const hookToken = "T0001/B0001/s3cretT0ken"

// recorder is a webhook or Pushgateway that answers status and keeps what
// it received.
type recorder struct {
	mu     sync.Mutex
	status int
	reqs   []recorded
}

type recorded struct {
	method, path string
	header       http.Header
	body         []byte
}

func newRecorder(t *testing.T, status int) (*recorder, *httptest.Server) {
	rec := &recorder{status: status}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, recorded{r.Method, r.URL.Path, r.Header.Clone(), b})
		rec.mu.Unlock()
		w.WriteHeader(rec.status)
	}))
	t.Cleanup(srv.Close)
	return rec, srv
}

func (r *recorder) requests() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

// stateWithAPass is a state directory holding one earlier passing drill of
// region-loss, so metrics have history beside the drill just run.
func stateWithAPass(t *testing.T) (string, time.Time) {
	state := t.TempDir()
	at := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	dir, err := drill.CreateDir(state, "fd-earlier")
	require.NoError(t, err)
	require.NoError(t, dir.WriteReport(&drill.Report{DrillID: "fd-earlier", Scenario: "region-loss", StartedAt: at, Result: drill.ResultPass,
		RTO: drill.Measure(time.Hour, 20*time.Minute), RPO: drill.Measure(6*time.Hour, time.Hour)}))
	return state, at
}

func TestRun_MetricsFileAndNotificationAfterTheDrill(t *testing.T) {
	state, earlier := stateWithAPass(t)
	hook, srv := newRecorder(t, http.StatusOK)
	promFile := filepath.Join(t.TempDir(), "firedrill.prom")

	res := run(t, context.Background(), map[string]string{"FIREDRILL_METRICS_FILE": promFile}, "run", "shop-namespace", "--state-dir", state,
		"--notify-webhook", srv.URL+"/services/"+hookToken, "--notify-format", "slack")
	require.Equal(t, ExitError, res.code, "the drill's own exit code: %s", res)
	assert.NotContains(t, res.stderr, "Warning:")
	assert.NotContains(t, res.String(), "s3cret")

	f, err := os.Open(promFile)
	require.NoError(t, err)
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(f)
	require.NoError(t, err)
	values := map[string]float64{}
	for name, mf := range families {
		for _, m := range mf.GetMetric() {
			key := name
			for _, l := range m.GetLabel() {
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			values[key] = m.GetGauge().GetValue()
		}
	}
	assert.Equal(t, 1.0, values["firedrill_drill_result,result=error,scenario=shop-namespace"], "the drill just run")
	assert.Equal(t, 0.0, values["firedrill_drill_result,result=pass,scenario=shop-namespace"])
	assert.Equal(t, 3600.0, values["firedrill_drill_rto_objective_seconds,scenario=shop-namespace"])
	assert.NotContains(t, values, "firedrill_drill_last_success_timestamp_seconds,scenario=shop-namespace")
	assert.Equal(t, float64(earlier.Unix()), values["firedrill_drill_last_success_timestamp_seconds,scenario=region-loss"], "the history")

	reqs := hook.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, http.MethodPost, reqs[0].method)
	assert.Equal(t, "/services/"+hookToken, reqs[0].path)
	var msg map[string]string
	require.NoError(t, json.Unmarshal(reqs[0].body, &msg))
	assert.Contains(t, msg["text"], "of shop-namespace ERROR")
	assert.Contains(t, msg["text"], "Report: "+filepath.Join(state, "drills"))
}

func TestRun_JSONNotificationAndPushgatewayFromTheEnvironment(t *testing.T) {
	state, _ := stateWithAPass(t)
	hook, hookSrv := newRecorder(t, http.StatusAccepted)
	gw, gwSrv := newRecorder(t, http.StatusOK)

	res := run(t, context.Background(), map[string]string{
		"FIREDRILL_NOTIFY_WEBHOOK": hookSrv.URL + "/hook?token=s3cret",
		"FIREDRILL_PUSHGATEWAY":    gwSrv.URL,
	}, "run", "shop-namespace", "--state-dir", state)
	require.Equal(t, ExitError, res.code, res.String())
	assert.NotContains(t, res.stderr, "Warning:")

	reqs := hook.requests()
	require.Len(t, reqs, 1)
	var sum struct {
		DrillID  string       `json:"drill_id"`
		Scenario string       `json:"scenario"`
		Result   drill.Result `json:"result"`
		Report   string       `json:"report"`
	}
	require.NoError(t, json.Unmarshal(reqs[0].body, &sum))
	assert.Equal(t, "shop-namespace", sum.Scenario)
	assert.Equal(t, drill.ResultError, sum.Result)
	assert.Equal(t, filepath.Join(state, "drills", sum.DrillID, "report.html"), sum.Report)

	pushes := gw.requests()
	require.Len(t, pushes, 1)
	assert.Equal(t, http.MethodPut, pushes[0].method)
	assert.Equal(t, "/metrics/job/firedrill/scenario/shop-namespace", pushes[0].path, "only the scenario just drilled")
	assert.Contains(t, string(pushes[0].body), `firedrill_drill_result{result="error"} 1`)
}

func TestRun_FailedNotificationAndMetricsAreWarnings(t *testing.T) {
	state, _ := stateWithAPass(t)
	_, hookSrv := newRecorder(t, http.StatusForbidden)
	_, gwSrv := newRecorder(t, http.StatusInternalServerError)
	metricsDir := t.TempDir()
	// A directory where the file should be: the rename fails.
	promFile := filepath.Join(metricsDir, "firedrill.prom")
	require.NoError(t, os.Mkdir(promFile, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(promFile, "keep"), nil, 0o644))

	res := run(t, context.Background(), nil, "run", "shop-namespace", "--state-dir", state,
		"--metrics-file", promFile, "--pushgateway", gwSrv.URL,
		"--notify-webhook", hookSrv.URL+"/services/"+hookToken)
	require.Equal(t, ExitError, res.code, "the drill's exit code, not the hooks': %s", res)
	assert.Contains(t, res.stderr, "Warning: write metrics to "+promFile)
	assert.Contains(t, res.stderr, "Warning: push metrics of shop-namespace to the Pushgateway at "+gwSrv.URL)
	assert.Contains(t, res.stderr, "Warning: notify "+hookSrv.URL+": answered 403 Forbidden (not retried)")
	assert.NotContains(t, res.String(), "s3cret")
	assert.NotContains(t, res.String(), "/services/")
	// The drill's error is still the last word.
	assert.True(t, strings.HasSuffix(res.stderr, "connect: connection refused\n"), res.stderr)
}

func TestRun_HookFlagsAreCheckedBeforeTheDrill(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"notify format", []string{"--notify-webhook", "https://hooks.example.com/x", "--notify-format", "teams"}, `--notify-format: notification format "teams": want json or slack`},
		{"webhook without scheme", []string{"--notify-webhook", "hooks.slack.com/services/" + hookToken}, "--notify-webhook: notify webhook: want an http:// or https:// URL with a host"},
		{"notify timeout", []string{"--notify-webhook", "https://hooks.example.com/x", "--notify-timeout", "0s"}, "--notify-timeout must be greater than zero"},
		{"pushgateway with a query", []string{"--pushgateway", "http://gw:9091/?token=s3cret"}, "--pushgateway: pushgateway URL http://gw:9091: no query or fragment"},
		{"metrics file in no directory", []string{"--metrics-file", "/no/such/dir/firedrill.prom"}, "--metrics-file /no/such/dir/firedrill.prom: no directory /no/such/dir to write it in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := t.TempDir()
			res := run(t, context.Background(), nil, append([]string{"run", "shop-namespace", "--state-dir", state}, tt.args...)...)
			require.Equal(t, ExitUsage, res.code, res.String())
			assert.Contains(t, res.stderr, "Error: "+tt.want)
			assert.Contains(t, res.stderr, "Hint: run 'firedrill run --help'")
			assert.NotContains(t, res.String(), "s3cret")
			_, err := os.Stat(filepath.Join(state, "drills"))
			assert.ErrorIs(t, err, os.ErrNotExist, "no drill ran")
		})
	}
}
