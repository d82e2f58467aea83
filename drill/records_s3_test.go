package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/internal/objectstore/memstore"
)

var _ HistoryStore = (*memstore.Store)(nil)

func sharedHistory(t *testing.T) (*S3Records, *memstore.Store) {
	t.Helper()
	st := memstore.New()
	require.NoError(t, st.CreateBucket(context.Background(), "team-drills", false))
	return &S3Records{Store: st, Bucket: "team-drills", Prefix: "team"}, st
}

func runSharedDrill(t *testing.T, h Records) (*Report, string) {
	t.Helper()
	state := t.TempDir()
	clock := &fakeClock{t: t0}
	out, err := Run(context.Background(), testScenario(t, "4h"), Options{StateDir: state, DrillID: "fd-test", Now: clock.Now,
		Recovery: &fakeRecovery{}, Protection: &fakeProtection{}, History: h})
	require.NoError(t, err)
	rep := out.Report
	return rep, filepath.Join(state, "drills", "fd-test")
}

func countWrites(writes []string, suffix string) int {
	n := 0
	for _, w := range writes {
		if strings.HasSuffix(w, suffix) {
			n++
		}
	}
	return n
}

func TestRun_SharedHistoryGetsTheRecordAfterEachStep(t *testing.T) {
	h, st := sharedHistory(t)
	rep, dir := runSharedDrill(t, h)
	require.Equal(t, ResultPass, rep.Result, "phases: %+v", rep.Phases)

	// Once at the start, after each of the 9 steps run, once at the end.
	assert.Equal(t, 11, countWrites(st.Writes(), "s3://team-drills/team/drills/fd-test/report.json"), "writes: %v", st.Writes())
	for _, name := range reportFiles {
		local, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		var shared bytes.Buffer
		_, err = st.ReadObject(context.Background(), "team-drills", "team/drills/fd-test/"+name, "", &shared)
		require.NoError(t, err, name)
		assert.Equal(t, string(local), shared.String(), "%s in the bucket is the final local one", name)
	}
	for _, f := range rep.Findings {
		assert.NotEqual(t, "history.upload", f.ID)
	}
}

func TestRun_SharedHistoryFailureIsOneWarningAndTheDrillPasses(t *testing.T) {
	h, st := sharedHistory(t)
	st.OpErrors = map[string]error{"PutObject": objectstore.ErrAccessDenied}
	rep, dir := runSharedDrill(t, h)

	assert.Equal(t, ResultPass, rep.Result, "an upload failure does not fail the drill")
	var warns []finding.Finding
	for _, f := range rep.Findings {
		if f.ID == "history.upload" {
			warns = append(warns, f)
		}
	}
	require.Len(t, warns, 1, "one warning however many uploads failed")
	assert.Equal(t, finding.StatusWarn, warns[0].Status)
	assert.Equal(t, "s3://team-drills/team", warns[0].Subject)
	assert.Contains(t, warns[0].Message, "mem://", "names the endpoint")
	assert.Contains(t, warns[0].Message, "team-drills", "names the bucket")
	assert.Equal(t, 2, st.Calls()["PutObject"], "after the first failure only the final upload is tried")

	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	assert.Contains(t, string(b), `"history.upload"`, "the local record keeps the warning")
}

func putReport(t *testing.T, st *memstore.Store, key string, r *Report) {
	t.Helper()
	b, err := json.Marshal(r)
	require.NoError(t, err)
	_, err = st.PutObject(context.Background(), "team-drills", key, b, objectstore.PutOptions{})
	require.NoError(t, err)
}

func TestS3Records_ReportsNewestFirstFilteredAndDamagedRecordsHideNothing(t *testing.T) {
	h, st := sharedHistory(t)
	st.PageSize = 2 // several pages
	for i, sc := range []string{"a", "b", "a"} {
		id := "fd-" + strings.Repeat("x", i+1)
		putReport(t, st, "team/drills/"+id+"/report.json", &Report{DrillID: id, Scenario: sc, StartedAt: t0.Add(time.Duration(i) * time.Hour), Result: ResultPass})
		_, err := st.PutObject(context.Background(), "team-drills", "team/drills/"+id+"/report.md", []byte("# md"), objectstore.PutOptions{})
		require.NoError(t, err)
	}
	putReport(t, st, "other/drills/fd-other/report.json", &Report{DrillID: "fd-other", Scenario: "a", StartedAt: t0.Add(9 * time.Hour)})
	_, err := st.PutObject(context.Background(), "team-drills", "team/drills/fd-broken/report.json", []byte("{not json"), objectstore.PutOptions{})
	require.NoError(t, err)

	all, err := ListReports(context.Background(), h, "")
	require.Error(t, err, "the damaged record is reported")
	assert.Contains(t, err.Error(), "s3://team-drills/team/drills/fd-broken/report.json")
	require.Len(t, all, 3, "the damaged record hides no other")
	assert.Equal(t, []string{"fd-xxx", "fd-xx", "fd-x"}, []string{all[0].DrillID, all[1].DrillID, all[2].DrillID})

	onlyA, _ := ListReports(context.Background(), h, "a")
	require.Len(t, onlyA, 2)
	assert.Equal(t, "fd-xxx", onlyA[0].DrillID)
}

func TestS3Records_MissingBucketNamesEndpointAndBucket(t *testing.T) {
	h, _ := sharedHistory(t)
	h.Bucket = "nope"
	_, err := ListReports(context.Background(), h, "")
	require.ErrorIs(t, err, objectstore.ErrNoSuchBucket)
	assert.Contains(t, err.Error(), "s3://nope/team")
	assert.Contains(t, err.Error(), "mem://")
}

func TestParseHistoryURL(t *testing.T) {
	for _, tc := range []struct {
		in, bucket, prefix string
		wantErr            bool
	}{
		{in: "s3://b/team", bucket: "b", prefix: "team"},
		{in: "s3://b/team/drills-x/", bucket: "b", prefix: "team/drills-x"},
		{in: "s3://b", bucket: "b"},
		{in: "s3://b/", bucket: "b"},
		{in: "b/team", wantErr: true},
		{in: "s3:///team", wantErr: true},
		{in: "s3://key:secret@b/team", wantErr: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			b, p, err := ParseHistoryURL(tc.in)
			if tc.wantErr {
				require.Error(t, err)
				assert.NotContains(t, err.Error(), "secret@", "never echo credentials")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.bucket, b)
			assert.Equal(t, tc.prefix, p)
		})
	}
}

// TestParseEvidenceURL: the same URLs, and errors that name the evidence
// bucket and its own credential variables, not the shared history's.
func TestParseEvidenceURL(t *testing.T) {
	b, p, err := ParseEvidenceURL("s3://dr-evidence/shop/")
	require.NoError(t, err)
	assert.Equal(t, "dr-evidence", b)
	assert.Equal(t, "shop", p)
	_, _, err = ParseEvidenceURL("s3://key:secret@dr-evidence/shop")
	assert.EqualError(t, err, "evidence bucket: credentials in the URL are not accepted; set FIREDRILL_EVIDENCE_ACCESS_KEY_ID and FIREDRILL_EVIDENCE_SECRET_ACCESS_KEY")
	_, _, err = ParseEvidenceURL("dr-evidence/shop")
	assert.EqualError(t, err, `evidence bucket "dr-evidence/shop": want s3://BUCKET/PREFIX`)
}

// TestRun_SharedHistoryInTheBackupBucketIsRefusedByTheWriteGuard: a shared
// history pointed at the scenario's backup bucket on its own server gets
// no byte of the drill's record (issue 15, section 2): Run refuses it
// before the drill starts, and, should a history hide what it is, the
// drill's write guard refuses every upload, the refusal is a finding, and
// the bucket stays empty.
func TestRun_SharedHistoryInTheBackupBucketIsRefusedByTheWriteGuard(t *testing.T) {
	sc := testScenario(t, "4h")
	st := memstore.New()
	st.EndpointURL = "http://localhost:1/" // the primary's http://127.0.0.1:1, written another way
	require.NoError(t, st.CreateBucket(context.Background(), "velero-backups", true))
	st.WriteGuard = WriteGuard(sc)
	h := &S3Records{Store: st, Endpoint: st.EndpointURL, Bucket: "velero-backups", Prefix: "team"}

	state := t.TempDir()
	out, err := Run(context.Background(), sc, Options{StateDir: state, DrillID: "fd-test", Recovery: &fakeRecovery{}, History: h})
	var bb *BackupBucketError
	require.ErrorAs(t, err, &bb)
	assert.Nil(t, out)
	assert.Equal(t, "the shared history s3://velero-backups/team is the backup bucket of scenario unit (spec.storage.primary): a drill never writes into a backup bucket", err.Error())
	assert.NoDirExists(t, filepath.Join(state, "drills", "fd-test"), "refused before the drill starts")

	// A Records that is not an *S3Records: only the write guard stands.
	rep, _ := runSharedDrill(t, struct{ Records }{h})

	var f *finding.Finding
	for i := range rep.Findings {
		if rep.Findings[i].ID == "history.upload" {
			f = &rep.Findings[i]
		}
	}
	require.NotNil(t, f, "findings: %+v", rep.Findings)
	assert.Equal(t, finding.StatusWarn, f.Status)
	assert.Contains(t, f.Message, "refused by firedrill's write guard")
	assert.Contains(t, f.Message, "s3://velero-backups is the backup bucket of scenario unit (spec.storage.primary)")
	p, err := st.ListObjects(context.Background(), "velero-backups", objectstore.ListRequest{})
	require.NoError(t, err)
	assert.Empty(t, p.Objects, "nothing written into the backup bucket")
}

func TestWriteGuard_Scenario(t *testing.T) {
	sc := testScenario(t, "4h")
	g := WriteGuard(sc)
	assert.ErrorIs(t, g.Check("PutObject", "http://127.0.0.1:1", "velero-backups", "firedrill-canary/x"), objectstore.ErrWriteRefused,
		"the canary prefix is the canary's alone")
	assert.NoError(t, g.AllowPrefix("http://127.0.0.1:1", "velero-backups", "firedrill-canary/").
		Check("PutObject", "http://127.0.0.1:1", "velero-backups", "firedrill-canary/x"))
	assert.NoError(t, g.Check("PutObject", "http://127.0.0.1:1", "dr-drills", "team/x"))
	assert.NoError(t, WriteGuard(nil).Check("PutObject", "http://127.0.0.1:1", "velero-backups", "x"))
}
