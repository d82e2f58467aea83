package drill

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/internal/evidence"
	"github.com/firedrill-dev/firedrill/internal/finding"
)

// AuditPeriod selects the drills of an audit: those that started in
// [From, To), optionally of one scenario.
type AuditPeriod struct {
	// From is the first instant of the period; zero for the beginning.
	From time.Time
	// To is the first instant after the period; zero for no end.
	To time.Time
	// Scenario keeps only the drills of one scenario; empty for all.
	Scenario string
	// Mapping maps proofs to controls; the built-in one when nil.
	Mapping *evidence.Mapping
}

// AuditRow is one drill of an audit period, as 'firedrill evidence
// summary' prints it (its JSON keys are that command's -o json).
type AuditRow struct {
	DrillID   string    `json:"drill_id"`
	Scenario  string    `json:"scenario"`
	StartedAt time.Time `json:"started_at"`
	Result    string    `json:"result"`
	// RTOSeconds is the RTO the objective was judged on: measured plus
	// declared manual time (Objective.Judged); nil when not measured.
	RTOSeconds *float64      `json:"rto_seconds"`
	RTOObjSec  float64       `json:"rto_objective_seconds"`
	RTOStatus  string        `json:"rto_status"`
	RPOSeconds *float64      `json:"rpo_seconds"`
	RPOObjSec  float64       `json:"rpo_objective_seconds"`
	RPOStatus  string        `json:"rpo_status"`
	Findings   FindingCounts `json:"findings"`
	// Controls are the controls of the mapping the drill supports.
	Controls []string `json:"controls"`
	// NotSupported are the other controls of the mapping, each with why
	// the drill does not support it.
	NotSupported []ControlGap `json:"controls_not_supported"`
	// Missing says in a few words what keeps controls unsupported: how the
	// drill ended ("drill fail"), or the required proofs that do not hold
	// ("missing lessons-learned"); empty when every control is supported.
	Missing string `json:"-"`
	// Bundle, PushedTo and RetainUntil describe the export an auditor
	// should be shown (KeptExport); empty for a drill never exported.
	Bundle      string     `json:"bundle_sha256"`
	PushedTo    string     `json:"pushed_to"`
	RetainUntil *time.Time `json:"retain_until,omitempty"`
}

// ControlGap is a control a drill does not support, and why.
type ControlGap struct {
	ID  string `json:"id"`
	Why string `json:"why"`
}

// FindingCounts counts the failed and warned findings of a drill by
// severity (info counts as warn), and the passed ones.
type FindingCounts struct {
	Critical int `json:"critical"`
	Fail     int `json:"fail"`
	Warn     int `json:"warn"`
	Passed   int `json:"passed"`
}

// CountFindings counts fs by severity.
func CountFindings(fs []finding.Finding) FindingCounts {
	by := finding.BySeverity(fs)
	return FindingCounts{Critical: by[finding.SeverityCritical], Fail: by[finding.SeverityFail],
		Warn: by[finding.SeverityWarn] + by[finding.SeverityInfo], Passed: finding.Count(fs)[finding.StatusPass]}
}

// AuditRows is the table an auditor asks for at the end of a period: one
// row per drill of rs in the period, oldest first, with the controls its
// record supports (IndexOf over the files rs holds for it) and its kept
// evidence bundle. A record that cannot be read, or a drill's files or
// evidence.json that cannot be, is an error: an audit table does not skip
// drills.
func AuditRows(ctx context.Context, rs Records, p AuditPeriod) ([]AuditRow, error) {
	drills, err := AuditDrills(ctx, rs, p)
	if err != nil {
		return nil, err
	}
	rows := []AuditRow{}
	for _, d := range drills {
		rows = append(rows, auditRow(d))
	}
	return rows, nil
}

// AuditedDrill is one drill of an audit period: its record, what its
// files prove (IndexOf) and the export of its evidence to show.
type AuditedDrill struct {
	Report *Report
	Index  *evidence.Index
	// Kept is KeptExport of the drill's exports; nil when it was never
	// exported.
	Kept *EvidenceRecord
}

// AuditDrills are the drills of rs in the period, oldest first, each with
// its index and kept export; errors as AuditRows.
func AuditDrills(ctx context.Context, rs Records, p AuditPeriod) ([]AuditedDrill, error) {
	mapping := p.Mapping
	if mapping == nil {
		var err error
		if mapping, err = evidence.BuiltinMapping(); err != nil {
			return nil, err
		}
	}
	reports, err := ListReports(ctx, rs, p.Scenario)
	if err != nil {
		return nil, err
	}
	var drills []AuditedDrill
	// ListReports is newest first; an audit table reads oldest first.
	for _, r := range slices.Backward(reports) {
		if r.StartedAt.Before(p.From) || !p.To.IsZero() && !r.StartedAt.Before(p.To) {
			continue
		}
		d, err := auditedDrill(ctx, rs, r, mapping)
		if err != nil {
			return nil, err
		}
		drills = append(drills, d)
	}
	return drills, nil
}

func auditedDrill(ctx context.Context, rs Records, r *Report, mapping *evidence.Mapping) (AuditedDrill, error) {
	names, err := rs.Files(ctx, r.DrillID)
	if err != nil {
		return AuditedDrill{}, err
	}
	files := make([]evidence.File, 0, len(names))
	for _, n := range names {
		if n != EvidenceRecordFile && n != EvidenceBundleFile {
			files = append(files, evidence.File{Path: n})
		}
	}
	recs, err := ReadEvidenceRecords(ctx, rs, r.DrillID)
	if err != nil {
		return AuditedDrill{}, err
	}
	return AuditedDrill{Report: r, Index: IndexOf(r, files, mapping), Kept: KeptExport(recs)}, nil
}

func auditRow(d AuditedDrill) AuditRow {
	r := d.Report
	row := AuditRow{
		DrillID: r.DrillID, Scenario: r.Scenario, StartedAt: r.StartedAt.UTC(), Result: string(r.Result),
		RTOSeconds: r.RTO.Judged(), RTOObjSec: r.RTO.ObjectiveSeconds, RTOStatus: r.RTO.Status,
		RPOSeconds: r.RPO.MeasuredSeconds, RPOObjSec: r.RPO.ObjectiveSeconds, RPOStatus: r.RPO.Status,
		Findings: CountFindings(r.Findings), Controls: []string{}, NotSupported: []ControlGap{},
	}
	var missing []string
	for _, c := range d.Index.Controls {
		if c.Supported {
			row.Controls = append(row.Controls, c.ID)
			continue
		}
		row.NotSupported = append(row.NotSupported, ControlGap{ID: c.ID, Why: c.Why})
		for _, p := range c.MissingRequired {
			if !slices.Contains(missing, p) {
				missing = append(missing, p)
			}
		}
	}
	switch {
	case r.Result == ResultDied:
		row.Missing = fmt.Sprintf("drill died in step %s", r.ErrorStep)
	case r.Result != ResultPass && len(row.NotSupported) > 0:
		row.Missing = "drill " + string(r.Result)
	case len(missing) > 0:
		row.Missing = "missing " + strings.Join(missing, ", ")
	case len(row.NotSupported) > 0:
		row.Missing = "see -o json"
	}
	if rec := d.Kept; rec != nil {
		row.Bundle = rec.SHA256
		if rec.Pushed != nil {
			row.PushedTo, row.RetainUntil = rec.Pushed.URL, rec.Pushed.RetainUntil
		}
	}
	return row
}

// KeptExport is the export of recs (oldest first) an auditor should be
// shown: the latest one pushed locked, else the latest one; nil for none.
func KeptExport(recs []EvidenceRecord) *EvidenceRecord {
	for i := len(recs) - 1; i >= 0; i-- {
		if p := recs[i].Pushed; p != nil && p.RetainUntil != nil {
			return &recs[i]
		}
	}
	if len(recs) == 0 {
		return nil
	}
	return &recs[len(recs)-1]
}

// RTOChange is a drill's RTO minus that of the latest earlier drill of the
// same scenario that measured one (earlierDrills), in seconds: positive
// when this drill was slower, negative when faster. Each RTO is the one
// its objective was judged on (Objective.Judged: measured plus declared
// manual time), so a drill whose manual steps were declared compares with
// one whose steps were timed. It is nil when either has no RTO. older may
// hold any drills, in any order (ListReports gives them newest first).
func RTOChange(r *Report, older []*Report) *float64 {
	this := r.RTO.Judged()
	if this == nil {
		return nil
	}
	for _, o := range earlierDrills(r, older) {
		if before := o.RTO.Judged(); before != nil {
			d := *this - *before
			return &d
		}
	}
	return nil
}

// RTOTrend is RTOTrendText of RTOChange: empty when RTOChange is nil.
func RTOTrend(r *Report, older []*Report) string {
	return RTOTrendText(RTOChange(r, older))
}

// RTOTrendText says an RTO change (seconds, positive slower; RTOChange,
// FleetRow.RTOTrendSeconds) for people, the one text of history and
// fleet: "faster by 12.0s", "slower by 2m30s" (FormatSeconds), or "same"
// within half a second either way; empty for nil.
func RTOTrendText(change *float64) string {
	switch {
	case change == nil:
		return ""
	case *change < -0.5:
		return "faster by " + fmtSeconds(-*change)
	case *change > 0.5:
		return "slower by " + fmtSeconds(*change)
	}
	return "same"
}
