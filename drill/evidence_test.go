package drill

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/internal/evidence"
	"github.com/firedrill-dev/firedrill/internal/evidence/evidencetest"
	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/internal/objectstore/memstore"
	"github.com/firedrill-dev/firedrill/internal/secret"
	"github.com/firedrill-dev/firedrill/runbooks"
)

func testKey(t *testing.T) *ExportOptions {
	t.Helper()
	privPEM, _, err := evidence.GenerateKey()
	require.NoError(t, err)
	priv, err := evidence.ParsePrivateKey(privPEM)
	require.NoError(t, err)
	return &ExportOptions{Key: priv, Version: "test"}
}

// leakyRunbook prints a restored Secret's value and a credential, as a
// careless runbook step would.
func leakyRunbook(t *testing.T) *runbooks.Runbook {
	t.Helper()
	rb, err := runbooks.Parse("rb.md", []byte("```sh firedrill-step name=\"leak\" timeout=5s\necho password="+fakeSecret+" key=$LEAK_KEY\n```\n"))
	require.NoError(t, err)
	return rb
}

func TestEvidence_CollectedBeforeCleanupAndScrubbed(t *testing.T) {
	t.Setenv("LEAK_KEY", "AKIA-credential-value")
	rec := &fakeRecovery{}
	state := t.TempDir()
	clock := &fakeClock{t: t0}
	out, err := Run(context.Background(), testScenario(t, "4h"), Options{StateDir: state, DrillID: "fd-test", Now: clock.Now,
		Recovery: rec, Protection: &fakeProtection{}, Runbook: leakyRunbook(t), Secrets: secret.New("AKIA-credential-value")})
	require.NoError(t, err)
	rep := out.Report
	assert.Equal(t, PhasePassed, phaseStatus(rep, StepEvidence))
	dir := filepath.Join(state, "drills", "fd-test")
	assert.FileExists(t, filepath.Join(dir, "velero", "backup.json"))
	assert.FileExists(t, filepath.Join(dir, "restored", "objects.json"))
	log, err := os.ReadFile(filepath.Join(dir, "runbook", "01-leak.log"))
	require.NoError(t, err)
	assert.Contains(t, string(log), "password=[redacted] key=\n", "the restored Secret is redacted in the runbook output as it is written; the credential's variable never reaches the step")
	assertNowhere(t, dir, fakeSecret, "AKIA-credential-value")
	sc, err := os.ReadFile(filepath.Join(dir, "scenario.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(sc), "- shop", "a short Secret value (a user name that is also a namespace) is not scrubbed")
}

func assertNowhere(t *testing.T, dir string, values ...string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		for _, v := range values {
			assert.NotContains(t, string(b), v, p)
		}
		return nil
	}))
}

func TestEvidence_FailuresAreWarningsNotAFailedDrill(t *testing.T) {
	rep, _ := runDrill(t, context.Background(), testScenario(t, "4h"), &fakeRecovery{EvidenceErr: errors.New("list secrets: forbidden")}, &fakeProtection{}, nil)
	assert.Equal(t, ResultPass, rep.Result)
	var msgs []string
	for _, f := range rep.Findings {
		if f.ID == "evidence.collect" {
			msgs = append(msgs, f.Message)
		}
	}
	assert.Equal(t, []string{"evidence incomplete: list secrets: forbidden"}, msgs)

	// After a failed restore the step still runs.
	rep, _ = runDrill(t, context.Background(), testScenario(t, "4h"), &fakeRecovery{PartiallyFailed: true}, &fakeProtection{}, nil)
	assert.Equal(t, PhasePassed, phaseStatus(rep, StepEvidence))
}

func TestExportEvidence(t *testing.T) {
	rep, dir := runDrill(t, context.Background(), testScenario(t, "4h"), &fakeRecovery{}, &fakeProtection{}, nil)
	require.Equal(t, ResultPass, rep.Result)
	d, err := OpenDir(filepath.Dir(filepath.Dir(dir)), "fd-test")
	require.NoError(t, err)
	o := testKey(t)
	// A credential that reached a file of the drill is replaced on export.
	require.NoError(t, os.WriteFile(d.File("notes.txt"), []byte("endpoint creds: s3cr3t-from-env\n"), 0o644))
	o.Secrets = secret.New("s3cr3t-from-env")

	first, err := ExportEvidence(d, *o)
	require.NoError(t, err)
	second, err := ExportEvidence(d, *o)
	require.NoError(t, err)
	assert.Equal(t, first.Bundle, second.Bundle, "same drill, same bytes")
	assert.Equal(t, first.SHA256, second.SHA256)
	assert.False(t, bytes.Contains(evidencetest.Gunzip(t, first.Bundle), []byte("s3cr3t-from-env")))

	v, err := evidence.Verify(bytes.NewReader(first.Bundle), o.Key.Public().(ed25519PublicKey))
	require.NoError(t, err)
	assert.True(t, v.Intact(), "%+v", v.Problems)
	paths := []string{}
	for _, f := range first.Manifest.Files {
		paths = append(paths, f.Path)
	}
	for _, want := range []string{"index.json", "report.json", "report.md", "report.html", "retrospective.md", "scenario.yaml",
		"velero/backup.json", "restored/objects.json", "notes.txt"} {
		assert.Contains(t, paths, want)
	}

	holds := map[string]bool{}
	for _, p := range first.Index.Proofs {
		holds[p.ID] = p.Holds
	}
	assert.True(t, holds["restore-tested"])
	assert.False(t, holds["backups-immutable"], "the fake checked the bucket only: no canary, no object versions")
	assert.False(t, holds["offsite-copies-verified"], "the fake compared no copies")
	assert.False(t, holds["runbook-exercised"], "no runbook")
	assert.Contains(t, evidence.Supported(first.Index.Controls), "ISO/IEC 27001:2022 A.8.13")

	// The records of a bundle are never in one.
	require.NoError(t, d.RecordEvidence(EvidenceRecord{SHA256: first.SHA256}))
	require.NoError(t, os.WriteFile(d.File(EvidenceBundleFile), first.Bundle, 0o644))
	third, err := ExportEvidence(d, *o)
	require.NoError(t, err)
	assert.Equal(t, first.Bundle, third.Bundle)
	recs, err := d.EvidenceRecords()
	require.NoError(t, err)
	assert.Len(t, recs, 1)
}

func TestExportEvidence_RefusesARunningDrill(t *testing.T) {
	d, err := CreateDir(t.TempDir(), "fd-running")
	require.NoError(t, err)
	require.NoError(t, d.WriteReport(&Report{DrillID: "fd-running", Result: ResultRunning}))
	_, err = ExportEvidence(d, *testKey(t))
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "no result yet"), err.Error())
}

type ed25519PublicKey = ed25519.PublicKey

// A drill whose protection checks failed and whose restore never ran
// supports no control: a retrospective alone proves no recovery.
func TestIndexOf_NoRestoreNoControl(t *testing.T) {
	rep, dir := runDrill(t, context.Background(), testScenario(t, "4h"), &fakeRecovery{RestoreErr: errors.New("velero down")}, &fakeProtection{Fails: true}, nil)
	require.Equal(t, ResultError, rep.Result)
	d, err := OpenDir(filepath.Dir(filepath.Dir(dir)), "fd-test")
	require.NoError(t, err)
	files, err := d.FileNames()
	require.NoError(t, err)
	m, err := evidence.BuiltinMapping()
	require.NoError(t, err)
	idx := IndexOf(rep, files, m)
	assert.Empty(t, evidence.Supported(idx.Controls))
	for _, p := range idx.Proofs {
		if p.ID == "restore-tested" {
			assert.False(t, p.Holds)
			assert.Equal(t, "step error", p.Why)
		}
	}

	rep, dir = runDrill(t, context.Background(), testScenario(t, "1s"), &fakeRecovery{}, &fakeProtection{}, nil)
	require.Equal(t, ResultFail, rep.Result, "the RTO is missed")
	d, err = OpenDir(filepath.Dir(filepath.Dir(dir)), "fd-test")
	require.NoError(t, err)
	files, err = d.FileNames()
	require.NoError(t, err)
	idx = IndexOf(rep, files, m)
	assert.Empty(t, evidence.Supported(idx.Controls), "a drill that restored but failed supports no control")
	assert.True(t, proofOf(t, idx, "restore-tested").Holds, "its proofs still say what held")
}

func proofOf(t *testing.T, idx *evidence.Index, id string) evidence.Proof {
	t.Helper()
	for _, p := range idx.Proofs {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("no proof %s", id)
	return evidence.Proof{}
}

// completeDrill is the record of a drill that passed with every proof
// shown on complete evidence.
func completeDrill() *Report {
	verified := true
	phases := []Phase{}
	for _, s := range Steps() {
		phases = append(phases, Phase{Name: s, Status: PhasePassed, CountsTowardRTO: s.CountsTowardRTO()})
	}
	return &Report{DrillID: "fd-1", Scenario: "s", Result: ResultPass, Phases: phases, OrderVerified: &verified,
		RTO: Measure(time.Hour, time.Minute), RPO: Measure(time.Hour, time.Minute),
		Runbook: []runbooks.StepResult{{Name: "x", Status: runbooks.StepPassed}},
		Findings: []finding.Finding{
			finding.Pass("protection.bucket.object-lock", "s3://b", "locked"),
			finding.Pass("protection.backup.retention", "s3://b", "retained"),
			finding.Pass("protection.canary.delete", "s3://b", "refused"),
			finding.Pass("protection.copy.offsite", "s3://c", "same"),
		}}
}

// Controls are supported only by a drill that passed and whose required
// proofs hold on complete evidence; the index says which proof is missing
// and why (issue 14, item 10).
func TestIndexOf_ControlsOnlyOnCompleteEvidence(t *testing.T) {
	m, err := evidence.BuiltinMapping()
	require.NoError(t, err)
	files := []evidence.File{{Path: "retrospective.md"}}
	setPhase := func(r *Report, name StepName, status string) {
		for i := range r.Phases {
			if r.Phases[i].Name == name {
				r.Phases[i].Status = status
			}
		}
	}
	dropFindings := func(r *Report, prefix string) {
		r.Findings = slices.DeleteFunc(r.Findings, func(f finding.Finding) bool { return strings.HasPrefix(f.ID, prefix) })
	}
	const a12, a13 = "SOC 2 A1.2", "SOC 2 A1.3"
	tests := []struct {
		name   string
		change func(r *Report)
		// supported is how many of the 10 built-in controls; whyA12 and
		// whyA13 what the index says of two of them.
		supported      int
		whyA12, whyA13 string
	}{
		{"complete", func(*Report) {}, 10, "", ""},
		{"failed after its restore passed", func(r *Report) { r.Result = ResultFail }, 0,
			"the drill failed: only a drill that passed supports a control", "the drill failed: only a drill that passed supports a control"},
		{"errored after its restore passed", func(r *Report) { r.Result = ResultError; setPhase(r, StepRunbook, PhaseError) }, 0,
			"the drill ended in error: only a drill that passed supports a control", "the drill ended in error: only a drill that passed supports a control"},
		{"interrupted", func(r *Report) { r.Result = ResultInterrupted }, 0,
			"the drill was interrupted: only a drill that passed supports a control", "the drill was interrupted: only a drill that passed supports a control"},
		{"died (record left running)", func(r *Report) { r.Result = ResultRunning }, 0,
			"the drill has no result (still running, or its process died): only a drill that passed supports a control",
			"the drill has no result (still running, or its process died): only a drill that passed supports a control"},
		{"protection step error with partial findings", func(r *Report) { setPhase(r, StepProtection, PhaseError) }, 9,
			"required proof not shown: backups-immutable (step protection error: its findings are partial)", ""},
		{"no tamper canary", func(r *Report) { dropFindings(r, "protection.canary.") }, 9,
			"required proof not shown: backups-immutable (the tamper canary was not checked)", ""},
		{"backup retention not checked", func(r *Report) {
			dropFindings(r, "protection.backup.")
			r.Findings = append(r.Findings, finding.Warn("protection.backup.retention", "s3://b", "no backup chosen: not checked"))
		}, 9, "required proof not shown: backups-immutable (not passed: protection.backup.retention warn)", ""},
		{"evidence of the restore incomplete", func(r *Report) {
			r.Findings = append(r.Findings, finding.Warn("evidence.collect", "scratch cluster", "evidence incomplete: list secrets: forbidden"))
		}, 1, "", "required proof not shown: restore-tested (the evidence of the restore is incomplete (evidence.collect): " +
			"the Velero objects or what came back could not all be read)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := completeDrill()
			tt.change(rep)
			idx := IndexOf(rep, files, m)
			assert.Len(t, evidence.Supported(idx.Controls), tt.supported)
			for _, c := range idx.Controls {
				assert.Equal(t, c.Why == "", c.Supported, "%s: a control is supported exactly when nothing is missing", c.ID)
			}
			assert.Equal(t, tt.whyA12, byControl(t, idx, a12).Why)
			assert.Equal(t, tt.whyA13, byControl(t, idx, a13).Why)
		})
	}
}

func byControl(t *testing.T, idx *evidence.Index, id string) evidence.ControlSupport {
	t.Helper()
	for _, c := range idx.Controls {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no control %s", id)
	return evidence.ControlSupport{}
}

func TestKeepEvidence_PushesOnceToTheScenariosBucket(t *testing.T) {
	_, dir := runDrill(t, context.Background(), testScenario(t, "4h"), &fakeRecovery{}, &fakeProtection{}, nil)
	d, err := OpenDir(filepath.Dir(filepath.Dir(dir)), "fd-test")
	require.NoError(t, err)
	st := memstore.New()
	require.NoError(t, st.CreateBucket(context.Background(), "evidence", true))
	target := &EvidenceTarget{Store: st, Bucket: "evidence", Prefix: "team", FromScenario: true}
	o := KeepOptions{ExportOptions: *testKey(t), Target: target}

	k, err := KeepEvidence(context.Background(), d, o)
	require.NoError(t, err)
	require.NotNil(t, k.Pushed)
	assert.Equal(t, "team/unit/fd-test.evidence.tar.gz", k.Pushed.Key)
	assert.Equal(t, d.File(EvidenceBundleFile), k.File)

	again, err := KeepEvidence(context.Background(), d, o)
	require.NoError(t, err)
	assert.Equal(t, k.Pushed, again.Pushed, "the same bytes are already kept, locked")
	assert.Len(t, st.Writes(), 1, "pushed once")

	// Asked for on the command line, it is pushed again.
	target.FromScenario = false
	_, err = KeepEvidence(context.Background(), d, o)
	require.NoError(t, err)
	assert.Len(t, st.Writes(), 2)

	// A push that fails is recorded without a kept copy.
	st.OpErrors = map[string]error{"PutObject": objectstore.ErrAccessDenied}
	k, err = KeepEvidence(context.Background(), d, o)
	require.ErrorIs(t, err, objectstore.ErrAccessDenied)
	require.NotNil(t, k)
	assert.Nil(t, k.Pushed)
	recs, err := d.EvidenceRecords()
	require.NoError(t, err)
	require.Len(t, recs, 4)
	assert.Nil(t, recs[3].Pushed)
}

// TestIndexOf_RetentionWindowProof: retention-window-verified holds only
// when the window was read against a declared retention and each check its
// statement names ran and passed; warnings it does not claim (a missed
// run) leave it standing.
func TestIndexOf_RetentionWindowProof(t *testing.T) {
	m, err := evidence.BuiltinMapping()
	require.NoError(t, err)
	withWindow := func() *Report {
		r := completeDrill()
		r.Window = &backup.Window{Schedule: "nightly", RetentionSeconds: 7 * 86400, MaxRetentionSeconds: 30 * 86400}
		r.Findings = append(r.Findings,
			finding.Pass(backup.IDWindowShort, "schedule nightly", "reaches back 7d"),
			finding.Pass(backup.IDWindowGap, "schedule nightly", "worst gap 24h, within the RPO"),
			finding.Pass(backup.IDWindowUnlocked, "schedule nightly", "every object version is locked"),
			finding.Pass(backup.IDWindowPastMax, "schedule nightly", "nothing past maxRetention"))
		return r
	}
	replace := func(r *Report, f finding.Finding) {
		r.Findings = slices.DeleteFunc(r.Findings, func(g finding.Finding) bool { return g.ID == f.ID })
		r.Findings = append(r.Findings, f)
	}
	tests := []struct {
		name   string
		change func(r *Report)
		why    string
	}{
		{"complete", func(*Report) {}, ""},
		{"a missed run is not claimed", func(r *Report) {
			r.Findings = append(r.Findings, finding.Warn(backup.IDWindowMissedRun, "schedule nightly", "the run due 2026-11-19T01:00:00Z left no backup"))
		}, ""},
		{"no window", func(r *Report) { r.Window = nil },
			"the recovery window was not read (the scenario declares no objectives.retention, or has no schedule)"},
		{"no retention declared", func(r *Report) { r.Window.RetentionSeconds = 0 },
			"the scenario declares no objectives.retention: there was no window to verify"},
		{"gap over the RPO", func(r *Report) {
			replace(r, finding.Fail(backup.IDWindowGap, finding.SeverityFail, "schedule nightly", "worst gap 72h"))
		}, "not passed: window.gap fail"},
		{"lock not checked", func(r *Report) {
			r.Findings = slices.DeleteFunc(r.Findings, func(f finding.Finding) bool { return f.ID == backup.IDWindowUnlocked })
		}, "the object lock of the window's backups was not checked (window.unlocked)"},
		{"data past maxRetention", func(r *Report) {
			replace(r, finding.Fail(backup.IDWindowPastMax, finding.SeverityFail, "schedule nightly", "1 backup older than 30d"))
		}, "not passed: window.past-max-retention fail"},
		{"protection step error", func(r *Report) {
			for i := range r.Phases {
				if r.Phases[i].Name == StepProtection {
					r.Phases[i].Status = PhaseError
				}
			}
		}, "step protection error: its findings are partial"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := withWindow()
			tt.change(r)
			idx := IndexOf(r, []evidence.File{{Path: "report.json"}, {Path: "retrospective.md"}}, m)
			p := proofOf(t, idx, "retention-window-verified")
			assert.Equal(t, tt.why == "", p.Holds)
			assert.Equal(t, tt.why, p.Why)
			if tt.why == "" {
				assert.Equal(t, []string{"report.json"}, p.Files)
				assert.Contains(t, byControl(t, idx, "DORA Article 12").By, "retention-window-verified")
			}
		})
	}
}

// The in-toto predicate judges the RTO as report.json, history and
// evidence summary do: measured plus declared manual time (the README's
// "The RTO rule"), with both parts.
func TestExportEvidence_PredicateJudgesDeclaredManualTime(t *testing.T) {
	d, err := CreateDir(t.TempDir(), "fd-manual")
	require.NoError(t, err)
	start := time.Date(2026, 11, 22, 10, 15, 0, 0, time.UTC)
	rep := &Report{DrillID: "fd-manual", Scenario: "region-loss", Result: ResultFail,
		StartedAt: start, FinishedAt: start.Add(20 * time.Minute),
		// 8m30s measured meets a 10m objective; with 2m declared it is missed.
		RTO: WithDeclaredManual(Measure(10*time.Minute, 510*time.Second), 120),
		RPO: Measure(time.Hour, 5*time.Minute)}
	require.NoError(t, d.WriteReport(rep))
	privPEM, pubPEM, err := evidence.GenerateKey()
	require.NoError(t, err)
	priv, err := evidence.ParsePrivateKey(privPEM)
	require.NoError(t, err)

	exp, err := ExportEvidence(d, ExportOptions{Key: priv, Version: "test"})
	require.NoError(t, err)
	st := evidencetest.VerifyInToto(t, exp.Bundle, pubPEM, evidence.StatementName)
	assert.Equal(t, map[string]any{"objective_seconds": 600.0, "measured_seconds": 510.0,
		"declared_manual_seconds": 120.0, "total_seconds": 630.0, "status": "missed"}, st.Predicate["rto"])
	assert.Equal(t, map[string]any{"objective_seconds": 3600.0, "measured_seconds": 300.0,
		"total_seconds": 300.0, "status": "met"}, st.Predicate["rpo"], "no manual time: the total is the measurement")
	assert.Equal(t, "2026-11-22T10:15:00Z", st.Predicate["started_at"], "report.json's keys")
	assert.Equal(t, "2026-11-22T10:35:00Z", st.Predicate["finished_at"])
}
