package drill

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/internal/evidence"
	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/secret"
)

// Collected is what the evidence step read from the target before
// cleanup: files to keep in the drill directory, and the values of the
// restored Secrets, which are scrubbed from every file of the drill
// (runbook output, say) and never kept.
type Collected struct {
	// Files maps a path in the drill directory ("velero/backup.json") to
	// the value written there as JSON.
	Files map[string]any
	// Problems say what could not be read; each becomes a warn finding.
	Problems []string
	// SecretValues are the restored Secrets' values, decoded and as
	// base64, to scrub from the drill's files.
	SecretValues []string
}

// Files of the drill directory that are about a bundle, not part of one.
const (
	EvidenceRecordFile = "evidence.json"
	EvidenceBundleFile = "evidence.tar.gz"
)

// EvidenceBundlePath is where evidence export writes the bundle of drill
// id without -f, relative to the state directory (--state-dir):
// "drills/ID/evidence.tar.gz", a name no other drill's bundle has.
func EvidenceBundlePath(id string) string { return path.Join("drills", id, EvidenceBundleFile) }

// collectEvidence is the evidence step: before cleanup, keep the Velero
// objects and what was restored, and scrub secrets from the record. It
// runs after a failed restore too (what came back is evidence of the
// failure). The bundle itself is signed later, from the finished record.
func (r *run) collectEvidence(ctx context.Context) (string, error) {
	if r.opts.Recovery == nil {
		return PhaseSkipped, nil
	}
	c, err := r.opts.Recovery.Evidence(ctx)
	if err != nil && ctx.Err() != nil {
		return "", err
	}
	if err != nil {
		c.Problems = append(c.Problems, err.Error())
	}
	names := make([]string, 0, len(c.Files))
	for name := range c.Files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if werr := r.dir.WriteJSON(name, c.Files[name]); werr != nil {
			c.Problems = append(c.Problems, werr.Error())
		}
	}
	r.secrets.AddData(c.SecretValues...)
	if err := scrubReport(r.report, r.secrets); err != nil {
		c.Problems = append(c.Problems, "scrub secrets from the report: "+err.Error())
	}
	// Files written before the restored Secrets were known hold them as
	// written: the record is scrubbed again, whole.
	if n, serr := scrubDir(r.dir.Path, r.secrets); serr != nil {
		c.Problems = append(c.Problems, "scrub secrets from the drill's files: "+serr.Error())
	} else if n > 0 {
		r.opts.Logger.Info("removed secret values from the drill's files", "files", n)
	}
	for _, p := range c.Problems {
		r.report.Findings = append(r.report.Findings, finding.Warn("evidence.collect", "scratch cluster",
			"evidence incomplete: "+p).With("", "", "the bundle still holds the rest; check access to the target"))
	}
	return PhasePassed, nil
}

// scrubDir replaces every secret value in the files under dir with
// secret.Mask, and returns how many files changed. Only regular files:
// what the bundle holds (FileNames); a symbolic link is not followed, so
// nothing outside dir is rewritten (WriteFileAtomic writes through links).
func scrubDir(dir string, secrets *secret.Set) (int, error) {
	if secrets.Len() == 0 {
		return 0, nil
	}
	changed := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out := secrets.Redact(b)
		if bytes.Equal(out, b) {
			return nil
		}
		changed++
		return WriteFileAtomic(path, out)
	})
	return changed, err
}

// scrubReport replaces secret values in the report in memory, so the
// final record does not bring back what scrubDir removed.
func scrubReport(rep *Report, secrets *secret.Set) error {
	b, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	out := secrets.Redact(b)
	if bytes.Equal(out, b) {
		return nil
	}
	var clean Report
	if err := json.Unmarshal(out, &clean); err != nil {
		return err
	}
	*rep = clean
	return nil
}

// ExportOptions say how a drill's evidence bundle is made.
type ExportOptions struct {
	Key ed25519.PrivateKey
	// Mapping maps proofs to controls; the built-in one when nil.
	Mapping *evidence.Mapping
	// Secrets must not appear in the bundle (credentials in the
	// environment); they are replaced, never written. The drill's own
	// writer already replaced those it knew; this catches the rest.
	Secrets *secret.Set
	// Version is the exporting firedrill's.
	Version string
}

// Export is a bundle made of a drill.
type Export struct {
	Bundle   []byte
	SHA256   string
	Manifest *evidence.Manifest
	Index    *evidence.Index
}

// ExportEvidence makes the signed evidence bundle of a finished drill from
// its directory: every file but the bundle's own records, with the values
// in Secrets replaced, an index of what each file proves and the controls
// the drill supports. The same directory and key give the same bytes.
func ExportEvidence(d *Dir, o ExportOptions) (*Export, error) {
	rep, err := d.ReadReport()
	if err != nil {
		return nil, fmt.Errorf("read the drill's record: %w", err)
	}
	if rep.Result == ResultRunning {
		return nil, fmt.Errorf("drill %s has no result yet (running, or its process died): nothing to export", rep.DrillID)
	}
	if o.Key == nil {
		return nil, errors.New("no signing key")
	}
	if o.Mapping == nil {
		if o.Mapping, err = evidence.BuiltinMapping(); err != nil {
			return nil, err
		}
	}
	files, err := d.FileNames()
	if err != nil {
		return nil, fmt.Errorf("read drill directory %s: %w", d.Path, err)
	}
	for i := range files {
		b, err := os.ReadFile(d.File(files[i].Path))
		if err != nil {
			return nil, fmt.Errorf("read drill directory %s: %w", d.Path, err)
		}
		files[i].Data = o.Secrets.Redact(b)
	}
	idx := IndexOf(rep, files, o.Mapping)
	var buf bytes.Buffer
	m, err := evidence.Write(&buf, evidence.Bundle{
		DrillID: rep.DrillID, Scenario: rep.Scenario, Result: string(rep.Result),
		DrillVersion: rep.FiredrillVer, ExportedBy: o.Version,
		Started: rep.StartedAt, Finished: rep.FinishedAt, Files: files, Index: idx,
		RTO: measurement(rep.RTO), RPO: measurement(rep.RPO),
	}, o.Key)
	if err != nil {
		return nil, err
	}
	return &Export{Bundle: buf.Bytes(), SHA256: evidence.SHA256Hex(buf.Bytes()), Manifest: m, Index: idx}, nil
}

// measurement is o as the in-toto statement's predicate states it: judged
// on measured plus declared manual time (Objective.Judged), as report.json,
// history and evidence summary judge it.
func measurement(o Objective) *evidence.Measurement {
	return &evidence.Measurement{ObjectiveSeconds: o.ObjectiveSeconds, MeasuredSeconds: o.MeasuredSeconds,
		DeclaredManualSeconds: o.DeclaredManualSeconds, TotalSeconds: o.Judged(), Status: o.Status}
}

// fileProofs says what each file of a drill directory is and which proofs
// it shows. Patterns end in "/" for a folder.
var fileProofs = []struct {
	pattern string
	proves  string
	proofs  []string
}{
	{"report.json", "the drill's record: timeline, RTO and RPO measured against the objectives, findings, result", []string{"rto-measured", "rpo-measured", "objectives-met", "restore-tested", "retention-window-verified"}},
	{"report.md", "the report, readable", []string{"rto-measured", "rpo-measured", "objectives-met", "retention-window-verified"}},
	{"report.html", "the report, with the phase timeline chart and the recovery window's strip", []string{"rto-measured", "rpo-measured", "objectives-met", "retention-window-verified"}},
	{"retrospective.md", "the retrospective template seeded from the findings", []string{"lessons-learned"}},
	{"scenario.yaml", "the scenario as run, defaults filled in: the disaster, objectives, where the backups are", nil},
	{"protection.json", "object lock of the backup bucket and every object version, the tamper canary, off-site copy comparisons", []string{"backups-immutable", "offsite-copies-verified"}},
	{"restore.json", "the recovery point, each Velero Restore with its results, the NetworkPolicy-first order proof", []string{"restore-tested", "restore-order-verified", "rpo-measured"}},
	{"checks.json", "the checks after the restore and their results", []string{"recovered-services-verified"}},
	{"velero/", "the Velero Backup and Restore objects as the scratch cluster held them", []string{"restore-tested"}},
	{"restored/", "what came back: every object of the restored namespaces (Secret values redacted)", []string{"restore-tested", "restore-order-verified"}},
	{"runbook/", "output of a runbook step, executed and timed during the drill", []string{"runbook-exercised"}},
}

// IndexOf says which proofs hold for the drill, what each file shows and
// which controls the drill supports: none unless it passed (see
// evidence.Mapping.Support).
func IndexOf(rep *Report, files []evidence.File, m *evidence.Mapping) *evidence.Index {
	idx := &evidence.Index{DrillID: rep.DrillID, Scenario: rep.Scenario, Result: string(rep.Result)}
	byProof := map[string][]string{}
	for _, f := range files {
		e := evidence.FileEntry{Path: f.Path, Proves: "kept with the drill's record"}
		for _, fp := range fileProofs {
			if f.Path == fp.pattern || strings.HasSuffix(fp.pattern, "/") && strings.HasPrefix(f.Path, fp.pattern) {
				e.Proves, e.Proofs = fp.proves, fp.proofs
				break
			}
		}
		for _, p := range e.Proofs {
			byProof[p] = append(byProof[p], f.Path)
		}
		idx.Files = append(idx.Files, e)
	}
	retro := slices.ContainsFunc(files, func(f evidence.File) bool { return f.Path == "retrospective.md" })
	for _, id := range slices.Sorted(maps.Keys(m.Proofs)) {
		ok, why := proofHolds(id, rep, retro)
		p := evidence.Proof{ID: id, Holds: ok, Statement: m.Proofs[id], Files: byProof[id]}
		if !ok {
			p.Why = why
		}
		idx.Proofs = append(idx.Proofs, p)
	}
	idx.Controls = m.Support(idx.Proofs, drillFault(rep.Result))
	return idx
}

// drillFault says how a drill that did not pass ended; empty for one that
// passed.
func drillFault(r Result) string {
	switch r {
	case ResultPass:
		return ""
	case ResultFail:
		return "the drill failed"
	case ResultError:
		return "the drill ended in error"
	case ResultInterrupted:
		return "the drill was interrupted"
	case ResultRunning:
		return "the drill has no result (still running, or its process died)"
	case ResultDied:
		return "the drill's process died before it ended"
	}
	return fmt.Sprintf("the drill ended %q", string(r))
}

// proofGroups are the checks the statement of backups-immutable names, by
// finding id prefix: each must have run, and every finding of each passed.
var proofGroups = []struct{ prefix, what string }{
	{"protection.bucket.", "the bucket's object lock"},
	{"protection.backup.", "the retention of the backup's object versions"},
	{"protection.canary.", "the tamper canary"},
}

// proofHolds decides one proof from the drill's record (retro: the
// retrospective is among its files), and says why not. A proof holds only
// on complete evidence: the drill ran to the end, the step that shows it
// finished (passed, or failed on other findings), and every check the
// proof's statement names ran and passed. A drill that errored or was
// interrupted measured nothing an auditor should count.
func proofHolds(id string, rep *Report, retro bool) (bool, string) {
	ok, why := proofShown(id, rep, retro)
	if ok && rep.Result != ResultPass && rep.Result != ResultFail {
		return false, "the drill did not run to the end (" + string(rep.Result) + ")"
	}
	return ok, why
}

// proofShown decides one proof from the checks the record holds, whether
// or not the drill ran to its end.
func proofShown(id string, rep *Report, retro bool) (bool, string) {
	phase := func(name StepName) string {
		for _, p := range rep.Phases {
			if p.Name == name {
				return p.Status
			}
		}
		return "not run"
	}
	// finished: the step ran to its end, whatever it found.
	finished := func(name StepName) (bool, string) {
		if s := phase(name); s != PhasePassed && s != PhaseFailed {
			return false, "step " + string(name) + " " + s + ": its findings are partial"
		}
		return true, ""
	}
	findings := func(match func(string) bool) (n int, notPassed []string) {
		for _, f := range rep.Findings {
			if match(f.ID) {
				n++
				if f.Status != finding.StatusPass {
					notPassed = append(notPassed, f.ID+" "+string(f.Status))
				}
			}
		}
		return n, notPassed
	}
	// collected: the evidence step read everything of the restore.
	collected := func() (bool, string) {
		if n, _ := findings(func(id string) bool { return id == "evidence.collect" }); n > 0 || phase(StepEvidence) == PhaseError {
			return false, "the evidence of the restore is incomplete (evidence.collect): the Velero objects or what came back could not all be read"
		}
		return true, ""
	}
	switch id {
	case "backups-immutable":
		if ok, why := finished(StepProtection); !ok {
			return false, why
		}
		for _, g := range proofGroups {
			n, bad := findings(func(id string) bool { return strings.HasPrefix(id, g.prefix) })
			switch {
			case n == 0:
				return false, g.what + " was not checked"
			case len(bad) > 0:
				return false, "not passed: " + strings.Join(bad, ", ")
			}
		}
		return true, ""
	case "offsite-copies-verified":
		if ok, why := finished(StepProtection); !ok {
			return false, why
		}
		n, bad := findings(func(id string) bool { return strings.HasPrefix(id, "protection.copy.") })
		switch {
		case n == 0:
			return false, "the scenario has no copies, or they were not compared"
		case len(bad) > 0:
			return false, "not passed: " + strings.Join(bad, ", ")
		}
		return true, ""
	case "restore-tested", "restore-order-verified":
		if ok, why := phaseProof(phase(StepRestore)); !ok {
			return false, why
		}
		if ok, why := collected(); !ok {
			return false, why
		}
		if id == "restore-order-verified" && (rep.OrderVerified == nil || !*rep.OrderVerified) {
			return false, "the NetworkPolicy-first order was not verified"
		}
		return true, ""
	case "recovered-services-verified":
		return phaseProof(phase(StepVerify))
	case "retention-window-verified":
		return windowShown(rep, finished)
	case "rto-measured":
		return measured(rep.RTO)
	case "rpo-measured":
		return measured(rep.RPO)
	case "objectives-met":
		if rep.RTO.Status != ObjectiveMet || rep.RPO.Status != ObjectiveMet {
			return false, fmt.Sprintf("RTO %s, RPO %s", StatusText(rep.RTO.Status), StatusText(rep.RPO.Status))
		}
		return true, ""
	case "runbook-exercised":
		if len(rep.Runbook) == 0 {
			return false, "the scenario has no runbook steps, or they did not run"
		}
		return phaseProof(phase(StepRunbook))
	case "lessons-learned":
		if !retro {
			return false, "no retrospective.md in the drill's record"
		}
		return true, ""
	}
	return false, "firedrill does not know this proof"
}

// windowProofChecks are the window check's findings the statement of
// retention-window-verified names: each must have run and passed. The
// maxRetention findings (windowRetentionFindings) must pass where they ran.
// Missed runs and not-Completed backups (warnings) are not claimed: the
// gap they leave is, through window.gap.
var (
	windowProofChecks = []struct{ id, what string }{
		{backup.IDWindowShort, "how far back the backups reach"},
		{backup.IDWindowGap, "the worst gap between backups"},
		{backup.IDWindowUnlocked, "the object lock of the window's backups"},
	}
	windowRetentionFindings = []string{backup.IDWindowRead, backup.IDWindowPastMax, backup.IDWindowTTL,
		backup.IDWindowLockTooLong, backup.IDWindowRepositoryOld}
)

// windowShown decides retention-window-verified (see windowProofChecks).
func windowShown(rep *Report, finished func(StepName) (bool, string)) (bool, string) {
	if ok, why := finished(StepProtection); !ok {
		return false, why
	}
	w := rep.Window
	switch {
	case w == nil:
		return false, "the recovery window was not read (the scenario declares no objectives.retention, or has no schedule)"
	case w.RetentionSeconds <= 0:
		return false, "the scenario declares no objectives.retention: there was no window to verify"
	}
	var bad []string
	for _, c := range windowProofChecks {
		n := 0
		for _, f := range rep.Findings {
			if f.ID != c.id {
				continue
			}
			n++
			if f.Status != finding.StatusPass {
				bad = append(bad, f.ID+" "+string(f.Status))
			}
		}
		if n == 0 {
			return false, c.what + " was not checked (" + c.id + ")"
		}
	}
	for _, f := range rep.Findings {
		if slices.Contains(windowRetentionFindings, f.ID) && f.Status != finding.StatusPass {
			bad = append(bad, f.ID+" "+string(f.Status))
		}
	}
	if len(bad) > 0 {
		return false, "not passed: " + strings.Join(slices.Compact(bad), ", ")
	}
	return true, ""
}

func phaseProof(status string) (bool, string) {
	if status != PhasePassed {
		return false, "step " + status
	}
	return true, ""
}

func measured(o Objective) (bool, string) {
	if o.Status == ObjectiveNotMeasured {
		return false, "not measured: " + o.Note
	}
	return true, ""
}

// FileNames lists the files of the drill's record, slash-separated and
// relative, without reading them: what a bundle holds, so neither the
// bundle's own records (evidence.json, evidence.tar.gz) nor files being
// written (*.tmp).
func (d *Dir) FileNames() ([]evidence.File, error) {
	var files []evidence.File
	err := filepath.WalkDir(d.Path, func(path string, de fs.DirEntry, err error) error {
		if err != nil || !de.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(d.Path, path)
		rel = filepath.ToSlash(rel)
		if strings.HasSuffix(rel, ".tmp") || rel == EvidenceRecordFile || rel == EvidenceBundleFile {
			return nil
		}
		files = append(files, evidence.File{Path: rel})
		return nil
	})
	return files, err
}

// EvidenceRecord is one export of a drill's bundle, kept in the drill
// directory's evidence.json (which no bundle includes).
type EvidenceRecord struct {
	SHA256     string           `json:"sha256"`
	Size       int              `json:"size"`
	Path       string           `json:"path,omitempty"`
	SignedBy   string           `json:"signed_by"`
	ExportedAt time.Time        `json:"exported_at"`
	Controls   []string         `json:"controls"`
	Pushed     *evidence.Pushed `json:"pushed,omitempty"`
}

// RecordEvidence appends an export to the drill's evidence.json.
func (d *Dir) RecordEvidence(rec EvidenceRecord) error {
	recs, err := d.EvidenceRecords()
	if err != nil {
		return err
	}
	return d.WriteJSON(EvidenceRecordFile, append(recs, rec))
}

// EvidenceRecords are the drill's exports, oldest first; none when the
// drill was never exported.
func (d *Dir) EvidenceRecords() ([]EvidenceRecord, error) {
	b, err := os.ReadFile(d.File(EvidenceRecordFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeEvidenceRecords(b, d.File(EvidenceRecordFile))
}
