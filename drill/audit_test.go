package drill_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/evidence"
	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/objectstore/memstore"
)

func seconds(s float64) *float64 { return &s }

func TestRTOTrend(t *testing.T) {
	// Each report is an hour older than the one made before it: r first,
	// then its older drills, newest first, as ListReports gives them.
	n := 0
	rep := func(scenario string, rto *float64) *drill.Report {
		n++
		return &drill.Report{DrillID: fmt.Sprintf("fd-%d", n), Scenario: scenario, StartedAt: auditT0.Add(-time.Duration(n) * time.Hour),
			Result: drill.ResultPass, RTO: drill.Objective{MeasuredSeconds: rto, ObjectiveSeconds: 3600}}
	}
	// manual is rep with declared manual time: judged on the total.
	manual := func(scenario string, rto, declared float64) *drill.Report {
		r := rep(scenario, seconds(rto))
		r.RTO = drill.WithDeclaredManual(r.RTO, declared)
		return r
	}
	for _, tt := range []struct {
		name  string
		r     *drill.Report
		older []*drill.Report
		want  string
		// change is RTOChange: seconds, positive slower; nil none.
		change *float64
	}{
		{"faster", rep("a", seconds(100)), []*drill.Report{rep("a", seconds(112))}, "faster by 12.0s", seconds(-12)},
		{"slower", rep("a", seconds(103.5)), []*drill.Report{rep("a", seconds(100))}, "slower by 3.5s", seconds(3.5)},
		{"same within half a second", rep("a", seconds(100.5)), []*drill.Report{rep("a", seconds(100))}, "same", seconds(0.5)},
		{"minutes read as minutes", rep("a", seconds(250)), []*drill.Report{rep("a", seconds(100))}, "slower by 2m30s", seconds(150)},
		{"just over half a second", rep("a", seconds(100)), []*drill.Report{rep("a", seconds(100.6))}, "faster by 600ms", seconds(-0.6)},
		{"the latest older drill of the same scenario that measured one",
			rep("a", seconds(100)), []*drill.Report{rep("b", seconds(10)), rep("a", nil), rep("a", seconds(90)), rep("a", seconds(500))}, "slower by 10.0s", seconds(10)},
		{"no older drill measured one", rep("a", seconds(100)), []*drill.Report{rep("a", nil), rep("b", seconds(50))}, "", nil},
		{"this drill measured none", rep("a", nil), []*drill.Report{rep("a", seconds(100))}, "", nil},
		{"declared manual time counts in this drill", manual("a", 100, 60), []*drill.Report{rep("a", seconds(150))}, "slower by 10.0s", seconds(10)},
		{"declared manual time counts in the older drill", rep("a", seconds(150)), []*drill.Report{manual("a", 100, 60)}, "faster by 10.0s", seconds(-10)},
		{"a running drill is not compared with", rep("a", seconds(100)), []*drill.Report{func() *drill.Report {
			r := rep("a", seconds(10))
			r.Result = drill.ResultRunning
			return r
		}(), rep("a", seconds(90))}, "slower by 10.0s", seconds(10)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, drill.RTOTrend(tt.r, tt.older))
			got := drill.RTOChange(tt.r, tt.older)
			if tt.change == nil {
				assert.Nil(t, got)
				return
			}
			require.NotNil(t, got)
			assert.InDelta(t, *tt.change, *got, 1e-9)
		})
	}
}

var auditT0 = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

// passedRecord is a drill whose every step, proof and finding passed,
// with the result given.
func passedRecord(id, scenario string, at time.Time, result drill.Result) *drill.Report {
	verified := true
	var phases []drill.Phase
	for _, s := range drill.Steps() {
		phases = append(phases, drill.Phase{Name: s, Status: drill.PhasePassed, CountsTowardRTO: s.CountsTowardRTO()})
	}
	return &drill.Report{DrillID: id, Scenario: scenario, StartedAt: at, Result: result, Phases: phases,
		OrderVerified: &verified, RTO: drill.Measure(4*time.Hour, time.Hour), RPO: drill.Measure(24*time.Hour, 2*time.Hour),
		Findings: []finding.Finding{
			finding.Pass("protection.bucket.object-lock", "s3://b", "locked"),
			finding.Pass("protection.backup.retention", "s3://b", "retained"),
			finding.Pass("protection.canary.delete", "s3://b", "refused"),
			finding.Warn("history.upload", "s3://h", "not uploaded"),
		}}
}

func putJSON(t *testing.T, rs drill.Records, id, name string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.NoError(t, rs.WriteFile(context.Background(), id, name, b))
}

// TestAuditRows: the period is [From, To), oldest first, one scenario when
// asked; controls follow the files each store holds for the drill (a
// control requiring lessons-learned needs retrospective.md); the bundle
// shown is the latest one pushed locked. The same on both stores.
func TestAuditRows(t *testing.T) {
	mapping := &evidence.Mapping{
		Proofs: map[string]string{"restore-tested": "the restore ran", "lessons-learned": "a retrospective exists"},
		Controls: []evidence.Control{
			{ID: "C-RESTORE", Requires: []string{"restore-tested"}, Proofs: []string{"restore-tested"}},
			{ID: "C-LEARN", Requires: []string{"lessons-learned"}, Proofs: []string{"lessons-learned"}},
		},
	}
	locked := auditT0.Add(7 * 365 * 24 * time.Hour)
	for name, newRecords := range map[string]func(t *testing.T) drill.Records{
		"local": func(t *testing.T) drill.Records { return drill.LocalRecords{StateDir: t.TempDir()} },
		"s3": func(t *testing.T) drill.Records {
			st := memstore.New()
			require.NoError(t, st.CreateBucket(context.Background(), "team-drills", false))
			return &drill.S3Records{Store: st, Bucket: "team-drills", Prefix: "team"}
		},
	} {
		t.Run(name, func(t *testing.T) {
			rs := newRecords(t)
			day := 24 * time.Hour
			putJSON(t, rs, "fd-before", drill.ReportFile, passedRecord("fd-before", "shop", auditT0.Add(-time.Second), drill.ResultPass))
			putJSON(t, rs, "fd-first", drill.ReportFile, passedRecord("fd-first", "shop", auditT0, drill.ResultPass))
			require.NoError(t, rs.WriteFile(context.Background(), "fd-first", "retrospective.md", []byte("# Retrospective\n")))
			putJSON(t, rs, "fd-first", drill.EvidenceRecordFile, []drill.EvidenceRecord{
				{SHA256: "locked-one", Pushed: &evidence.Pushed{URL: "s3://ev/fd-first.tar.gz", RetainUntil: &locked}},
				{SHA256: "later-unlocked", Pushed: &evidence.Pushed{URL: "s3://ev-unlocked/fd-first.tar.gz"}},
			})
			noRetroRec := passedRecord("fd-noretro", "shop", auditT0.Add(day), drill.ResultPass)
			noRetroRec.RTO = drill.WithDeclaredManual(noRetroRec.RTO, 1800) // 1h measured + 30m declared manual
			putJSON(t, rs, "fd-noretro", drill.ReportFile, noRetroRec)
			putJSON(t, rs, "fd-failed", drill.ReportFile, passedRecord("fd-failed", "shop", auditT0.Add(2*day), drill.ResultFail))
			putJSON(t, rs, "fd-other", drill.ReportFile, passedRecord("fd-other", "blog", auditT0.Add(2*day), drill.ResultPass))
			putJSON(t, rs, "fd-at-end", drill.ReportFile, passedRecord("fd-at-end", "shop", auditT0.Add(3*day), drill.ResultPass))

			rows, err := drill.AuditRows(context.Background(), rs, drill.AuditPeriod{From: auditT0, To: auditT0.Add(3 * day), Scenario: "shop", Mapping: mapping})
			require.NoError(t, err)
			var ids []string
			for _, r := range rows {
				ids = append(ids, r.DrillID)
			}
			require.Equal(t, []string{"fd-first", "fd-noretro", "fd-failed"}, ids, "in [From, To), of scenario shop, oldest first")

			first := rows[0]
			assert.Equal(t, []string{"C-RESTORE", "C-LEARN"}, first.Controls)
			assert.Empty(t, first.NotSupported)
			assert.Empty(t, first.Missing)
			assert.Equal(t, "locked-one", first.Bundle, "the latest export pushed locked, not the latest export")
			assert.Equal(t, "s3://ev/fd-first.tar.gz", first.PushedTo)
			require.NotNil(t, first.RetainUntil)
			assert.Equal(t, locked, first.RetainUntil.UTC())
			assert.Equal(t, drill.FindingCounts{Warn: 1, Passed: 3}, first.Findings)
			assert.Equal(t, 3600.0, *first.RTOSeconds)
			assert.Equal(t, 4*3600.0, first.RTOObjSec)
			assert.Equal(t, drill.ObjectiveMet, first.RTOStatus)
			assert.Equal(t, 7200.0, *first.RPOSeconds)

			noRetro := rows[1]
			require.NotNil(t, noRetro.RTOSeconds)
			assert.Equal(t, 5400.0, *noRetro.RTOSeconds, "the RTO judged: measured plus declared manual time")
			assert.Equal(t, []string{"C-RESTORE"}, noRetro.Controls)
			require.Len(t, noRetro.NotSupported, 1)
			assert.Equal(t, "C-LEARN", noRetro.NotSupported[0].ID)
			assert.Contains(t, noRetro.NotSupported[0].Why, "no retrospective.md")
			assert.Equal(t, "missing lessons-learned", noRetro.Missing)
			assert.Empty(t, noRetro.Bundle, "never exported")

			failed := rows[2]
			assert.Empty(t, failed.Controls)
			assert.Len(t, failed.NotSupported, 2)
			assert.Equal(t, "drill fail", failed.Missing)

			all, err := drill.AuditRows(context.Background(), rs, drill.AuditPeriod{})
			require.NoError(t, err)
			assert.Len(t, all, 6, "no bounds, every scenario")
			assert.Len(t, all[0].Controls, 10, "the built-in mapping when none is given")
		})
	}
}

func TestAuditRows_DamagedEvidenceRecordIsAnError(t *testing.T) {
	rs := drill.LocalRecords{StateDir: t.TempDir()}
	putJSON(t, rs, "fd-a", drill.ReportFile, passedRecord("fd-a", "shop", auditT0, drill.ResultPass))
	require.NoError(t, rs.WriteFile(context.Background(), "fd-a", drill.EvidenceRecordFile, []byte("[{")))
	_, err := drill.AuditRows(context.Background(), rs, drill.AuditPeriod{})
	require.Error(t, err, "an audit table does not skip a drill")
	assert.Contains(t, err.Error(), rs.URL("fd-a", drill.EvidenceRecordFile))
}

func TestKeptExport(t *testing.T) {
	until := auditT0
	assert.Nil(t, drill.KeptExport(nil))
	recs := []drill.EvidenceRecord{{SHA256: "a"}, {SHA256: "b"}}
	assert.Equal(t, "b", drill.KeptExport(recs).SHA256, "the latest when none is locked")
	recs = []drill.EvidenceRecord{{SHA256: "a", Pushed: &evidence.Pushed{RetainUntil: &until}}, {SHA256: "b", Pushed: &evidence.Pushed{}}, {SHA256: "c"}}
	assert.Equal(t, "a", drill.KeptExport(recs).SHA256, "the latest pushed locked")
}
