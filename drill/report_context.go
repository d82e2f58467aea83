package drill

import (
	"context"
	"fmt"
	"path"
	"slices"
	"time"

	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/runbooks"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// RecoveryPointChoice is how the drill chose its recovery point and why:
// the scenario's spec.backups selector, for the reader who asks "why this
// backup?".
type RecoveryPointChoice struct {
	// Selector is the field of spec.backups that chose it: "backupName",
	// "schedule" or "window".
	Selector string `json:"selector"`
	// Pick is the window's pick, "latest" or "random"; empty otherwise.
	Pick string `json:"pick,omitempty"`
	// WithinSeconds is the window's length before the disaster.
	WithinSeconds float64 `json:"within_seconds,omitempty"`
	// Seed is the seed of a random pick: the scenario's window.seed, or
	// the one the drill chose when it has none (the recovery-point step
	// sets it); with it the same pick can be made again.
	Seed *int64 `json:"seed,omitempty"`
	// Why says in words why this backup and what the choice proves.
	Why string `json:"why"`
}

// recoveryPointChoice reads the choice from the scenario; nil when it
// names no selector (a scenario built by hand).
func recoveryPointChoice(b scenarios.Backups) *RecoveryPointChoice {
	switch {
	case b.BackupName != "":
		return &RecoveryPointChoice{Selector: "backupName",
			Why: fmt.Sprintf("the scenario names backup %s: the drill proves that one backup restores", b.BackupName)}
	case b.Schedule != "":
		return &RecoveryPointChoice{Selector: "schedule",
			Why: fmt.Sprintf("the latest restorable backup of Schedule %s: what a real recovery would restore, so the RPO measured is the one a disaster now would see", b.Schedule)}
	case b.Window != nil && b.Window.Pick == scenarios.PickRandom:
		c := &RecoveryPointChoice{Selector: "window", Pick: string(b.Window.Pick), WithinSeconds: time.Duration(b.Window.Within).Seconds(), Seed: b.Window.Seed,
			Why: fmt.Sprintf("picked at random among the restorable backups started within %s before the disaster: over many drills, every backup the team may fall back on is proven, not only the newest", fmtSeconds(time.Duration(b.Window.Within).Seconds()))}
		return c
	case b.Window != nil:
		return &RecoveryPointChoice{Selector: "window", Pick: string(scenarios.PickLatest), WithinSeconds: time.Duration(b.Window.Within).Seconds(),
			Why: fmt.Sprintf("the latest restorable backup started within %s before the disaster", fmtSeconds(time.Duration(b.Window.Within).Seconds()))}
	}
	return nil
}

// Link is one file that belongs with the report: the other renderings,
// the retrospective, the scenario and runbook as run, the evidence bundle,
// the previous drill's report. Href is relative to the drill's folder
// (drills/ID/ in the state directory and in the shared history alike), so
// it resolves wherever the folder is copied; nothing is fetched.
type Link struct {
	// Rel says what it is: report-html, report-md, report-json,
	// retrospective, scenario, runbook, evidence, evidence-pushed,
	// previous.
	Rel   string `json:"rel"`
	Title string `json:"title"`
	Href  string `json:"href"`
}

// The files of a drill's folder the links name.
const (
	scenarioFile = "scenario.yaml"
	runbookFile  = "runbook.md"
)

// drillLinks are the links of a drill: those of its own folder that it
// writes (runbook.md only with a runbook, the evidence bundle only when
// the drill signs one), where the bundle is pushed (pushedTo, an s3://
// URL, when it is), and the previous drill's report when its folder has
// one (prevFiles lists it).
func drillLinks(withRunbook, withEvidence bool, pushedTo string, prev *Report, prevFiles []string) []Link {
	ls := []Link{
		{Rel: "report-html", Title: "this report (HTML)", Href: "report.html"},
		{Rel: "report-md", Title: "this report (Markdown)", Href: "report.md"},
		{Rel: "report-json", Title: "the record (report.json)", Href: ReportFile},
		{Rel: "retrospective", Title: "the retrospective to fill in", Href: "retrospective.md"},
		{Rel: "scenario", Title: "the scenario as run", Href: scenarioFile},
	}
	if withRunbook {
		ls = append(ls, Link{Rel: "runbook", Title: "the runbook as run", Href: runbookFile})
	}
	if withEvidence {
		ls = append(ls, Link{Rel: "evidence", Title: "the signed evidence bundle (written after cleanup, in the state directory)", Href: EvidenceBundleFile})
	}
	if pushedTo != "" {
		ls = append(ls, Link{Rel: "evidence-pushed", Title: "the signed evidence bundle, pushed and locked", Href: pushedTo})
	}
	if prev != nil {
		for _, name := range []string{"report.html", "report.md", ReportFile} {
			if slices.Contains(prevFiles, name) {
				ls = append(ls, Link{Rel: "previous", Title: fmt.Sprintf("the previous drill, %s (%s)", prev.DrillID, prev.Result),
					Href: path.Join("..", prev.DrillID, name)})
				break
			}
		}
	}
	return ls
}

// Link returns the href of the report's link rel (Link.Rel), or "" when
// it has none.
func (r *Report) Link(rel string) string {
	for _, l := range r.Links {
		if l.Rel == rel {
			return l.Href
		}
	}
	return ""
}

// addReaderContext fills what the reader asks next from the history of
// the scenario: the trend, the links (the previous drill's among them) and
// the next steps. A history that cannot be read is said in the trend; the
// drill goes on.
func (r *run) addReaderContext(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), exportTimeout)
	defer cancel()
	var records Records = LocalRecords{StateDir: r.opts.StateDir}
	if r.opts.History != nil {
		records = r.opts.History
	}
	history, err := ListReports(ctx, records, r.report.Scenario)
	r.report.Trend = NewTrend(r.report, history, records.URL("", ""), err)
	var prev *Report
	var prevFiles []string
	if p := previousDrill(r.report, history); p != nil {
		prev = p
		prevFiles, _ = records.Files(ctx, p.DrillID)
	}
	keeps := r.opts.Evidence != nil && r.report.Result != ResultInterrupted
	pushedTo := ""
	if keeps && r.opts.Evidence.Target != nil {
		t := r.opts.Evidence.Target
		pushedTo = objectstore.URI(t.Bucket, t.Key(r.report.Scenario, r.report.DrillID), "")
	}
	r.report.Links = drillLinks(r.opts.Runbook != nil, keeps, pushedTo, prev, prevFiles)
	r.report.NextSteps = NextSteps(r.report)
}

// retroQuestions are the runbook's own retrospective questions; none
// without a runbook.
func retroQuestions(rb *runbooks.Runbook) []string {
	if rb == nil {
		return nil
	}
	return rb.RetroQuestions
}
