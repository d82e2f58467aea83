package drill

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/evidence"
	"github.com/firedrill-dev/firedrill/internal/evidence/evidencetest"
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
	rep, err := Run(context.Background(), testScenario(t, "4h"), Options{StateDir: state, DrillID: "fd-test", Now: clock.Now,
		Recovery: rec, Protection: &fakeProtection{}, Runbook: leakyRunbook(t), Secrets: secret.New("AKIA-credential-value")})
	require.NoError(t, err)
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
	assert.True(t, holds["backups-immutable"])
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
	sup := evidence.Supported(IndexOf(rep, files, m).Controls)
	assert.Contains(t, sup, "SOC 2 A1.3", "a drill that restored but missed its RTO still tested recovery")
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
