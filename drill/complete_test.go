package drill_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/drill/metrics"
	"github.com/firedrill-dev/firedrill/drill/notify"
	"github.com/firedrill-dev/firedrill/internal/evidence"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/internal/objectstore/memstore"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// These tests are the proof that drill.Run is the whole drill: a Go
// program, without any flag parsing, runs a drill and gets its evidence
// signed and pushed, its record in the shared history, its metrics and
// its notification, with one call.

var start = time.Date(2026, 11, 22, 17, 45, 12, 0, time.UTC)

// scratchCluster is a Recovery whose restore always works: one Velero
// Restore Completed, one check passed.
type scratchCluster struct{ cleanups int }

var _ drill.Recovery = (*scratchCluster)(nil)

func (s *scratchCluster) Preflight(context.Context, time.Time) error { return nil }
func (s *scratchCluster) RecoveryPoint(context.Context) (*drill.BackupRef, *drill.RecoveryPointChoice, error) {
	return &drill.BackupRef{Name: "shop-daily-1", StorageLocation: "default", Started: start.Add(-2 * time.Hour), Completed: start.Add(-2*time.Hour + time.Minute)}, nil, nil
}
func (s *scratchCluster) Restore(context.Context, *drill.BackupRef, io.Writer) (drill.RestoreOutcome, error) {
	ok := true
	return drill.RestoreOutcome{OrderVerified: &ok, Restores: []drill.RestoreRef{{Name: "r1", Phase: "network-policies", VeleroPhase: "Completed"}}}, nil
}
func (s *scratchCluster) Verify(context.Context) (drill.VerifyOutcome, error) {
	return drill.VerifyOutcome{Checks: []drill.CheckRef{{Name: "shop", Kind: "workloads", Passed: true}}}, nil
}
func (s *scratchCluster) RunbookEnv() []string { return nil }
func (s *scratchCluster) Evidence(context.Context) (drill.Collected, error) {
	return drill.Collected{Files: map[string]any{"velero/backup.json": map[string]any{"kind": "Backup"}}}, nil
}
func (s *scratchCluster) Cleanup(context.Context, bool) error { s.cleanups++; return nil }

func shopScenario(t *testing.T) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Parse(scenarios.Env{}, "shop.yaml", []byte(`apiVersion: firedrill.dev/v1alpha1
kind: Scenario
metadata: {name: shop}
spec:
  disaster: {summary: region lost, lost: [sourceCluster], detection: test, lead: tester}
  objectives: {rto: 4h, rpo: 24h}
  backups: {schedule: daily, includedNamespaces: [shop]}
  storage:
    primary: {endpoint: "http://127.0.0.1:1", bucket: velero-backups, objectLock: {mode: COMPLIANCE}}
  target: {kubeconfig: /dev/null}
`))
	require.NoError(t, err)
	return sc
}

// receiver is a webhook or a Pushgateway that answers status and keeps
// what it received.
type receiver struct {
	mu     sync.Mutex
	status int
	got    []*http.Request
	bodies [][]byte
}

func newReceiver(t *testing.T, status int) (*receiver, string) {
	rc := &receiver{status: status}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got, rc.bodies = append(rc.got, r), append(rc.bodies, b)
		rc.mu.Unlock()
		w.WriteHeader(rc.status)
	}))
	t.Cleanup(srv.Close)
	return rc, srv.URL
}

func (rc *receiver) requests() ([]*http.Request, [][]byte) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.got, rc.bodies
}

// world is everything a drill writes to outside its state directory.
type world struct {
	s3             *memstore.Store // the team's history and the evidence bucket
	history        *drill.S3Records
	evidence       *drill.EvidenceTarget
	pub            []byte
	key            *drill.EvidenceOptions
	webhook, gw    *receiver
	hookURL, gwURL string
	metricsFile    string
}

func newWorld(t *testing.T, hookStatus, gwStatus int) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{s3: memstore.New()}
	w.s3.Now = func() time.Time { return start }
	require.NoError(t, w.s3.CreateBucket(ctx, "team-drills", false))
	require.NoError(t, w.s3.CreateBucket(ctx, "dr-evidence", true))
	w.history = &drill.S3Records{Store: w.s3, Bucket: "team-drills", Prefix: "team"}
	w.evidence = &drill.EvidenceTarget{Store: w.s3, Bucket: "dr-evidence", Prefix: "shop",
		Push: evidence.PushOptions{Mode: objectstore.Compliance, Retention: 365 * 24 * time.Hour}}
	privPEM, pub, err := evidence.GenerateKey()
	require.NoError(t, err)
	priv, err := evidence.ParsePrivateKey(privPEM)
	require.NoError(t, err)
	w.pub = pub
	w.key = &drill.EvidenceOptions{Key: priv, Target: w.evidence}
	w.webhook, w.hookURL = newReceiver(t, hookStatus)
	w.gw, w.gwURL = newReceiver(t, gwStatus)
	w.metricsFile = filepath.Join(t.TempDir(), "firedrill.prom")

	// An earlier drill of the scenario passed: the metrics come from the
	// shared history, not from this drill alone.
	earlier, err := json.Marshal(&drill.Report{Schema: drill.ReportSchema, DrillID: "fd-earlier", Scenario: "shop", StartedAt: start.Add(-24 * time.Hour),
		FinishedAt: start.Add(-23 * time.Hour), Result: drill.ResultPass, RTO: drill.Measure(4*time.Hour, time.Hour), RPO: drill.Measure(24*time.Hour, 2*time.Hour)})
	require.NoError(t, err)
	require.NoError(t, w.history.WriteFile(ctx, "fd-earlier", drill.ReportFile, earlier))
	return w
}

func (w *world) options(state string) drill.Options {
	tick := start
	return drill.Options{
		StateDir: state, DrillID: "fd-complete", Version: "test",
		Now:       func() time.Time { tick = tick.Add(time.Second); return tick },
		Recovery:  &scratchCluster{},
		History:   w.history,
		Evidence:  w.key,
		Metrics:   []drill.MetricsExporter{metrics.File{Path: w.metricsFile}, metrics.Pushgateway{URL: w.gwURL}},
		Notifiers: []drill.Notifier{notify.Webhook{URL: w.hookURL + "/hook/T0K3N", Backoff: time.Millisecond}},
	}
}

func TestRun_CompleteDrillWithEvidenceMetricsAndNotification(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, http.StatusOK, http.StatusOK)
	state := t.TempDir()

	out, err := drill.Run(ctx, shopScenario(t), w.options(state))
	require.NoError(t, err)
	require.NotNil(t, out)
	assert.Empty(t, out.Warnings)
	assert.Equal(t, drill.ResultPass, out.Report.Result, "%+v", out.Report.Phases)

	// The evidence bundle: signed, pushed locked, and intact.
	k := out.Evidence
	require.NotNil(t, k)
	require.NotNil(t, k.Pushed, "pushed, its lock read back")
	assert.Equal(t, "shop/shop/fd-complete.evidence.tar.gz", k.Pushed.Key)
	assert.Equal(t, objectstore.Compliance, k.Pushed.Mode)
	var bundle bytes.Buffer
	_, err = w.s3.ReadObject(ctx, "dr-evidence", k.Pushed.Key, "", &bundle)
	require.NoError(t, err)
	pub, err := evidence.ParsePublicKey(w.pub)
	require.NoError(t, err)
	v, err := evidence.Verify(&bundle, pub)
	require.NoError(t, err)
	assert.True(t, v.Intact(), "problems: %+v", v.Problems)
	assert.Equal(t, "fd-complete", v.Manifest.DrillID)

	// The shared history: the record and the record of the export.
	rep, err := drill.ReadReport(ctx, w.history, "fd-complete")
	require.NoError(t, err)
	assert.Equal(t, drill.ResultPass, rep.Result)
	recs, err := drill.ReadEvidenceRecords(ctx, w.history, "fd-complete")
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, k.SHA256, recs[0].SHA256)

	// The metrics file: this drill and the history's.
	prom, err := os.ReadFile(w.metricsFile)
	require.NoError(t, err)
	assert.Contains(t, string(prom), `firedrill_drill_result{result="pass",scenario="shop"} 1`)
	assert.Contains(t, string(prom), "firedrill_drill_last_success_timestamp_seconds{scenario=\"shop\"} "+
		strconv.FormatFloat(float64(out.Report.StartedAt.Unix()), 'g', -1, 64), "this drill passed, after the history's")

	// The Pushgateway: the scenario's group.
	pushes, bodies := w.gw.requests()
	require.Len(t, pushes, 1)
	assert.Equal(t, http.MethodPut, pushes[0].Method)
	assert.Equal(t, "/metrics/job/firedrill/scenario/shop", pushes[0].URL.Path)
	assert.Contains(t, string(bodies[0]), `firedrill_drill_result{result="pass"} 1`)

	// The notification: the summary of this drill, with both reports.
	hooks, bodies := w.webhook.requests()
	require.Len(t, hooks, 1)
	assert.Equal(t, "/hook/T0K3N", hooks[0].URL.Path)
	var sum notify.Summary
	require.NoError(t, json.Unmarshal(bodies[0], &sum))
	assert.Equal(t, notify.Schema, sum.Schema)
	assert.Equal(t, "fd-complete", sum.DrillID)
	assert.Equal(t, "shop", sum.Scenario)
	assert.Equal(t, drill.ResultPass, sum.Result)
	assert.Empty(t, sum.FailedFindings)
	assert.Equal(t, filepath.Join(state, "drills", "fd-complete", "report.html"), sum.Report)
	assert.Equal(t, "s3://team-drills/team/drills/fd-complete/report.html", sum.SharedReport)
}

// TestRun_FailedMetricsAndNotificationAreWarnings: what fails after the
// record is final is a warning each, and neither the drill's result nor
// Run's error changes.
func TestRun_FailedMetricsAndNotificationAreWarnings(t *testing.T) {
	w := newWorld(t, http.StatusForbidden, http.StatusInternalServerError)
	opts := w.options(t.TempDir())
	opts.Metrics[0] = metrics.File{Path: filepath.Join(t.TempDir(), "no", "such", "dir", "firedrill.prom")}

	out, err := drill.Run(context.Background(), shopScenario(t), opts)
	require.NoError(t, err)
	assert.Equal(t, drill.ResultPass, out.Report.Result)
	require.NotNil(t, out.Evidence, "the evidence is kept whatever comes after")
	require.Len(t, out.Warnings, 3, "%v", out.Warnings)
	assert.ErrorContains(t, out.Warnings[0], "write metrics to "+opts.Metrics[0].String())
	assert.ErrorContains(t, out.Warnings[1], "push metrics of shop to the Pushgateway at "+w.gwURL)
	assert.ErrorContains(t, out.Warnings[2], "notify "+w.hookURL+": answered 403 Forbidden (not retried)")
	for _, warning := range out.Warnings {
		assert.NotContains(t, warning.Error(), "T0K3N")
	}
}

// TestRun_HistoryThatCannotBeReadLeavesTheMetricsAlone: metrics from this
// drill alone would say no earlier drill passed.
func TestRun_HistoryThatCannotBeReadLeavesTheMetricsAlone(t *testing.T) {
	w := newWorld(t, http.StatusOK, http.StatusOK)
	w.s3.OpErrors = map[string]error{"ListObjects": objectstore.ErrAccessDenied}

	out, err := drill.Run(context.Background(), shopScenario(t), w.options(t.TempDir()))
	require.NoError(t, err)
	require.Len(t, out.Warnings, 1, "%v", out.Warnings)
	assert.ErrorContains(t, out.Warnings[0], "metrics not updated: list the drills in s3://team-drills/team")
	assert.NoFileExists(t, w.metricsFile)
	pushes, _ := w.gw.requests()
	assert.Empty(t, pushes)
	hooks, _ := w.webhook.requests()
	assert.Len(t, hooks, 1, "the notification does not need the history")
}

// TestRun_EvidenceNotKeptIsTheErrorAfterTheDrill: a push that fails is
// Run's error, with the Outcome complete: the drill's result stands, and
// the metrics and the notification still go out.
func TestRun_EvidenceNotKeptIsTheErrorAfterTheDrill(t *testing.T) {
	w := newWorld(t, http.StatusOK, http.StatusOK)
	require.NoError(t, w.s3.CreateBucket(context.Background(), "unlocked", false))
	w.evidence.Bucket = "unlocked"

	out, err := drill.Run(context.Background(), shopScenario(t), w.options(t.TempDir()))
	require.ErrorIs(t, err, evidence.ErrBucketNotLocked)
	assert.ErrorContains(t, err, "drill fd-complete ended pass, but its evidence was not kept")
	require.NotNil(t, out)
	assert.Equal(t, drill.ResultPass, out.Report.Result)
	require.NotNil(t, out.Evidence, "the bundle is in the drill directory")
	assert.Nil(t, out.Evidence.Pushed)
	assert.Empty(t, out.Warnings)
	hooks, _ := w.webhook.requests()
	assert.Len(t, hooks, 1)
	pushes, _ := w.gw.requests()
	assert.Len(t, pushes, 1)
}

// TestRun_InterruptedDrillIsReportedWithoutEvidence: Ctrl-C stops the
// drill; it is still cleaned up, recorded and reported, but an
// interrupted drill proves nothing to sign.
func TestRun_InterruptedDrillIsReportedWithoutEvidence(t *testing.T) {
	w := newWorld(t, http.StatusOK, http.StatusOK)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	out, err := drill.Run(ctx, shopScenario(t), w.options(t.TempDir()))
	require.NoError(t, err)
	assert.Equal(t, drill.ResultInterrupted, out.Report.Result)
	assert.Nil(t, out.Evidence)
	for _, write := range w.s3.Writes() {
		assert.NotContains(t, write, "dr-evidence", "nothing pushed")
		assert.NotContains(t, write, "evidence.json", "no export recorded")
	}
	_, bodies := w.webhook.requests()
	require.Len(t, bodies, 1)
	var sum notify.Summary
	require.NoError(t, json.Unmarshal(bodies[0], &sum))
	assert.Equal(t, drill.ResultInterrupted, sum.Result)
}

// TestRun_EvidenceIntoABackupBucketIsRefusedBeforeTheDrill: the rule
// "never push evidence into a backup bucket" holds for every caller of
// Run, not only for the command line.
func TestRun_EvidenceIntoABackupBucketIsRefusedBeforeTheDrill(t *testing.T) {
	w := newWorld(t, http.StatusOK, http.StatusOK)
	w.evidence.Endpoint, w.evidence.Bucket = "http://localhost:1", "velero-backups" // the primary, written another way
	state := t.TempDir()

	out, err := drill.Run(context.Background(), shopScenario(t), w.options(state))
	var bb *drill.BackupBucketError
	require.True(t, errors.As(err, &bb), "%v", err)
	assert.Nil(t, out)
	assert.Equal(t, "the evidence bucket s3://velero-backups/shop is the backup bucket of scenario shop (spec.storage.primary): a drill never writes into a backup bucket", err.Error())
	assert.NoDirExists(t, filepath.Join(state, "drills"))
	hooks, _ := w.webhook.requests()
	assert.Empty(t, hooks, "no drill, no notification")
}
