package drill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"time"
)

// Records is where drill records are kept: for each drill, by its id, the
// record itself (report.json) and the files beside it (report.md,
// evidence.json, runbook/01-STEP.log, ...). LocalRecords keeps them in the
// state directory, S3Records in a bucket a team shares; both lay them out
// as drills/ID/NAME. A drill works in its local directory (Dir) and copies
// files to a shared Records as it goes; every command reads either one the
// same way, through ListReports, ReadReport and ReadEvidenceRecords.
//
// Names are slash-separated paths relative to the drill ("report.json",
// "runbook/01-restore.log"); ids match NewDrillID's form (lowercase
// letters, digits, '.' and '-'). Both are checked by every method: an id or
// name that could leave the drill's folder is an error, and nothing is
// read or written.
//
// recordtest.Suite is the conformance suite every implementation passes.
type Records interface {
	// List returns the ids of the drills that have a record (report.json),
	// in ascending order. A folder without report.json, or whose name is
	// not a drill id, is not a drill. It returns an error naming the
	// location when it cannot list; a state directory that does not exist
	// yet holds no drills, a bucket that does not exist is an error
	// (objectstore.ErrNoSuchBucket, wrapped).
	List(ctx context.Context) ([]string, error)
	// ReadFile returns the content of one file of a drill. It returns an
	// error wrapping fs.ErrNotExist when the drill or the file is not
	// recorded.
	ReadFile(ctx context.Context, id, name string) ([]byte, error)
	// WriteFile writes one file of a drill, creating the drill, and
	// replaces the file whole: a reader sees the old content or the new,
	// never part of either. Writing the same content again is harmless.
	// The error names the location and the file.
	WriteFile(ctx context.Context, id, name string, data []byte) error
	// Files lists the names of a drill's files in ascending order; none
	// for a drill that is not recorded. Files being written (*.tmp, in a
	// state directory) are not listed.
	Files(ctx context.Context, id string) ([]string, error)
	// URL says where a file of a drill is, for people: a path or
	// s3://BUCKET/KEY. With an empty name it is the drill's folder, with
	// an empty id too the location of every drill.
	URL(id, name string) string
}

// ReportFile is the record of a drill, in every Records.
const ReportFile = "report.json"

// checkName refuses an id or a file name that could leave the drill's
// folder, or name nothing.
func checkName(id, name string) error {
	if !drillIDPattern.MatchString(id) {
		return fmt.Errorf("drill id %q: want lowercase letters, digits, '.' and '-'", id)
	}
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || path.Clean(name) != name ||
		name == "." || name == ".." || strings.HasPrefix(name, "../") {
		return fmt.Errorf("file %q of drill %s: want a relative, slash-separated path inside the drill's folder", name, id)
	}
	return nil
}

// ListReports reads every drill record of rs, newest first (by
// started_at), optionally only those of one scenario. A record left
// running by a process that died is settled (Settle, at the time of the
// listing): its result is ResultDied. A record that cannot
// be read or decoded is an error returned beside the rest, so one damaged
// record hides nothing else; a record deleted since the listing is
// skipped. When rs cannot be listed it returns no reports and the error.
func ListReports(ctx context.Context, rs Records, scenario string) ([]*Report, error) {
	ids, err := rs.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the drills in %s: %w", rs.URL("", ""), err)
	}
	var out []*Report
	var errs []error
	now := time.Now()
	for _, id := range ids {
		r, err := ReadReport(ctx, rs, id)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if scenario == "" || r.Scenario == scenario {
			Settle(r, now)
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartedAt.After(out[j].StartedAt) })
	return out, errors.Join(errs...)
}

// ReadReport reads and decodes the record of one drill. The error wraps
// fs.ErrNotExist when the drill has no record, and names the record's URL
// when it cannot be decoded.
func ReadReport(ctx context.Context, rs Records, id string) (*Report, error) {
	b, err := rs.ReadFile(ctx, id, ReportFile)
	if err != nil {
		return nil, fmt.Errorf("read drill record: %w", err)
	}
	return decodeReport(b, rs.URL(id, ReportFile))
}

// decodeReport decodes report.json of schema firedrill.dev/report/v1 or
// v2 (the runbook steps' duration in duration_ns or duration_seconds:
// runbooks.StepResult reads both); the error names where it is.
func decodeReport(b []byte, where string) (*Report, error) {
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read drill record %s: %w", where, err)
	}
	return &r, nil
}

// ReadEvidenceRecords reads a drill's exports (evidence.json), oldest
// first; none when the drill was never exported.
func ReadEvidenceRecords(ctx context.Context, rs Records, id string) ([]EvidenceRecord, error) {
	b, err := rs.ReadFile(ctx, id, EvidenceRecordFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the evidence record of drill %s: %w", id, err)
	}
	return decodeEvidenceRecords(b, rs.URL(id, EvidenceRecordFile))
}

// decodeEvidenceRecords decodes evidence.json; the error names where it is.
func decodeEvidenceRecords(b []byte, where string) ([]EvidenceRecord, error) {
	var recs []EvidenceRecord
	if err := json.Unmarshal(b, &recs); err != nil {
		return nil, fmt.Errorf("read %s: %w", where, err)
	}
	return recs, nil
}

// CopyFiles copies files of a drill from one Records to another, as they
// are, stopping at the first that fails. A file that from does not hold
// is skipped: there is nothing of it to keep.
func CopyFiles(ctx context.Context, from, to Records, id string, names ...string) error {
	for _, name := range names {
		b, err := from.ReadFile(ctx, id, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := to.WriteFile(ctx, id, name, b); err != nil {
			return err
		}
	}
	return nil
}

// ReportHTMLFile is the drill's report for people, beside its record.
const ReportHTMLFile = "report.html"

// ReportHTMLURL is where the report.html of drill r is (rs.URL), or ""
// when it has none. A drill writes its links into the record together with
// its report files, so a record with links answers alone; a record without
// them is that of a drill still running or that died before its report
// step (no report), or one written before firedrill kept links, whose
// files are listed. The error is that of Records.Files.
func ReportHTMLURL(ctx context.Context, rs Records, r *Report) (string, error) {
	has := r.Link("report-html") != ""
	if len(r.Links) == 0 && r.Result != ResultRunning && r.Result != ResultDied {
		names, err := rs.Files(ctx, r.DrillID)
		if err != nil {
			return "", err
		}
		has = slices.Contains(names, ReportHTMLFile)
	}
	if !has {
		return "", nil
	}
	return rs.URL(r.DrillID, ReportHTMLFile), nil
}
