package drill

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/internal/durfmt"
	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/runbooks"
	"github.com/firedrill-dev/firedrill/scenarios"
)

var updateGolden = flag.Bool("update", false, "rewrite the report golden files in testdata/")

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func phase(name StepName, startS, endS float64, status string) Phase {
	start, end := t0.Add(time.Duration(startS*float64(time.Second))), t0.Add(time.Duration(endS*float64(time.Second)))
	return Phase{Name: name, Start: start, End: end, DurationSeconds: endS - startS, CountsTowardRTO: name.CountsTowardRTO(), Status: status}
}

func TestMeasure(t *testing.T) {
	tests := []struct {
		name      string
		objective time.Duration
		measured  time.Duration
		status    string
		margin    float64
	}{
		{"well within", time.Hour, 20 * time.Minute, ObjectiveMet, 2400},
		{"exactly at the objective meets it", time.Hour, time.Hour, ObjectiveMet, 0},
		{"over by a second", time.Hour, time.Hour + time.Second, ObjectiveMissed, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Measure(tt.objective, tt.measured)
			assert.Equal(t, tt.status, o.Status)
			require.NotNil(t, o.MarginSeconds)
			assert.Equal(t, tt.margin, *o.MarginSeconds)
			assert.Equal(t, tt.status == ObjectiveMet, *o.Met)
		})
	}
}

func TestMeasureRTO_FromDisasterToLastRecoveryStep(t *testing.T) {
	phases := []Phase{
		phase(StepProtection, 1, 30, PhasePassed), // drill-only: does not count
		phase(StepRestore, 30, 40, PhasePassed),
		phase(StepVerify, 40, 45, PhasePassed),
		phase(StepRunbook, 45, 50.5, PhasePassed),
		phase(StepReport, 50.5, 52, PhasePassed),
	}
	disaster := t0.Add(-10 * time.Second) // declared before the drill started
	o := MeasureRTO(time.Minute, disaster, phases)
	require.NotNil(t, o.MeasuredSeconds)
	assert.Equal(t, 60.5, *o.MeasuredSeconds)
	assert.Equal(t, ObjectiveMissed, o.Status)
}

func TestMeasureRTO_NotMeasuredWhenRecoveryFailed(t *testing.T) {
	phases := []Phase{phase(StepRestore, 0, 10, PhaseFailed), phase(StepVerify, 10, 11, PhaseSkipped)}
	o := MeasureRTO(time.Hour, t0, phases)
	assert.Equal(t, ObjectiveNotMeasured, o.Status)
	assert.Nil(t, o.MeasuredSeconds)
	assert.Contains(t, o.Note, "restore failed")
}

func TestMeasureRPO(t *testing.T) {
	o := MeasureRPO(24*time.Hour, t0, t0.Add(-3*time.Hour))
	require.NotNil(t, o.MeasuredSeconds)
	assert.Equal(t, 3*3600.0, *o.MeasuredSeconds)
	assert.Equal(t, ObjectiveMet, o.Status)
	assert.Equal(t, ObjectiveNotMeasured, MeasureRPO(time.Hour, t0, time.Time{}).Status)
}

func TestDecide(t *testing.T) {
	met := Measure(time.Hour, time.Minute)
	missed := Measure(time.Minute, time.Hour)
	ok := []Phase{phase(StepRestore, 0, 1, PhasePassed)}
	tests := []struct {
		name string
		r    Report
		want Result
	}{
		{"all met", Report{RTO: met, RPO: met, Phases: ok}, ResultPass},
		{"RTO missed", Report{RTO: missed, RPO: met, Phases: ok}, ResultFail},
		{"failed finding", Report{RTO: met, RPO: met, Phases: ok, Findings: []finding.Finding{finding.Fail("x", finding.SeverityFail, "s", "m")}}, ResultFail},
		{"warning only", Report{RTO: met, RPO: met, Phases: ok, Findings: []finding.Finding{finding.Warn("x", "s", "m")}}, ResultPass},
		{"data canary RPO missed", Report{RTO: met, RPO: met, RPOData: &missed, Phases: ok}, ResultFail},
		{"step error", Report{RTO: met, RPO: met, Phases: []Phase{phase(StepPreflight, 0, 1, PhaseError)}}, ResultError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, tt.r.Decide()) })
	}
}

// sampleReport is a failed drill with something in every section.
func sampleReport() *Report {
	const bucket = "s3://velero-backups at http://127.0.0.1:27000"
	verified := true
	seed := int64(42)
	r := &Report{
		Schema: ReportSchema, DrillID: "region-loss-20261122t100000z-ab12", Scenario: "region-loss",
		ScenarioSource: "built-in: catalog/region-loss.yaml",
		Summary:        "Complete loss of data-center eu-west-1a",
		Lead:           "on-call platform engineer", Observers: []string{"shop application team"},
		FiredrillVer: "test", StartedAt: t0, FinishedAt: t0.Add(95 * time.Second), DisasterAt: t0,
		Phases: []Phase{
			phase(StepLoad, 0, 0.05, PhasePassed), phase(StepPreflight, 0.05, 1.2, PhasePassed),
			phase(StepProtection, 1.2, 14, PhaseFailed), phase(StepRecoveryPoint, 14, 14.3, PhasePassed),
			phase(StepRestore, 14.3, 62, PhasePassed), phase(StepVerify, 62, 70, PhasePassed),
			phase(StepRunbook, 70, 88, PhaseFailed), phase(StepReport, 88, 88.4, PhasePassed),
			phase(StepEvidence, 88.4, 90, PhasePassed), phase(StepCleanup, 90, 95, PhasePassed),
		},
		Findings: []finding.Finding{
			finding.Pass("protection.bucket.object-lock", "s3://velero-backups at http://127.0.0.1:27000", "object lock is enabled"),
			finding.Fail("protection.copy.offsite", finding.SeverityFail, "copy offsite", "1 object missing on the copy").With("same objects", "1 missing", "check the replication rule"),
			// What the window check (backup.CheckWindow) finds in sampleWindow.
			finding.Fail(backup.IDWindowShort, finding.SeverityFail, bucket, "the window reaches back only to 2026-11-16T01:00:00Z (6d09h), 15h00m short of the retention 7d: the oldest usable backup is shop-nightly-20261116010000").
				With("usable backups back to 2026-11-15T10:00:00Z (7d)", "back to 2026-11-16T01:00:00Z", "backups older than that are gone or never completed: check the schedule's TTL (at least the retention), the bucket's lifecycle rules and when the schedule was created"),
			finding.Warn(backup.IDWindowFailedBackup, bucket, "backup shop-nightly-20261118010000 of 2026-11-18T01:00:00Z is Failed (1 error, 0 warnings): object storage unreachable"),
			finding.Warn(backup.IDWindowMissedRun, bucket, `the run of "0 1 * * *" due 2026-11-19T01:00:00Z left no backup`),
			finding.Fail(backup.IDWindowGap, finding.SeverityFail, bucket, "worst gap 3d between usable backups, from 2026-11-17T01:00:00Z (shop-nightly-20261117010000) to 2026-11-20T01:00:00Z (shop-nightly-20261120010000): a disaster then would have lost more than the RPO 1d").
				With("at most 1d", "3d", "runs were missed or failed in that time (see window.missed-run and window.failed-backup); schedule backups at least as often as the RPO"),
			finding.Fail(backup.IDWindowPastMax, finding.SeverityFail, bucket, "backup shop-nightly-20261020010000 of 2026-10-20T01:00:00Z is still in the bucket (12 objects, 3.0 MiB), 3d09h past the maxRetention 30d").
				With("no backup older than 30d", "created 2026-10-20T01:00:00Z", "velero backup delete shop-nightly-20261020010000 (Velero deletes it with its data once its lock allows); lower the schedule's TTL to at most 30d"),
			finding.Fail("runbook.out-of-date", finding.SeverityFail, "runbook step ci-deployer-token", "runbook step failed: the runbook is out of date"),
		},
		Backup:        &BackupRef{Name: "shop-nightly-20261122010000", StorageLocation: "default", Started: t0.Add(-9 * time.Hour), Completed: t0.Add(-9*time.Hour + 90*time.Second)},
		OrderVerified: &verified,
		Restores: []RestoreRef{
			{Name: "fd-ab12-1-network-policies", Phase: "network-policies", VeleroPhase: "Completed", Start: t0.Add(15 * time.Second), End: t0.Add(17 * time.Second), ItemsRestored: 7, TotalItems: 7},
			{Name: "fd-ab12-2-workloads", Phase: "workloads", VeleroPhase: "Completed", Start: t0.Add(17 * time.Second), End: t0.Add(60 * time.Second), ItemsRestored: 31, TotalItems: 31, Warnings: 2,
				PodVolumeRestores: []PodVolumeRestore{{Name: "fd-ab12-2-workloads-x7k2p", Namespace: "shop", Pod: "backend-0", SourceNamespace: "shop", Volume: "data",
					Phase: "Completed", BytesDone: 52431, TotalBytes: 52431, Node: "node-1", Started: t0.Add(40 * time.Second), Completed: t0.Add(44 * time.Second), DurationSeconds: 4}}},
		},
		Checks: []CheckRef{{Name: "shop-workloads", Kind: "workloads", Passed: true, DurationSeconds: 1.6, Message: "3 workloads Available"}},
		Runbook: []runbooks.StepResult{
			{Name: "backup-completed", Line: 17, Status: runbooks.StepPassed, Duration: 300 * time.Millisecond, Output: "backup is Completed\n"},
			{Name: "ci-deployer-token", Line: 38, Status: runbooks.StepFailed, ExitCode: 1, Duration: 700 * time.Millisecond,
				Error: "exited with status 1", Output: "error: serviceaccounts \"ci-deployer\" not found\n"},
		},
	}
	r.Window = sampleWindow()
	r.RTO = MeasureRTO(4*time.Hour, r.DisasterAt, r.Phases)
	r.RPO = MeasureRPO(24*time.Hour, r.DisasterAt, r.Backup.Started)
	data := Measure(24*time.Hour, 65*time.Minute)
	r.RPOData, r.RPODataCheck = &data, "data-canary"
	r.Result = r.Decide()
	r.Narrative = "At 03:10 the provider's status page reports eu-west-1a\nas unavailable.\n\nThe platform team restores the shop into eu-west-1b."
	r.Detection = "Storefront returns 503; the region's status page is red"
	r.Goals = []string{"restore the shop within the 4h RTO", "prove the off-site copy is complete"}
	r.RecoveryPoint = recoveryPointChoice(scenarios.Backups{Window: &scenarios.Window{Within: scenarios.Duration(7 * 24 * time.Hour), Pick: scenarios.PickRandom}}).
		picked(&RecoveryPointChoice{Why: "picked at random with seed 42 among 5 Completed backups started within 7d before the disaster (newest first, it is number 1); window.seed: 42 replays the pick",
			Candidates: 5, Seed: &seed})
	r.RetroQuestions = []string{"Did the DNS cut-over wait for the change approval?"}
	r.Trend = NewTrend(r, sampleHistory(r.Scenario, t0, []float64{70, 80, -1, 90}, []float64{3500, 3700, 3600, 3650}), "/var/lib/firedrill", nil)
	r.Links = drillLinks(true, true, "s3://firedrill-evidence/region-loss/region-loss-20261122t100000z-ab12.evidence.tar.gz", &Report{DrillID: "region-loss-20261115t100000z-cd34", Result: ResultPass}, []string{"report.html", "report.json"})
	r.NextSteps = NextSteps(r)
	return r
}

// sampleWindow is a nightly schedule's week, checked at t0: a Failed
// night and a missed run (so a 72-hour gap, over a 24-hour RPO), a window
// that does not reach back its 7 days, and a backup kept past its 30-day
// maxRetention.
func sampleWindow() *backup.Window {
	day := func(n int) time.Time { return time.Date(2026, 11, 22-n, 1, 0, 0, 0, time.UTC) }
	nightly := func(n int, phase string) backup.WindowBackup {
		return backup.WindowBackup{Name: fmt.Sprintf("shop-nightly-202611%02d010000", 22-n), Phase: phase, Started: day(n),
			Completed: day(n).Add(90 * time.Second), Expiration: day(n).Add(30 * 24 * time.Hour), TTLSeconds: 720 * 3600, Usable: phase == "Completed"}
	}
	failed := nightly(4, "Failed")
	failed.Errors, failed.FailureReason = 1, "object storage unreachable"
	bs := []backup.WindowBackup{nightly(6, "Completed"), nightly(5, "Completed"), failed, nightly(2, "Completed"), nightly(1, "Completed"), nightly(0, "Completed")}
	return &backup.Window{
		Schedule: "shop-nightly", Cron: "0 1 * * *", CronSource: "scenario", CheckedAt: t0, From: t0.Add(-7 * 24 * time.Hour),
		RetentionSeconds: 7 * 24 * 3600, MaxRetentionSeconds: 30 * 24 * 3600, RPOSeconds: 24 * 3600,
		BackupCount: 8, Usable: 5, Backups: bs, Oldest: &bs[0], Newest: &bs[5],
		ReachesBack: false, MissingSeconds: 15 * 3600,
		NotCompleted:   []backup.WindowBackup{failed},
		MissedRuns:     []backup.MissedRun{{Expected: day(3)}},
		MissedRunCount: 1,
		WorstGap:       &backup.Gap{From: day(5), To: day(2), FromBackup: bs[1].Name, ToBackup: bs[3].Name, Seconds: 72 * 3600, OverRPO: true},
		Lock:           backup.LockCoverage{Checked: "all", Backups: []string{bs[0].Name, bs[1].Name, bs[2].Name, bs[3].Name, bs[4].Name, bs[5].Name}},
		PastMaxRetention: []backup.Retained{{Kind: "backup", Subject: "shop-nightly-20261020010000", Since: time.Date(2026, 10, 20, 1, 0, 0, 0, time.UTC),
			Until: time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC), ExcessSeconds: 3*24*3600 + 9*3600, Objects: 12, Bytes: 3 << 20}},
	}
}

// sampleHistory makes earlier drills of scenario, a day apart before
// at, newest first, with RTOs and RPOs in seconds (negative: not
// measured) against objectives of 4h and 24h.
func sampleHistory(scenario string, at time.Time, rtos, rpos []float64) []*Report {
	var out []*Report
	for i := range rtos {
		h := &Report{DrillID: fmt.Sprintf("%s-%02d", scenario, i), Scenario: scenario, StartedAt: at.Add(-time.Duration(i+1) * 24 * time.Hour), Result: ResultPass}
		h.RTO = NotMeasured(4*time.Hour, "restore failed")
		if rtos[i] >= 0 {
			h.RTO = Measure(4*time.Hour, time.Duration(rtos[i]*float64(time.Second)))
		} else {
			h.Result = ResultFail
		}
		h.RPO = NotMeasured(24*time.Hour, "no recovery point")
		if rpos[i] >= 0 {
			h.RPO = Measure(24*time.Hour, time.Duration(rpos[i]*float64(time.Second)))
		}
		out = append(out, h)
	}
	return out
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./drill -update to create it")
	assert.Equal(t, string(want), string(got))
}

// requireCoherentTimeline holds a sample report to what a drill that ran
// to the end records: every step in order, each starting when the one
// before ended, the last ending when the drill did (the report is
// rendered again after evidence and cleanup: Run's finish).
func requireCoherentTimeline(t *testing.T, r *Report) {
	t.Helper()
	var names []StepName
	for i, p := range r.Phases {
		names = append(names, p.Name)
		if i > 0 {
			require.Equal(t, r.Phases[i-1].End, p.Start, "step %s starts when %s ended", p.Name, r.Phases[i-1].Name)
		}
	}
	require.Equal(t, Steps(), names, "a drill that ran to the end records every step")
	require.Equal(t, r.StartedAt, r.Phases[0].Start)
	require.Equal(t, r.FinishedAt, r.Phases[len(r.Phases)-1].End, "the drill ends when its last step does")
}

func TestRender_Golden(t *testing.T) {
	r := sampleReport()
	require.Equal(t, ResultFail, r.Result)
	requireCoherentTimeline(t, r)
	md, err := RenderMarkdown(r)
	require.NoError(t, err)
	golden(t, "report.md.golden", md)
	retro, err := RenderRetrospective(r)
	require.NoError(t, err)
	golden(t, "retrospective.md.golden", retro)
	html, err := RenderHTML(r)
	require.NoError(t, err)
	golden(t, "report.html.golden", html)

	// One duration style: the RPO objective reads the same in Objectives,
	// in the window's table and in the finding that measures against it
	// (backup's findings format with durfmt, as the report does).
	assert.Contains(t, string(md), "| RPO (data lost, by the backup) | "+durfmt.Seconds(r.RPO.ObjectiveSeconds)+" |")
	assert.Contains(t, string(md), "; RPO "+durfmt.Seconds(r.Window.RPOSeconds)+" |")
	assert.Contains(t, string(md), "more than the RPO "+durfmt.Seconds(r.Window.RPOSeconds))
	assert.Equal(t, "1d", durfmt.Seconds(r.RPO.ObjectiveSeconds))
}

func TestRenderRetrospective_PromptsFromFindings(t *testing.T) {
	retro, err := RenderRetrospective(sampleReport())
	require.NoError(t, err)
	s := string(retro)
	for _, want := range []string{"## What went well?", "## What to improve?", "## What action items are needed?",
		"\n1. copy offsite: 1 object missing on the copy — check the replication rule. Why did it happen",
		"\n5. runbook step ci-deployer-token: runbook step failed", "| on-call platform engineer | lead: leads the recovery | yes / no |",
		"| shop application team | observer | yes / no |", "- [ ] Improvement 5: ____ · owner: ____ · due: ____",
		"## Questions from the runbook\n\n- Did the DNS cut-over wait for the change approval?", "| lead | on-call platform engineer | ____ |"} {
		assert.Contains(t, s, want)
	}
	// Each finding is pre-filled once: not again among the action items.
	assert.Equal(t, 1, strings.Count(s, "1 object missing on the copy"))
	// No improvement is cut mid-sentence, so none reads "the bucket's…. Why".
	assert.NotContains(t, s, "…")
	assert.NotContains(t, s, ".. ")
}

// TestRender_CountsAgreeWithTheirNouns: every count the report and the
// retrospective print takes a singular noun when it is one, and names
// what it counts: "1 finding passed", "against the last 1 drill", "1/1
// item".
func TestRender_CountsAgreeWithTheirNouns(t *testing.T) {
	r := sampleReport()
	r.Trend = NewTrend(r, sampleHistory(r.Scenario, t0, []float64{70}, []float64{3500}), "/var/lib/firedrill", nil)
	r.Restores = r.Restores[:1]
	r.Restores[0].ItemsRestored, r.Restores[0].TotalItems = 1, 1
	retro, err := RenderRetrospective(r)
	require.NoError(t, err)
	md, err := RenderMarkdown(r)
	require.NoError(t, err)
	html, err := RenderHTML(r)
	require.NoError(t, err)
	assert.Contains(t, string(retro), "- 1 finding passed: ")
	assert.Contains(t, string(md), "\n1 finding passed:\n")
	assert.Contains(t, string(retro), "- Against the last 1 drill: ")
	assert.Contains(t, string(retro), "1/1 item in")
	for name, out := range map[string][]byte{"retrospective.md": retro, "report.md": md, "report.html": html} {
		for _, bad := range []string{"1 checks", "1 drills", "1 items", "1 errors", "1 warnings", "1 earlier drills", "1 backups", "1 findings", "among them", "1 check passed"} {
			assert.NotContains(t, string(out), bad, name)
		}
	}
}

// TestRenderRetrospective_LabelsEndWithAColon: every "label: value"
// line of The drill reads alike, the result and the objectives included.
func TestRenderRetrospective_LabelsEndWithAColon(t *testing.T) {
	retro, err := RenderRetrospective(sampleReport())
	require.NoError(t, err)
	drill, _, _ := strings.Cut(strings.SplitN(string(retro), "## The drill\n\n", 2)[1], "\n\n")
	for _, line := range strings.Split(drill, "\n") {
		if strings.HasPrefix(line, "  - ") {
			continue // a goal, under Goals:
		}
		assert.Regexp(t, `^- [A-Z][A-Za-z0-9 ]*:( |$)`, line)
	}
	assert.Contains(t, drill, "\n- Result: **FAIL**\n")
}

// TestRender_NoFindingsSaysTheSameInBothFormats: report.md and
// report.html say the one sentence of noFindingsText when no finding
// failed or warned, whether there are passes, none at all, or the drill
// did not run to the end.
func TestRender_NoFindingsSaysTheSameInBothFormats(t *testing.T) {
	tests := []struct {
		name     string
		findings []finding.Finding
		err      string
		want     string
	}{
		{"no finding at all", nil, "", "No finding failed or warned."},
		{"only passes", []finding.Finding{finding.Pass("protection.bucket.object-lock", "bucket", "locked")}, "", "No finding failed or warned."},
		{"stopped early", nil, "restore failed", "No finding failed, but not every step ran to the end: what they would have checked is not known."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := manualSampleReport()
			r.Findings, r.Error = tt.findings, tt.err
			md, err := RenderMarkdown(r)
			require.NoError(t, err)
			html, err := RenderHTML(r)
			require.NoError(t, err)
			assert.Contains(t, string(md), "## Findings\n\n"+tt.want+"\n")
			assert.Contains(t, string(html), "<p>"+tt.want+"</p>")
			for _, other := range []string{"Every check passed", "No findings."} {
				assert.NotContains(t, string(md), other)
				assert.NotContains(t, string(html), other)
			}
		})
	}
}

func TestRenderHTML_SelfContained(t *testing.T) {
	html, err := RenderHTML(sampleReport())
	require.NoError(t, err)
	s := string(html)
	assert.Contains(t, s, "<svg")
	assert.NotContains(t, s, "ZgotmplZ", "html/template refused a value: an href or CSS it found unsafe")
	for _, external := range []string{"<script src", "<link ", "http://", "https://", "url("} {
		if external == "http://" {
			// The only URLs allowed are the SVG namespace and the subject's endpoint text.
			s = strings.ReplaceAll(s, `xmlns="http://www.w3.org/2000/svg"`, "")
			s = strings.ReplaceAll(s, "http://127.0.0.1:27000", "")
		}
		if external == "https://" {
			// Links to the README's sections are followed, never loaded.
			s = strings.ReplaceAll(s, `href="`+ReadmeURL+"#", "")
		}
		assert.NotContains(t, s, external, "report.html must not load %q", external)
	}
}

func TestReport_JSONFieldNames(t *testing.T) {
	b, err := json.Marshal(sampleReport())
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	for _, k := range []string{"drill_id", "scenario", "started_at", "finished_at", "result", "rto", "rpo", "phases", "findings", "restores", "order_verified"} {
		assert.Contains(t, m, k)
	}
	rto := m["rto"].(map[string]any)
	for _, k := range []string{"measured_seconds", "objective_seconds", "met"} {
		assert.Contains(t, rto, k)
	}
	pvr := m["restores"].([]any)[1].(map[string]any)["pod_volume_restores"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "namespace", "pod", "volume", "phase", "bytes_done", "total_bytes", "duration_seconds", "started", "completed"} {
		assert.Contains(t, pvr, k)
	}
	assert.Equal(t, 52431.0, pvr["bytes_done"])
	assert.Equal(t, 4.0, pvr["duration_seconds"])
	ph := m["phases"].([]any)[0].(map[string]any)
	for _, k := range []string{"name", "start", "end", "counts_toward_rto", "status"} {
		assert.Contains(t, ph, k)
	}
}

// TestRenderRetrospective_NoThematicBreaks: a list item or line of only
// underscores or dashes is a horizontal rule to GitHub and GitLab
// (CommonMark 4.1), not a blank to fill in.
func TestRenderRetrospective_NoThematicBreaks(t *testing.T) {
	for _, r := range []*Report{sampleReport(), {Scenario: "s", DrillID: "d", Result: ResultPass}} {
		retro, err := RenderRetrospective(r)
		require.NoError(t, err)
		for i, line := range strings.Split(string(retro), "\n") {
			body := strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "-*+"))
			assert.NotRegexp(t, `^([_*-]\s*){3,}$`, body, "line %d %q is a rule", i+1, line)
		}
	}
}

// TestRenderHTML_NextStepAnchorsExist: every next step points at an
// element of the page.
func TestRenderHTML_NextStepAnchorsExist(t *testing.T) {
	r := sampleReport()
	r.Result, r.ErrorStep, r.Error = ResultError, StepRestore, "restore failed"
	r.Findings = append(r.Findings, finding.Warn("recovery-point.skipped", "b2", "newer backup PartiallyFailed"))
	r.RPO = Measure(time.Hour, 2*time.Hour)
	r.NextSteps = NextSteps(r)
	require.GreaterOrEqual(t, len(r.NextSteps), 5)
	html, err := RenderHTML(r)
	require.NoError(t, err)
	kinds := map[string]bool{}
	for _, s := range r.NextSteps {
		kinds[s.Kind] = true
		assert.Contains(t, string(html), `id="`+strings.TrimPrefix(s.Anchor, "#")+`"`, "next step %q", s.Text)
		assert.Contains(t, string(html), `href="`+ReadmeURL+"#"+s.ReadmeAnchor+`"`)
	}
	assert.Equal(t, map[string]bool{NextStepStopped: true, NextStepFailed: true, NextStepWarning: true}, kinds)
}

// TestPassedSummary: the retrospective counts the passed findings as
// findings, and says "including" only when it names fewer than it counts.
func TestPassedSummary(t *testing.T) {
	pass := func(msgs ...string) []finding.Finding {
		var fs []finding.Finding
		for _, m := range msgs {
			fs = append(fs, finding.Pass("x", "s", m))
		}
		return fs
	}
	for _, tt := range []struct {
		msgs []string
		want string
	}{
		{[]string{"object lock is enabled"}, "1 finding passed: object lock is enabled."},
		{[]string{"a.", "b"}, "2 findings passed: a; b."},
		{[]string{"a", "b", "c"}, "3 findings passed: a; b; c."},
		{[]string{"a", "b", "c", "d", "e"}, "5 findings passed, including: a; b; c."},
	} {
		assert.Equal(t, tt.want, passedSummary(pass(tt.msgs...)))
	}
}

// TestRenderMarkdown_HintSetOffFromMessage: in report.md a finding's hint
// is set off from its message, as report.html sets it on a line of its
// own, not run on after it ("... on the copy Hint: check ...").
func TestRenderMarkdown_HintSetOffFromMessage(t *testing.T) {
	md, err := RenderMarkdown(sampleReport())
	require.NoError(t, err)
	assert.Contains(t, string(md), "| 1 object missing on the copy — hint: check the replication rule |")
	for _, line := range strings.Split(string(md), "\n") {
		if strings.HasPrefix(line, "| ") {
			assert.NotContains(t, line, " Hint: ", "a hint run on in a table cell")
		}
	}
}
