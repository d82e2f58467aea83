package drill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/firedrill-dev/firedrill/internal/secret"
	"github.com/firedrill-dev/firedrill/runbooks"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// Dir is one drill's directory, STATE/drills/ID: the record of the drill,
// written as it goes, and everything an auditor needs afterwards.
//
//	report.json        the record (result "running", with a heartbeat, until the drill ends)
//	report.md, report.html, retrospective.md
//	scenario.yaml      the scenario as run, defaults filled in
//	runbook.md         the runbook as run, when the scenario has one
//	protection.json    protection findings and copy comparisons
//	restore.json       the Velero Backup and Restores, results, order proof
//	checks.json        checks after the restore
//	runbook/NN-STEP.log  output of each runbook step
//
// Every file is written through Secrets: no secret value the drill holds
// reaches the directory, in any encoding secret.Set knows.
type Dir struct {
	Path string
	// Secrets are replaced in every file written; nil writes as is.
	Secrets *secret.Set
}

var drillIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,62}$`)

// CreateDir makes the directory of a new drill.
func CreateDir(stateDir, id string) (*Dir, error) {
	if stateDir == "" {
		return nil, errors.New("no state directory for the drill's record (set --state-dir)")
	}
	if !drillIDPattern.MatchString(id) {
		return nil, fmt.Errorf("drill id %q: want lowercase letters, digits, '.' and '-'", id)
	}
	d := &Dir{Path: filepath.Join(stateDir, "drills", id)}
	if err := os.MkdirAll(d.Path, 0o755); err != nil {
		return nil, fmt.Errorf("create drill directory: %w", err)
	}
	return d, nil
}

// OpenDir opens the directory of an earlier drill.
func OpenDir(stateDir, id string) (*Dir, error) {
	if !drillIDPattern.MatchString(id) {
		return nil, fmt.Errorf("drill id %q: want lowercase letters, digits, '.' and '-'", id)
	}
	d := &Dir{Path: filepath.Join(stateDir, "drills", id)}
	if _, err := os.Stat(d.File("report.json")); err != nil {
		return nil, fmt.Errorf("no drill %s in %s: %w", id, stateDir, err)
	}
	return d, nil
}

// File is the path of a file of the drill.
func (d *Dir) File(name string) string { return filepath.Join(d.Path, name) }

// writeFile writes atomically (temp file and rename), so a reader or a
// crash never sees half a record, and with every secret replaced. It is
// the one writer of the drill's files.
func (d *Dir) writeFile(name string, b []byte) error {
	path := d.File(name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return WriteFileAtomic(path, d.Secrets.Redact(b))
}

// WriteJSON writes v, indented, as name.
func (d *Dir) WriteJSON(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	return d.writeFile(name, append(b, '\n'))
}

// WriteReport writes the record, report.json.
func (d *Dir) WriteReport(r *Report) error { return d.WriteJSON("report.json", r) }

// WriteReportFiles writes report.json, report.md, report.html and
// retrospective.md.
func (d *Dir) WriteReportFiles(r *Report) error {
	if err := d.WriteReport(r); err != nil {
		return err
	}
	for name, render := range map[string]func(*Report) ([]byte, error){
		"report.md": RenderMarkdown, "report.html": RenderHTML, "retrospective.md": RenderRetrospective,
	} {
		b, err := render(r)
		if err != nil {
			return err
		}
		if err := d.writeFile(name, b); err != nil {
			return err
		}
	}
	return nil
}

// WriteScenario keeps the scenario as run.
func (d *Dir) WriteScenario(sc *scenarios.Scenario) error {
	b, err := scenarios.MarshalYAML(sc)
	if err != nil {
		return fmt.Errorf("encode scenario: %w", err)
	}
	return d.writeFile("scenario.yaml", b)
}

// WriteRunbook keeps the runbook as run, runbook.md; nothing without one.
func (d *Dir) WriteRunbook(rb *runbooks.Runbook) error {
	if rb == nil {
		return nil
	}
	return d.writeFile(runbookFile, rb.Markdown)
}

// WriteRunbookOutput keeps each runbook step's output as runbook/NN-STEP.log.
func (d *Dir) WriteRunbookOutput(res []runbooks.StepResult) error {
	for i, s := range res {
		if s.Status == runbooks.StepSkipped {
			continue
		}
		name := fmt.Sprintf("runbook/%02d-%s.log", i+1, safeName(s.Name))
		head := fmt.Sprintf("# step %s (line %d): %s, exit %d, %s\n", s.Name, s.Line, s.Status, s.ExitCode, FormatSeconds(s.Duration.Seconds()))
		if err := d.writeFile(name, []byte(head+s.Output)); err != nil {
			return err
		}
	}
	return nil
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// ReadReport reads the drill's record.
func (d *Dir) ReadReport() (*Report, error) {
	b, err := os.ReadFile(d.File(ReportFile))
	if err != nil {
		return nil, err
	}
	return decodeReport(b, d.File(ReportFile))
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// LocalRecords are the drill records of a state directory:
// STATE/drills/ID/NAME, each drill's folder a Dir.
type LocalRecords struct {
	// StateDir holds the drills folder; it need not exist yet.
	StateDir string
}

var _ Records = LocalRecords{}

func (l LocalRecords) drills() string { return filepath.Join(l.StateDir, "drills") }

// List implements Records.
func (l LocalRecords) List(ctx context.Context) ([]string, error) {
	entries, err := os.ReadDir(l.drills())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read drill history: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if !e.IsDir() || !drillIDPattern.MatchString(e.Name()) {
			continue
		}
		if _, err := os.Stat(filepath.Join(l.drills(), e.Name(), ReportFile)); err != nil {
			continue
		}
		ids = append(ids, e.Name())
	}
	return ids, nil // os.ReadDir sorts by name
}

// ReadFile implements Records.
func (l LocalRecords) ReadFile(ctx context.Context, id, name string) ([]byte, error) {
	if err := checkName(id, name); err != nil {
		return nil, err
	}
	return os.ReadFile(l.URL(id, name))
}

// WriteFile implements Records, atomically (WriteFileAtomic).
func (l LocalRecords) WriteFile(ctx context.Context, id, name string, data []byte) error {
	if err := checkName(id, name); err != nil {
		return err
	}
	p := l.URL(id, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("create the folder of %s: %w", p, err)
	}
	return WriteFileAtomic(p, data)
}

// Files implements Records.
func (l LocalRecords) Files(ctx context.Context, id string) ([]string, error) {
	if err := checkName(id, ReportFile); err != nil {
		return nil, err
	}
	root := filepath.Join(l.drills(), id)
	var names []string
	err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == root {
			return fs.SkipAll
		}
		if err != nil || !de.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if !strings.HasSuffix(rel, ".tmp") {
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the files of drill %s: %w", id, err)
	}
	sort.Strings(names)
	return names, nil
}

// URL implements Records: the file's path.
func (l LocalRecords) URL(id, name string) string {
	switch {
	case id == "":
		return l.StateDir
	case name == "":
		return filepath.Join(l.drills(), id)
	}
	return filepath.Join(l.drills(), id, filepath.FromSlash(name))
}
