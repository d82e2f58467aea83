// Package recordtest is the conformance suite of drill.Records: the
// behaviour the commands (history, due, evidence summary) and the drill's
// uploads rely on, run against drill.LocalRecords and against
// drill.S3Records on memstore in unit tests, and on the lab's MinIO in the
// e2e tests, as internal/objectstore/storetest does for object stores.
//
// The suite reads records written by earlier versions of firedrill
// (testdata/v0.1 and v0.2, embedded), so a change to the Report type that breaks
// them fails here.
package recordtest

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/finding"
)

// Suite runs the conformance tests. New returns an empty Records for one
// subtest (a fresh state directory, a bucket or prefix of its own).
type Suite struct {
	New func(t *testing.T) drill.Records
}

// Run runs every test of the suite as a subtest of t.
func (s Suite) Run(t *testing.T) {
	t.Run("RoundTrip", s.roundTrip)
	t.Run("ReplaceWhole", s.replaceWhole)
	t.Run("NotRecorded", s.notRecorded)
	t.Run("ListOnlyDrillsWithARecord", s.listOnlyDrillsWithARecord)
	t.Run("NamesOutsideTheDrillRefused", s.namesOutsideTheDrillRefused)
	t.Run("ReportsNewestFirstFiltered", s.reportsNewestFirstFiltered)
	t.Run("DamagedRecordHidesNothing", s.damagedRecordHidesNothing)
	t.Run("EvidenceRecords", s.evidenceRecords)
	t.Run("RecordsOfEarlierVersions", s.recordsOfEarlierVersions)
	t.Run("CopyFiles", s.copyFiles)
	t.Run("HeartbeatDeadDrillsSettled", s.heartbeatDeadDrillsSettled)
}

// heartbeatDeadDrillsSettled: the heartbeat of a running record reads back
// whole, and ListReports shows a record whose heartbeat stopped more than
// three intervals ago as died, in the step it died in, and a record
// renewed just now as running (issue 18).
func (s Suite) heartbeatDeadDrillsSettled(t *testing.T) {
	rs := s.New(t)
	ctx := ctxFor(t)
	now := time.Now().UTC().Truncate(time.Second)
	writeReport(t, rs, &drill.Report{DrillID: "fd-dead", Scenario: "a", StartedAt: t0, Result: drill.ResultRunning,
		Heartbeat: &drill.Heartbeat{At: t0.Add(time.Minute), IntervalSeconds: 30, Step: drill.StepRestore, Host: "runner-1", PID: 7}})
	writeReport(t, rs, &drill.Report{DrillID: "fd-live", Scenario: "a", StartedAt: now, Result: drill.ResultRunning,
		Heartbeat: &drill.Heartbeat{At: now, IntervalSeconds: 3600, Step: drill.StepVerify, Host: "runner-2", PID: 8}})
	raw, err := drill.ReadReport(ctx, rs, "fd-dead")
	require.NoError(t, err)
	assert.Equal(t, drill.ResultRunning, raw.Result, "ReadReport gives the record as written")
	assert.Equal(t, &drill.Heartbeat{At: t0.Add(time.Minute), IntervalSeconds: 30, Step: drill.StepRestore, Host: "runner-1", PID: 7}, withUTC(raw.Heartbeat))

	all, err := drill.ListReports(ctx, rs, "a")
	require.NoError(t, err)
	require.Equal(t, []string{"fd-live", "fd-dead"}, drillIDs(all))
	assert.Equal(t, drill.ResultRunning, all[0].Result)
	assert.Equal(t, drill.ResultDied, all[1].Result)
	assert.Equal(t, drill.StepRestore, all[1].ErrorStep)
	assert.Contains(t, all[1].Error, "no heartbeat since 2026-11-22T10:01:00Z (process 7 on runner-1")
}

func withUTC(h *drill.Heartbeat) *drill.Heartbeat {
	if h != nil {
		h.At = h.At.UTC()
	}
	return h
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func write(t *testing.T, rs drill.Records, id, name, data string) {
	t.Helper()
	require.NoError(t, rs.WriteFile(ctxFor(t), id, name, []byte(data)), "write %s of %s", name, id)
}

func writeReport(t *testing.T, rs drill.Records, r *drill.Report) {
	t.Helper()
	b, err := json.MarshalIndent(r, "", "  ")
	require.NoError(t, err)
	write(t, rs, r.DrillID, drill.ReportFile, string(b))
}

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func (s Suite) roundTrip(t *testing.T) {
	rs := s.New(t)
	ctx := ctxFor(t)
	files := map[string]string{
		"report.json":                `{"drill_id": "fd-a"}`,
		"report.md":                  "# drill fd-a\n",
		"runbook/01-restore.log":     "# step restore\nok\n",
		"velero/backup.json":         "{}",
		"velero/restores/phase.json": "[]",
		"empty.txt":                  "",
	}
	for name, data := range files {
		write(t, rs, "fd-a", name, data)
	}
	for name, data := range files {
		got, err := rs.ReadFile(ctx, "fd-a", name)
		require.NoError(t, err, name)
		assert.Equal(t, data, string(got), name)
	}
	names, err := rs.Files(ctx, "fd-a")
	require.NoError(t, err)
	assert.Equal(t, []string{"empty.txt", "report.json", "report.md", "runbook/01-restore.log", "velero/backup.json", "velero/restores/phase.json"}, names,
		"every file, by name, in ascending byte order")
	ids, err := rs.List(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"fd-a"}, ids)
	assert.True(t, strings.HasSuffix(rs.URL("fd-a", "runbook/01-restore.log"), "fd-a/runbook/01-restore.log"), rs.URL("fd-a", "runbook/01-restore.log"))
}

func (s Suite) replaceWhole(t *testing.T) {
	rs := s.New(t)
	write(t, rs, "fd-a", "report.json", `{"result": "running", "padding": "a longer first version of the record"}`)
	write(t, rs, "fd-a", "report.json", `{"result": "pass"}`)
	got, err := rs.ReadFile(ctxFor(t), "fd-a", "report.json")
	require.NoError(t, err)
	assert.Equal(t, `{"result": "pass"}`, string(got), "the second write replaces the first whole")
	names, err := rs.Files(ctxFor(t), "fd-a")
	require.NoError(t, err)
	assert.Equal(t, []string{"report.json"}, names, "no temporary file is left or listed")
}

func (s Suite) notRecorded(t *testing.T) {
	rs := s.New(t)
	ctx := ctxFor(t)
	ids, err := rs.List(ctx)
	require.NoError(t, err, "an empty location lists no drills")
	assert.Empty(t, ids)

	_, err = rs.ReadFile(ctx, "fd-missing", "report.json")
	assert.ErrorIs(t, err, fs.ErrNotExist, "a drill not recorded")
	write(t, rs, "fd-a", "report.json", "{}")
	_, err = rs.ReadFile(ctx, "fd-a", "report.md")
	assert.ErrorIs(t, err, fs.ErrNotExist, "a file the drill does not have")
	_, err = drill.ReadReport(ctx, rs, "fd-missing")
	assert.ErrorIs(t, err, fs.ErrNotExist)

	names, err := rs.Files(ctx, "fd-missing")
	require.NoError(t, err)
	assert.Empty(t, names)
	// fd-a's files are not fd-ab's: the drill's folder is a folder, not a
	// name prefix.
	write(t, rs, "fd-ab", "report.md", "x")
	names, err = rs.Files(ctx, "fd-a")
	require.NoError(t, err)
	assert.Equal(t, []string{"report.json"}, names)
}

func (s Suite) listOnlyDrillsWithARecord(t *testing.T) {
	rs := s.New(t)
	write(t, rs, "fd-c", "report.json", "{}")
	write(t, rs, "fd-a", "report.json", "{}")
	write(t, rs, "fd-a", "report.md", "x")
	write(t, rs, "fd-b", "report.md", "only the rendered report")
	write(t, rs, "fd-d", "runbook/report.json", "a report.json deeper down is not the record")
	ids, err := rs.List(ctxFor(t))
	require.NoError(t, err)
	assert.Equal(t, []string{"fd-a", "fd-c"}, ids, "drills with report.json, ascending, each once")
}

func (s Suite) namesOutsideTheDrillRefused(t *testing.T) {
	rs := s.New(t)
	ctx := ctxFor(t)
	for _, tc := range []struct{ id, name string }{
		{"../fd-a", "report.json"},
		{"fd-A", "report.json"},
		{"", "report.json"},
		{"fd-a/x", "report.json"},
		{"fd-a", "../fd-b/report.json"},
		{"fd-a", "/report.json"},
		{"fd-a", "runbook/../../fd-b/report.json"},
		{"fd-a", "./report.json"},
		{"fd-a", ""},
		{"fd-a", `runbook\01.log`},
	} {
		t.Run(fmt.Sprintf("%s|%s", tc.id, tc.name), func(t *testing.T) {
			assert.Error(t, rs.WriteFile(ctx, tc.id, tc.name, []byte("{}")))
			_, err := rs.ReadFile(ctx, tc.id, tc.name)
			assert.Error(t, err)
			assert.NotErrorIs(t, err, fs.ErrNotExist, "refused, not looked up")
		})
	}
	ids, err := rs.List(ctx)
	require.NoError(t, err)
	assert.Empty(t, ids, "nothing was written")
	for _, id := range []string{"fd-a", "fd-b"} {
		names, err := rs.Files(ctx, id)
		require.NoError(t, err)
		assert.Empty(t, names, "nothing was written for %s", id)
	}
	_, err = rs.Files(ctx, "../x")
	assert.Error(t, err)
}

func (s Suite) reportsNewestFirstFiltered(t *testing.T) {
	rs := s.New(t)
	ctx := ctxFor(t)
	// Started out of id order: the listing sorts by started_at, not id.
	for i, d := range []struct {
		id, scenario string
		ago          time.Duration
	}{
		{"fd-1", "a", 3 * time.Hour},
		{"fd-2", "b", 1 * time.Hour},
		{"fd-3", "a", 5 * time.Hour},
		{"fd-4", "a", 0},
		{"fd-5", "b", 4 * time.Hour},
	} {
		writeReport(t, rs, &drill.Report{Schema: drill.ReportSchema, DrillID: d.id, Scenario: d.scenario, StartedAt: t0.Add(-d.ago),
			Result: drill.ResultPass, Findings: []finding.Finding{}, Phases: []drill.Phase{{Name: drill.StepRestore, Status: drill.PhasePassed}}})
		write(t, rs, d.id, "report.md", fmt.Sprintf("# %d", i))
	}
	all, err := drill.ListReports(ctx, rs, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"fd-4", "fd-2", "fd-1", "fd-5", "fd-3"}, drillIDs(all), "newest first")
	assert.Equal(t, t0, all[0].StartedAt.UTC())
	assert.Equal(t, drill.StepRestore, all[0].Phases[0].Name, "decoded whole")

	onlyA, err := drill.ListReports(ctx, rs, "a")
	require.NoError(t, err)
	assert.Equal(t, []string{"fd-4", "fd-1", "fd-3"}, drillIDs(onlyA))
	none, err := drill.ListReports(ctx, rs, "c")
	require.NoError(t, err)
	assert.Empty(t, none)
}

func drillIDs(rs []*drill.Report) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.DrillID
	}
	return ids
}

func (s Suite) damagedRecordHidesNothing(t *testing.T) {
	rs := s.New(t)
	writeReport(t, rs, &drill.Report{DrillID: "fd-a", Scenario: "a", StartedAt: t0, Result: drill.ResultPass})
	write(t, rs, "fd-broken", "report.json", "{not json")
	writeReport(t, rs, &drill.Report{DrillID: "fd-c", Scenario: "a", StartedAt: t0.Add(time.Hour), Result: drill.ResultFail})
	all, err := drill.ListReports(ctxFor(t), rs, "")
	require.Error(t, err, "the damaged record is reported")
	assert.Contains(t, err.Error(), rs.URL("fd-broken", "report.json"), "the error names the damaged record")
	assert.Equal(t, []string{"fd-c", "fd-a"}, drillIDs(all), "and it hides no other")
}

func (s Suite) evidenceRecords(t *testing.T) {
	rs := s.New(t)
	ctx := ctxFor(t)
	writeReport(t, rs, &drill.Report{DrillID: "fd-a", Scenario: "a", StartedAt: t0, Result: drill.ResultPass})
	recs, err := drill.ReadEvidenceRecords(ctx, rs, "fd-a")
	require.NoError(t, err, "a drill never exported")
	assert.Nil(t, recs)

	want := []drill.EvidenceRecord{{SHA256: "ab12", Size: 10, SignedBy: "ed25519:k", ExportedAt: t0, Controls: []string{"c1"}}}
	b, err := json.Marshal(want)
	require.NoError(t, err)
	write(t, rs, "fd-a", drill.EvidenceRecordFile, string(b))
	recs, err = drill.ReadEvidenceRecords(ctx, rs, "fd-a")
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, "ab12", recs[0].SHA256)
	assert.Equal(t, t0, recs[0].ExportedAt.UTC())

	write(t, rs, "fd-a", drill.EvidenceRecordFile, "[{")
	_, err = drill.ReadEvidenceRecords(ctx, rs, "fd-a")
	require.Error(t, err)
	assert.Contains(t, err.Error(), rs.URL("fd-a", drill.EvidenceRecordFile))

}

//go:embed testdata
var earlier embed.FS

// recordsOfEarlierVersions writes the files of drills recorded by
// firedrill 0.1 (report.json before error_step existed, evidence.json of
// the first evidence push) and 0.2 (report schema v1: runbook steps with
// duration_ns, times in the local zone) as they are, and reads them back.
func (s Suite) recordsOfEarlierVersions(t *testing.T) {
	rs := s.New(t)
	ctx := ctxFor(t)
	require.NoError(t, fs.WalkDir(earlier, "testdata", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := earlier.ReadFile(p)
		if err != nil {
			return err
		}
		_, drillFile, _ := strings.Cut(strings.TrimPrefix(p, "testdata/"), "/") // v0.1/ID/FILE
		id, name, _ := strings.Cut(drillFile, "/")
		return rs.WriteFile(ctx, id, path.Clean(name), b)
	}))

	all, err := drill.ListReports(ctx, rs, "region-loss")
	require.NoError(t, err)
	require.Len(t, all, 2)

	errored, passed := all[0], all[1]
	assert.Equal(t, "fd-20261123-090000-0b1c", errored.DrillID)
	assert.Equal(t, drill.ResultError, errored.Result)
	assert.Equal(t, "reach the target cluster: connection refused", errored.Error)
	assert.Empty(t, errored.ErrorStep, "0.1 did not record the step")
	assert.Nil(t, errored.RTO.MeasuredSeconds)
	assert.Equal(t, drill.ObjectiveNotMeasured, errored.RTO.Status)
	assert.Equal(t, 3600.0, errored.RTO.ObjectiveSeconds)
	assert.Nil(t, errored.OrderVerified)

	assert.Equal(t, "fd-20261122-174512-3f9a", passed.DrillID)
	assert.Equal(t, "firedrill.dev/report/v1", passed.Schema, "a record keeps the schema it was written with")
	assert.Equal(t, drill.ResultPass, passed.Result)
	assert.Equal(t, time.Date(2026, 11, 22, 17, 45, 12, 123456789, time.UTC), passed.StartedAt.UTC())
	require.NotNil(t, passed.RTO.MeasuredSeconds)
	assert.Equal(t, 412.5, *passed.RTO.MeasuredSeconds)
	assert.Equal(t, drill.ObjectiveMet, passed.RPO.Status)
	require.Len(t, passed.Findings, 2)
	assert.Equal(t, finding.StatusFail, passed.Findings[1].Status)
	assert.Equal(t, "restore.order", passed.Findings[1].ID)
	require.NotNil(t, passed.Backup)
	assert.Equal(t, "daily-20261122", passed.Backup.Name)
	require.NotNil(t, passed.OrderVerified)
	assert.True(t, *passed.OrderVerified)

	recs, err := drill.ReadEvidenceRecords(ctx, rs, passed.DrillID)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, []string{"soc2-a1.3", "iso27001-a.8.13"}, recs[0].Controls)
	require.NotNil(t, recs[0].Pushed)
	assert.Equal(t, "s3://dr-evidence/shop/fd-20261122-174512-3f9a.tar.gz", recs[0].Pushed.URL)
	require.NotNil(t, recs[0].Pushed.RetainUntil)
	assert.Equal(t, time.Date(2033, 11, 22, 17, 53, 0, 0, time.UTC), recs[0].Pushed.RetainUntil.UTC())

	v02, err := drill.ListReports(ctx, rs, "failed-upgrade-rollback")
	require.NoError(t, err)
	require.Len(t, v02, 1)
	rb := v02[0]
	assert.Equal(t, time.Date(2026, 11, 24, 10, 15, 0, 500_000_000, time.UTC), rb.StartedAt.UTC(), "a time with a zone offset")
	require.Len(t, rb.Checks, 1)
	assert.Equal(t, 12.5, rb.Checks[0].DurationSeconds)
	require.Len(t, rb.Runbook, 2)
	assert.Equal(t, 81250*time.Millisecond, rb.Runbook[0].Duration, "duration_ns of report schema v1")
	assert.Equal(t, "release shop rolled back to revision 41\n", rb.Runbook[0].Output)
	assert.Equal(t, 12, rb.Runbook[0].Line)
	assert.Equal(t, time.Duration(0), rb.Runbook[1].Duration)

	// Written again, the record carries the current keys only, and reads
	// back the same.
	writeReport(t, rs, rb)
	b, err := rs.ReadFile(ctx, rb.DrillID, drill.ReportFile)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "duration_ns")
	assert.Contains(t, string(b), `"duration_seconds": 81.25`)
	again, err := drill.ReadReport(ctx, rs, rb.DrillID)
	require.NoError(t, err)
	assert.Equal(t, rb.Runbook, again.Runbook)
}

// CopyFiles copies each file from one Records to another as it is,
// skipping those from does not hold. The suite's Records is the target;
// the source is a LocalRecords.
func (s Suite) copyFiles(t *testing.T) {
	rs := s.New(t)
	ctx := ctxFor(t)
	from := drill.LocalRecords{StateDir: t.TempDir()}
	require.NoError(t, from.WriteFile(ctx, "fd-a", drill.ReportFile, []byte(`{"drill_id": "fd-a"}`)))
	require.NoError(t, from.WriteFile(ctx, "fd-a", "runbook/01-x.log", []byte("log")))
	require.NoError(t, drill.CopyFiles(ctx, from, rs, "fd-a", drill.ReportFile, drill.EvidenceRecordFile, "runbook/01-x.log"))
	names, err := rs.Files(ctx, "fd-a")
	require.NoError(t, err)
	assert.Equal(t, []string{"report.json", "runbook/01-x.log"}, names, "evidence.json, absent from the source, is skipped")
	b, err := rs.ReadFile(ctx, "fd-a", "runbook/01-x.log")
	require.NoError(t, err)
	assert.Equal(t, "log", string(b))
	assert.Error(t, drill.CopyFiles(ctx, from, rs, "fd-a", "../x"), "a name outside the drill is still refused")
}
