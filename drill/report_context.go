package drill

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"slices"
	"time"

	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/runbooks"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// RecoveryPointChoice is how the drill chose its recovery point and why,
// for the reader who asks "why this backup?" (report.json
// recovery_point_choice). The drill fills it from the scenario's
// spec.backups selector when it starts (recoveryPointChoice), and the
// recovery-point step completes it with the pick (picked): how many
// backups it chose among, the seed of a random pick, and the pick's own
// why.
type RecoveryPointChoice struct {
	// Selector is the field of spec.backups that chose it: "backupName",
	// "schedule" or "window".
	Selector string `json:"selector"`
	// Pick is the window's pick, "latest" or "random"; empty otherwise.
	Pick string `json:"pick,omitempty"`
	// WithinSeconds is the window's length before the disaster.
	WithinSeconds float64 `json:"within_seconds,omitempty"`
	// Candidates is how many restorable backups the selector chose
	// among; absent until the recovery point is picked, and when no
	// backup could be.
	Candidates int `json:"candidates,omitempty"`
	// Seed is the seed of a random pick: the scenario's window.seed (or
	// run --pick-seed), or the one the drill chose when it has none (set
	// by the pick); with it the same pick can be made again.
	Seed *int64 `json:"seed,omitempty"`
	// Why says in words how this backup was chosen (the pick's rule and
	// candidates once picked, else the scenario's selector) and what the
	// choice proves.
	Why string `json:"why"`
}

// recoveryPointChoice reads the choice from the scenario; nil when it
// names no selector (a scenario built by hand).
func recoveryPointChoice(b scenarios.Backups) *RecoveryPointChoice {
	var c RecoveryPointChoice
	var how string
	switch {
	case b.BackupName != "":
		c.Selector = "backupName"
		how = fmt.Sprintf("the scenario names backup %s", b.BackupName)
	case b.Window != nil:
		// With a schedule too, the window holds its backups only.
		within := time.Duration(b.Window.Within)
		c.Selector, c.Pick, c.WithinSeconds = "window", string(cmp.Or(b.Window.Pick, scenarios.PickLatest)), within.Seconds()
		of := ""
		if b.Schedule != "" {
			of = " of Schedule " + b.Schedule
		}
		how = fmt.Sprintf("the latest restorable backup%s started within %s before the disaster", of, fmtSeconds(time.Duration(within).Seconds()))
		if b.Window.Pick == scenarios.PickRandom {
			c.Seed = b.Window.Seed
			how = fmt.Sprintf("picked at random among the restorable backups%s started within %s before the disaster", of, fmtSeconds(time.Duration(within).Seconds()))
		}
	case b.Schedule != "":
		c.Selector = "schedule"
		how = fmt.Sprintf("the latest restorable backup of Schedule %s", b.Schedule)
	default:
		return nil
	}
	c.Why = how
	if proves := c.proves(); proves != "" {
		c.Why += ". " + proves
	}
	return &c
}

// picked is c completed with the recovery-point step's pick p (the
// Recovery's account of it: Candidates, Seed and Why): p's figures, its
// why followed by what the choice proves. c is nil for a scenario with no
// selector; p nil (a Recovery that does not say) leaves c as it is.
func (c *RecoveryPointChoice) picked(p *RecoveryPointChoice) *RecoveryPointChoice {
	if p == nil {
		return c
	}
	out := RecoveryPointChoice{}
	if c != nil {
		out = *c
	}
	out.Candidates = p.Candidates
	if p.Seed != nil {
		out.Seed = p.Seed
	}
	out.Why = p.Why
	if proves := out.proves(); proves != "" {
		out.Why += ". " + proves
	}
	return &out
}

// proves is what the choice proves, in a sentence; empty without a
// selector.
func (c *RecoveryPointChoice) proves() string {
	switch {
	case c.Selector == "backupName":
		return "The drill proves that this one backup restores"
	case c.Pick == string(scenarios.PickRandom):
		// What random picks prove over many drills is the README's to
		// say once, not every report's.
		return ""
	case c.Selector != "":
		return "A real recovery restores the newest too, so the RPO measured is the one a disaster now would see"
	}
	return ""
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

// HasContext reports whether the report has any context to show: the
// scenario's story, detection, lead, observers or goals, or the recovery
// point's why when no backup was chosen (with one, the Recovery point
// section gives it).
func (r *Report) HasContext() bool {
	return r.Narrative != "" || r.Detection != "" || r.Lead != "" || len(r.Observers) > 0 || len(r.Goals) > 0 ||
		(r.Backup == nil && r.RecoveryPoint != nil)
}

// retroQuestions are the runbook's own retrospective questions; none
// without a runbook.
func retroQuestions(rb *runbooks.Runbook) []string {
	if rb == nil {
		return nil
	}
	return rb.RetroQuestions
}
