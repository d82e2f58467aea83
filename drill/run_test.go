package drill

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/runbooks"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// fakeClock advances one second on every reading: time moves, for tests
// that pin no duration. Tests that pin durations use stepClock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { c.t = c.t.Add(time.Second); return c.t }

// stepClock stands still until a fake moves it (fakeTakes): each step of
// a drill then lasts exactly what its fakes take, and RTO, RPO and every
// phase's duration are known to the nanosecond.
type stepClock struct{ t time.Time }

func (c *stepClock) Now() time.Time { return c.t }

// Advance moves the clock on by d; a nil clock stands for one nobody reads.
func (c *stepClock) Advance(d time.Duration) {
	if c != nil {
		c.t = c.t.Add(d)
	}
}

// fakeTakes is how long each call of the fakes takes on their stepClock.
type fakeTakes struct {
	Preflight, RecoveryPoint, Protection, Restore, Verify, Evidence, Cleanup time.Duration
}

// defaultTakes is what runDrill's fakes take when a test sets nothing:
// RTO = preflight + protection (with the recovery point it asks for) +
// restore + verify = 3s + (1s + 20s) + 4m + 1m = 5m24s from the drill's start.
var defaultTakes = fakeTakes{Preflight: 3 * time.Second, RecoveryPoint: time.Second, Protection: 20 * time.Second,
	Restore: 4 * time.Minute, Verify: time.Minute, Evidence: 5 * time.Second, Cleanup: 30 * time.Second}

// fakeRecovery is a scratch cluster in memory; each fault field makes
// exactly one part fail.
type fakeRecovery struct {
	PreflightErr, RecoveryErr, RestoreErr, VerifyErr, CleanupErr, EvidenceErr error
	OrderBroken, CheckFails, PartiallyFailed                                  bool
	// OnRestore runs inside Restore (e.g. to cancel the drill mid-restore).
	OnRestore func()
	// Backup, when set, is the recovery point instead of shop-daily-1.
	Backup *BackupRef
	// Choice is how the recovery point was chosen, as RecoveryPoint says.
	Choice *RecoveryPointChoice
	// Clock, when set, is moved on by Takes in each call.
	Clock *stepClock
	Takes fakeTakes

	cleanups      int
	verifies      int
	cleanupPassed bool
	cleanupCtxErr error
	restored      bool
}

func (f *fakeRecovery) Preflight(context.Context, time.Time) error {
	f.Clock.Advance(f.Takes.Preflight)
	return f.PreflightErr
}
func (f *fakeRecovery) RecoveryPoint(context.Context) (*BackupRef, *RecoveryPointChoice, error) {
	f.Clock.Advance(f.Takes.RecoveryPoint)
	if f.RecoveryErr != nil {
		return nil, nil, f.RecoveryErr
	}
	if f.Backup != nil {
		return f.Backup, f.Choice, nil
	}
	return &BackupRef{Name: "shop-daily-1", StorageLocation: "default", Started: t0.Add(-2 * time.Hour), Completed: t0.Add(-2*time.Hour + time.Second)}, f.Choice, nil
}
func (f *fakeRecovery) Restore(ctx context.Context, b *BackupRef, _ io.Writer) (RestoreOutcome, error) {
	f.Clock.Advance(f.Takes.Restore)
	if f.OnRestore != nil {
		f.OnRestore()
	}
	if f.RestoreErr != nil {
		return RestoreOutcome{}, f.RestoreErr
	}
	if err := ctx.Err(); err != nil {
		return RestoreOutcome{}, err
	}
	f.restored = true
	ok := !f.OrderBroken
	out := RestoreOutcome{OrderVerified: &ok, SecretValues: []string{fakeSecret}, Restores: []RestoreRef{{Name: "r1", Phase: "network-policies", VeleroPhase: "Completed"}}}
	if f.PartiallyFailed {
		out.Restores = append(out.Restores, RestoreRef{Name: "r2", Phase: "workloads", VeleroPhase: "PartiallyFailed"})
		out.Findings = append(out.Findings, finding.Fail("restore.phase.workloads", finding.SeverityFail, "Velero Restore r2", "phase workloads ended PartiallyFailed"))
	}
	if f.OrderBroken {
		out.Findings = append(out.Findings, finding.Fail("restore.order", finding.SeverityFail, "namespace shop", "deployment web arrived before any NetworkPolicy"))
	}
	return out, nil
}
func (f *fakeRecovery) Verify(context.Context) (VerifyOutcome, error) {
	f.Clock.Advance(f.Takes.Verify)
	f.verifies++
	if f.VerifyErr != nil {
		return VerifyOutcome{}, f.VerifyErr
	}
	out := VerifyOutcome{DataTime: t0.Add(-3 * time.Hour), Checks: []CheckRef{{Name: "shop", Kind: "workloads", Passed: !f.CheckFails}}}
	if f.CheckFails {
		out.Findings = append(out.Findings, finding.Fail("check.shop", finding.SeverityFail, "check shop", "deployment web not Available"))
	}
	return out, nil
}

// fakeSecret is the value of a Secret "restored" by the fake.
const fakeSecret = "db-password-7f3a9c"

func (f *fakeRecovery) Evidence(context.Context) (Collected, error) {
	f.Clock.Advance(f.Takes.Evidence)
	if f.cleanups > 0 {
		return Collected{}, errors.New("evidence read after cleanup: the restored objects are gone")
	}
	if !f.restored {
		return Collected{}, f.EvidenceErr
	}
	secret := map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "db", "namespace": "shop"},
		"data": map[string]any{"password": "[redacted]"}}
	return Collected{
		Files:        map[string]any{"velero/backup.json": map[string]any{"kind": "Backup"}, "restored/objects.json": []any{secret}},
		SecretValues: []string{fakeSecret, "shop"},
	}, f.EvidenceErr
}
func (f *fakeRecovery) RunbookEnv() []string { return []string{"FIREDRILL_SCENARIO=test"} }
func (f *fakeRecovery) Cleanup(ctx context.Context, passed bool) error {
	f.Clock.Advance(f.Takes.Cleanup)
	f.cleanups++
	f.cleanupPassed = passed
	f.cleanupCtxErr = ctx.Err()
	return f.CleanupErr
}

type fakeProtection struct {
	Fails bool
	Err   error
	saw   *BackupRef
	// Clock, when set, is moved on by Takes in each call.
	Clock *stepClock
	Takes time.Duration
}

func (p *fakeProtection) Check(_ context.Context, b *BackupRef) ([]finding.Finding, any, error) {
	p.Clock.Advance(p.Takes)
	p.saw = b
	if p.Err != nil {
		return nil, nil, p.Err
	}
	if p.Fails {
		return []finding.Finding{finding.Fail("protection.copy.offsite", finding.SeverityFail, "copy offsite", "1 object missing")}, map[string]int{"missing": 1}, nil
	}
	return []finding.Finding{finding.Pass("protection.bucket.object-lock", "s3://b", "locked")}, nil, nil
}

func testScenario(t *testing.T, rto string) *scenarios.Scenario {
	t.Helper()
	yaml := `apiVersion: firedrill.dev/v1alpha1
kind: Scenario
metadata: {name: unit}
spec:
  disaster: {summary: test disaster, lost: [sourceCluster], detection: test, lead: tester}
  objectives: {rto: ` + rto + `, rpo: 24h}
  backups: {schedule: daily, includedNamespaces: [shop]}
  storage:
    primary:
      endpoint: http://127.0.0.1:1
      bucket: velero-backups
      objectLock: {mode: COMPLIANCE}
  target: {kubeconfig: /dev/null}
`
	sc, err := scenarios.Parse(scenarios.Env{}, "unit.yaml", []byte(yaml))
	require.NoError(t, err)
	return sc
}

func runDrill(t *testing.T, ctx context.Context, sc *scenarios.Scenario, rec *fakeRecovery, prot *fakeProtection, rb *runbooks.Runbook) (*Report, string) {
	t.Helper()
	state := t.TempDir()
	clock := &stepClock{t: t0}
	rec.Clock = clock
	if rec.Takes == (fakeTakes{}) {
		rec.Takes = defaultTakes
	}
	opts := Options{StateDir: state, DrillID: "fd-test", Now: clock.Now, Recovery: rec, Runbook: rb}
	if prot != nil {
		prot.Clock = clock
		if prot.Takes == 0 {
			prot.Takes = rec.Takes.Protection
		}
		opts.Protection = prot
	}
	out, err := Run(ctx, sc, opts)
	require.NoError(t, err)
	rep := out.Report
	return rep, filepath.Join(state, "drills", "fd-test")
}

func phaseStatus(r *Report, name StepName) string {
	for _, p := range r.Phases {
		if p.Name == name {
			return p.Status
		}
	}
	return "missing"
}

func TestRun_PassingDrillWritesEveryFile(t *testing.T) {
	rec, prot := &fakeRecovery{}, &fakeProtection{}
	sc := testScenario(t, "4h")
	sc.Spec.Compliance = []string{"dora"}
	rep, dir := runDrill(t, context.Background(), sc, rec, prot, nil)
	assert.Equal(t, ResultPass, rep.Result, "phases: %+v", rep.Phases)
	for _, f := range []string{"report.json", "report.md", "report.html", "retrospective.md", "scenario.yaml"} {
		assert.FileExists(t, filepath.Join(dir, f))
	}
	require.NotNil(t, rep.RTO.MeasuredSeconds)
	assert.Equal(t, (5*time.Minute + 24*time.Second).Seconds(), *rep.RTO.MeasuredSeconds, "RTO = disaster (drill start) - end of verify (defaultTakes)")
	assert.Equal(t, (4*time.Hour - 5*time.Minute - 24*time.Second).Seconds(), *rep.RTO.MarginSeconds)
	assert.Equal(t, ObjectiveMet, rep.RTO.Status)
	require.NotNil(t, rep.RPO.MeasuredSeconds)
	assert.Equal(t, 2*3600.0, *rep.RPO.MeasuredSeconds, "RPO = disaster (drill start) - backup start")
	require.NotNil(t, rep.RPOData)
	require.NotNil(t, rep.RPOData.MeasuredSeconds)
	assert.Equal(t, 3*3600.0, *rep.RPOData.MeasuredSeconds, "RPO of the data = disaster - the data canary's time")
	assert.Equal(t, "shop-daily-1", prot.saw.Name, "protection checks the backup the drill restores")
	assert.Equal(t, 1, rec.cleanups)
	assert.True(t, rec.cleanupPassed)

	h, err := ListReports(context.Background(), LocalRecords{StateDir: filepath.Dir(filepath.Dir(dir))}, "")
	require.NoError(t, err)
	require.Len(t, h, 1)
	assert.Equal(t, ResultPass, h[0].Result)
	// The record says what "after a major change" compares.
	assert.Len(t, sc.Origin.SHA256, 64)
	assert.Equal(t, sc.Origin.SHA256, h[0].ScenarioSHA256)
	assert.Empty(t, h[0].RunbookSHA256, "no runbook")
	assert.Empty(t, h[0].TargetSHA256, "the kubeconfig /dev/null names no server")
	assert.Equal(t, []string{"dora"}, h[0].Compliance)
	// The outlook counts this drill: the only one of its history.
	require.NotNil(t, h[0].Outlook)
	assert.Equal(t, 1, h[0].Outlook.ErrorBudget.Drills)
	assert.Equal(t, 1, h[0].Outlook.ErrorBudget.Met)
	assert.Equal(t, ForecastNone, h[0].Outlook.RTOForecast.State)
}

func TestRun_ImpossibleRTOFailsNamingIt(t *testing.T) {
	rep, _ := runDrill(t, context.Background(), testScenario(t, "1s"), &fakeRecovery{}, &fakeProtection{}, nil)
	assert.Equal(t, ResultFail, rep.Result)
	assert.Equal(t, ObjectiveMissed, rep.RTO.Status)
	md, err := RenderMarkdown(rep)
	require.NoError(t, err)
	assert.Contains(t, string(md), "MISSED")
}

func TestRun_ProtectionFailureDoesNotStopTheRestore(t *testing.T) {
	rec := &fakeRecovery{}
	rep, dir := runDrill(t, context.Background(), testScenario(t, "4h"), rec, &fakeProtection{Fails: true}, nil)
	assert.True(t, rec.restored)
	assert.Equal(t, PhaseFailed, phaseStatus(rep, StepProtection))
	assert.Equal(t, PhasePassed, phaseStatus(rep, StepRestore))
	assert.Equal(t, ResultFail, rep.Result)
	assert.FileExists(t, filepath.Join(dir, "protection.json"))
	assert.False(t, rec.cleanupPassed, "a failed drill keeps its objects by default")
}

func TestRun_EachFaultEndsTheDrillAsExpected(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name     string
		rec      *fakeRecovery
		step     StepName
		status   string
		result   Result
		skipped  []StepName
		restored bool
	}{
		{"preflight", &fakeRecovery{PreflightErr: boom}, StepPreflight, PhaseError, ResultError, []StepName{StepRecoveryPoint, StepRestore, StepVerify, StepRunbook}, false},
		{"no backup", &fakeRecovery{RecoveryErr: boom}, StepRecoveryPoint, PhaseError, ResultError, []StepName{StepRestore, StepVerify, StepRunbook}, false},
		{"restore fails", &fakeRecovery{RestoreErr: boom}, StepRestore, PhaseError, ResultError, []StepName{StepVerify, StepRunbook}, false},
		{"order broken", &fakeRecovery{OrderBroken: true}, StepRestore, PhaseFailed, ResultFail, nil, true},
		{"check fails", &fakeRecovery{CheckFails: true}, StepVerify, PhaseFailed, ResultFail, nil, true},
		{"velero restore partially failed", &fakeRecovery{PartiallyFailed: true}, StepRestore, PhaseFailed, ResultFail, []StepName{StepVerify, StepRunbook}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, _ := runDrill(t, context.Background(), testScenario(t, "4h"), tt.rec, &fakeProtection{}, nil)
			assert.Equal(t, tt.status, phaseStatus(rep, tt.step))
			assert.Equal(t, tt.result, rep.Result)
			for _, s := range tt.skipped {
				assert.Equal(t, PhaseSkipped, phaseStatus(rep, s), "step %s", s)
			}
			assert.Equal(t, tt.restored, tt.rec.restored)
			assert.Equal(t, 1, tt.rec.cleanups, "cleanup always runs")
			if tt.result != ResultPass {
				assert.NotEqual(t, ObjectiveMet, rep.RTO.Status)
			}
		})
	}
}

func TestRun_BrokenRunbookStepIsAFinding(t *testing.T) {
	rb, err := runbooks.Parse("rb.md", []byte("```sh firedrill-step name=\"ok\" timeout=5s\necho \"$FIREDRILL_SCENARIO\"\n```\n\n"+
		"```sh firedrill-step name=\"token\" timeout=5s\necho 'error: serviceaccounts \"ci-deployer\" not found' >&2; exit 1\n```\n"))
	require.NoError(t, err)
	rep, dir := runDrill(t, context.Background(), testScenario(t, "4h"), &fakeRecovery{}, &fakeProtection{}, rb)
	assert.Equal(t, ResultFail, rep.Result)
	var f *finding.Finding
	for i := range rep.Findings {
		if rep.Findings[i].ID == "runbook.out-of-date" {
			f = &rep.Findings[i]
		}
	}
	require.NotNil(t, f, "findings: %+v", rep.Findings)
	assert.Contains(t, f.Message, `"token"`)
	assert.Contains(t, f.Actual, "ci-deployer")
	out, err := os.ReadFile(filepath.Join(dir, "runbook", "01-ok.log"))
	require.NoError(t, err)
	assert.Contains(t, string(out), "test", "the step saw the drill's environment")
}

func TestRun_InterruptedMidRestoreStillCleansUp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := &fakeRecovery{OnRestore: cancel}
	rep, dir := runDrill(t, ctx, testScenario(t, "4h"), rec, &fakeProtection{}, nil)
	assert.Equal(t, ResultInterrupted, rep.Result)
	assert.Equal(t, 1, rec.cleanups)
	assert.NoError(t, rec.cleanupCtxErr, "cleanup runs on a context the interruption does not cancel")
	assert.True(t, rec.cleanupPassed, "an interrupted drill is cleaned up even under onSuccess")
	assert.Equal(t, PhaseSkipped, phaseStatus(rep, StepVerify))
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	assert.Contains(t, string(b), `"result": "interrupted"`)
}

func TestHistory_NewestFirstAndFiltered(t *testing.T) {
	state := t.TempDir()
	for i, sc := range []string{"a", "b", "a"} {
		d, err := CreateDir(state, "fd-"+strings.Repeat("x", i+1))
		require.NoError(t, err)
		require.NoError(t, d.WriteReport(&Report{DrillID: "fd-" + strings.Repeat("x", i+1), Scenario: sc, StartedAt: t0.Add(time.Duration(i) * time.Hour), Result: ResultPass}))
	}
	all, err := ListReports(context.Background(), LocalRecords{StateDir: state}, "")
	require.NoError(t, err)
	require.Len(t, all, 3)
	assert.Equal(t, "fd-xxx", all[0].DrillID)
	onlyA, err := ListReports(context.Background(), LocalRecords{StateDir: state}, "a")
	require.NoError(t, err)
	assert.Len(t, onlyA, 2)
}

func findingByID(fs []finding.Finding, id string) *finding.Finding {
	for i := range fs {
		if fs[i].ID == id {
			return &fs[i]
		}
	}
	return nil
}

// TestRun_RecoveryPointSaysWhatItSkipped: the newer backups the recovery
// point passed over, and the errors of a PartiallyFailed one the scenario
// allowed, are findings of the report (JSON and Markdown).
func TestRun_RecoveryPointSaysWhatItSkipped(t *testing.T) {
	b := &BackupRef{Name: "daily-2", StorageLocation: "default", Started: t0.Add(-5 * time.Hour), Phase: "PartiallyFailed", Warnings: 1, Errors: 2,
		ErrorMessages: []string{"shop: error backing up item widgets.example.com/shop/w1: timeout"},
		Skipped:       []SkippedBackup{{Name: "daily-3", Phase: "Failed", Time: t0.Add(-time.Hour), Reason: "Failed: object storage unreachable"}}}
	rep, dir := runDrill(t, context.Background(), testScenario(t, "4h"), &fakeRecovery{Backup: b}, &fakeProtection{}, nil)
	require.NotNil(t, rep.RPO.MeasuredSeconds)
	assert.Equal(t, 5*3600.0, *rep.RPO.MeasuredSeconds, "RPO counts from the backup restored, not the newer failed one")

	point := findingByID(rep.Findings, "recovery-point.backup")
	require.NotNil(t, point, "findings: %+v", rep.Findings)
	assert.Equal(t, "Velero Backup velero/daily-2 in the target", point.Subject)
	assert.Contains(t, point.Message, "status.startTimestamp "+t0.Add(-5*time.Hour).UTC().Format(time.RFC3339))

	skipped := findingByID(rep.Findings, "recovery-point.skipped")
	require.NotNil(t, skipped)
	assert.Equal(t, finding.StatusWarn, skipped.Status)
	assert.Contains(t, skipped.Message, "daily-3 (Failed: object storage unreachable)")

	partial := findingByID(rep.Findings, "recovery-point.partially-failed")
	require.NotNil(t, partial)
	assert.Contains(t, partial.Message, "2 errors, 1 warning")
	assert.Contains(t, partial.Message, "widgets.example.com/shop/w1: timeout")

	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "daily-3 (Failed: object storage unreachable)")
	js, err := os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	assert.Contains(t, string(js), `"skipped": [`)
}

// TestRun_TimesEveryStepExactly: with a clock that moves only as the fakes
// take time, every phase's start and duration, the RTO and both RPOs are
// the exact sums the product reports, from the drill's start or from the
// declared disaster.
func TestRun_TimesEveryStepExactly(t *testing.T) {
	takes := fakeTakes{Preflight: 30 * time.Second, RecoveryPoint: 5 * time.Second, Protection: 2 * time.Minute,
		Restore: 7 * time.Minute, Verify: 90 * time.Second, Evidence: 20 * time.Second, Cleanup: 45 * time.Second}
	// name, start (seconds after t0), duration (seconds), in order.
	type timed struct {
		name       StepName
		start, dur float64
	}
	want := []timed{
		{StepLoad, 0, 0}, {StepPreflight, 0, 30},
		{StepProtection, 30, 125}, // the protection check and the recovery point it asks for
		{StepRecoveryPoint, 155, 0}, {StepRestore, 155, 420}, {StepVerify, 575, 90}, {StepRunbook, 665, 0},
		{StepReport, 665, 0}, {StepEvidence, 665, 20}, {StepCleanup, 685, 45},
	}
	tests := []struct {
		name          string
		declaredAt    time.Time
		rto, rpo, rpd time.Duration
	}{
		{"disaster at the drill's start", time.Time{}, 11*time.Minute + 5*time.Second, 2 * time.Hour, 3 * time.Hour},
		{"disaster declared 30m before", t0.Add(-30 * time.Minute), 41*time.Minute + 5*time.Second, 90 * time.Minute, 150 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := testScenario(t, "4h")
			sc.Spec.Disaster.DeclaredAt = tt.declaredAt
			rep, dir := runDrill(t, context.Background(), sc, &fakeRecovery{Takes: takes}, &fakeProtection{}, nil)
			require.Equal(t, ResultPass, rep.Result, "phases: %+v", rep.Phases)
			var got []timed
			for _, p := range rep.Phases {
				got = append(got, timed{p.Name, p.Start.Sub(t0).Seconds(), p.DurationSeconds})
				assert.Equal(t, p.DurationSeconds, p.End.Sub(p.Start).Seconds(), "step %s", p.Name)
			}
			assert.Equal(t, want, got)
			assert.Equal(t, t0, rep.StartedAt)
			assert.Equal(t, t0.Add(730*time.Second), rep.FinishedAt)

			require.NotNil(t, rep.RTO.MeasuredSeconds)
			assert.Equal(t, tt.rto.Seconds(), *rep.RTO.MeasuredSeconds)
			assert.Equal(t, (4*time.Hour - tt.rto).Seconds(), *rep.RTO.MarginSeconds)
			require.NotNil(t, rep.RPO.MeasuredSeconds)
			assert.Equal(t, tt.rpo.Seconds(), *rep.RPO.MeasuredSeconds)
			assert.Equal(t, (24*time.Hour - tt.rpo).Seconds(), *rep.RPO.MarginSeconds)
			require.NotNil(t, rep.RPOData)
			require.NotNil(t, rep.RPOData.MeasuredSeconds)
			assert.Equal(t, tt.rpd.Seconds(), *rep.RPOData.MeasuredSeconds)

			// The report on disk is the one written after cleanup: its
			// timeline has the steps after the report's own, and ends
			// when the drill did.
			md, err := os.ReadFile(filepath.Join(dir, "report.md"))
			require.NoError(t, err)
			assert.Contains(t, string(md), "| ran | 2026-11-22 10:00:00 UTC to 2026-11-22 10:12:10 UTC |")
			assert.Contains(t, string(md), "| evidence | +11m05s | 20.0s | no | passed |")
			assert.Contains(t, string(md), "| cleanup | +11m25s | 45.0s | no | passed |")
		})
	}
}

// TestRun_UnwritableRecordStopsTheRecoveryAndCleansUp: once the record
// cannot be written (a full disk in e2e TestFault_StateDiskFull; here the
// record becomes a link to a file whose name is as long as a name can be,
// so the temporary file beside it, whose name is longer, cannot be
// created, whoever runs the test), the drill verifies nothing more, still
// cleans up, and Run fails naming the write; the record on disk is the
// last one written whole.
func TestRun_UnwritableRecordStopsTheRecoveryAndCleansUp(t *testing.T) {
	state := t.TempDir()
	dir := filepath.Join(state, "drills", "fd-test")
	clock := &stepClock{t: t0}
	rec := &fakeRecovery{Clock: clock, Takes: defaultTakes, OnRestore: func() {
		record := filepath.Join(dir, "report.json")
		longest := filepath.Join(dir, strings.Repeat("r", 255))
		require.NoError(t, os.Rename(record, longest))
		require.NoError(t, os.Symlink(filepath.Base(longest), record))
	}}
	var progress strings.Builder
	out, err := Run(context.Background(), testScenario(t, "4h"), Options{StateDir: state, DrillID: "fd-test", Now: clock.Now, Recovery: rec, Progress: &progress})
	require.Error(t, err)
	assert.Nil(t, out)
	assert.Contains(t, err.Error(), "write "+filepath.Join(dir, "report.json"))
	assert.Equal(t, 0, rec.verifies, "nothing verified once the record cannot be written")
	assert.Equal(t, 1, rec.cleanups, "the scratch cluster is cleaned up")
	assert.Contains(t, progress.String(), "verify error: the drill's record cannot be written: write "+filepath.Join(dir, "report.json"))
	assert.Contains(t, progress.String(), "runbook skipped: the drill's record cannot be written\n")
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	var last Report
	require.NoError(t, json.Unmarshal(b, &last), "the last record written whole")
	assert.Equal(t, ResultRunning, last.Result)
	assert.Equal(t, StepRestore, last.Heartbeat.Step)
}
