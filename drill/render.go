package drill

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"math"
	"strings"
	"text/template"
	"time"

	"github.com/firedrill-dev/firedrill/internal/durfmt"
	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/plural"
	"github.com/firedrill-dev/firedrill/runbooks"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

var funcs = map[string]any{
	"dur":        fmtSeconds,
	"durp":       func(p *float64) string { return fmtSecondsPtr(p) },
	"ts":         tsText,
	"offset":     func(r *Report, t time.Time) string { return "+" + fmtSeconds(t.Sub(r.StartedAt).Seconds()) },
	"upper":      strings.ToUpper,
	"join":       strings.Join,
	"objective":  objectiveLine,
	"verdict":    verdictLine,
	"rtoTime":    rtoTime,
	"percent":    percent,
	"bar":        textBar,
	"count":      plural.Count[int],
	"noFindings": noFindingsText,
	"failedSteps": func(rs []runbooks.StepResult) []runbooks.StepResult {
		var out []runbooks.StepResult
		for _, s := range rs {
			if s.Status != runbooks.StepPassed && s.Status != runbooks.StepSkipped && s.Status != runbooks.StepDeclared {
				out = append(out, s)
			}
		}
		return out
	},
	"notPassed": func(fs []finding.Finding) []finding.Finding {
		var out []finding.Finding
		for _, f := range fs {
			if f.Status != finding.StatusPass {
				out = append(out, f)
			}
		}
		return out
	},
	"passed": func(fs []finding.Finding) []finding.Finding {
		var out []finding.Finding
		for _, f := range fs {
			if f.Status == finding.StatusPass {
				out = append(out, f)
			}
		}
		return out
	},
	"passedSummary": passedSummary,
	"md":            mdInline,
	"mdcode":        mdCode,
	"mdblock":       mdBlock,
	"timeline":      timelineSVG,
	"deref":         func(b *bool) bool { return b != nil && *b },
	"sub":           func(a, b time.Time) float64 { return a.Sub(b).Seconds() },
	"secs":          func(d time.Duration) float64 { return d.Seconds() },
	"podVolumeRestores": func(rs []RestoreRef) []RestoreRef {
		var out []RestoreRef
		for _, r := range rs {
			if len(r.PodVolumeRestores) > 0 {
				out = append(out, r)
			}
		}
		return out
	},
}

var (
	mdTemplates   = template.Must(template.New("").Funcs(funcs).Funcs(windowFuncs).Funcs(readerFuncs).ParseFS(templateFS, "templates/*.md.tmpl"))
	htmlTemplates = htmltemplate.Must(htmltemplate.New("").Funcs(funcs).Funcs(windowFuncs).Funcs(readerFuncs).ParseFS(templateFS, "templates/*.html.tmpl"))
)

// RenderMarkdown renders report.md.
func RenderMarkdown(r *Report) ([]byte, error) { return renderText("report.md.tmpl", r) }

// RenderRetrospective renders retrospective.md: the drill's facts and the
// three questions of a retrospective, seeded with prompts from the
// findings, for the team to fill in.
func RenderRetrospective(r *Report) ([]byte, error) { return renderText("retrospective.md.tmpl", r) }

// RenderHTML renders report.html: one self-contained page (inline CSS and
// SVG, no external assets) that can be mailed to an auditor.
func RenderHTML(r *Report) ([]byte, error) {
	var b bytes.Buffer
	if err := htmlTemplates.ExecuteTemplate(&b, "report.html.tmpl", r); err != nil {
		return nil, fmt.Errorf("render report.html: %w", err)
	}
	return b.Bytes(), nil
}

func renderText(name string, r *Report) ([]byte, error) {
	var b bytes.Buffer
	if err := mdTemplates.ExecuteTemplate(&b, name, r); err != nil {
		return nil, fmt.Errorf("render %s: %w", strings.TrimSuffix(name, ".tmpl"), err)
	}
	return b.Bytes(), nil
}

// passedShown is how many passed findings the retrospective names.
const passedShown = 3

// passedSummary is the retrospective's line on the passed findings, as
// text (the template escapes it with md): what it counts is findings, and "including" says the list is
// partial, only when it is: "1 finding passed: object lock is enabled.",
// "2 findings passed: a; b.", "5 findings passed, including: a; b; c.".
func passedSummary(fs []finding.Finding) string {
	var msgs []string
	for _, f := range fs {
		if len(msgs) < passedShown {
			msgs = append(msgs, strings.TrimSuffix(strings.TrimSpace(f.Message), "."))
		}
	}
	lead := plural.Count(len(fs), "finding", "findings") + " passed"
	if len(fs) > len(msgs) {
		lead += ", including"
	}
	return lead + ": " + strings.Join(msgs, "; ") + "."
}

// FormatSeconds prints a duration for people: 850ms, 42.3s, 3m07s, 2h05m,
// 3d09h. It is durfmt.Seconds, the one duration style of every report,
// finding and message, for the commands above drill.
func FormatSeconds(s float64) string { return durfmt.Seconds(s) }

func fmtSeconds(s float64) string { return durfmt.Seconds(s) }

func fmtSecondsPtr(p *float64) string {
	if p == nil {
		return "—"
	}
	return fmtSeconds(*p)
}

// objectiveLine says in words how a measurement compares with its objective.
func objectiveLine(o Objective) string {
	switch o.Status {
	case ObjectiveMet:
		return fmt.Sprintf("met: %s of %s (%s to spare)", rtoTime(o), fmtSeconds(o.ObjectiveSeconds), fmtSecondsPtr(o.MarginSeconds))
	case ObjectiveMissed:
		return fmt.Sprintf("MISSED: %s against %s (over by %s)", rtoTime(o), fmtSeconds(o.ObjectiveSeconds), fmtSeconds(-*o.MarginSeconds))
	}
	return fmt.Sprintf("not measured (objective %s): %s", fmtSeconds(o.ObjectiveSeconds), o.Note)
}

// verdictLine is objectiveLine without the times, for a table whose
// other columns give the objective and the time measured: "met (8m00s
// to spare)", "MISSED (over by 2m00s)", "not measured: why".
func verdictLine(o Objective) string {
	switch o.Status {
	case ObjectiveMet:
		return fmt.Sprintf("met (%s to spare)", fmtSecondsPtr(o.MarginSeconds))
	case ObjectiveMissed:
		return fmt.Sprintf("MISSED (over by %s)", fmtSeconds(-*o.MarginSeconds))
	}
	return "not measured: " + o.Note
}

// noFindingsText is what report.md and report.html say in Findings when
// no finding failed or warned: one sentence for both. A drill that did
// not run to the end cannot say its checks passed: what the steps it did
// not run would have found is unknown.
func noFindingsText(r *Report) string {
	if r.Error != "" {
		return "No finding failed, but not every step ran to the end: what they would have checked is not known."
	}
	return "No finding failed or warned."
}

// timelineSVG draws the drill's phases as bars on one time axis: recovery
// steps (those that count toward RTO) in blue, drill-only steps in grey,
// failures in red, with the RTO objective as a line when it fits.
func timelineSVG(r *Report) htmltemplate.HTML {
	const (
		left, width, row, top = 150.0, 600.0, 26.0, 30.0
	)
	total := r.FinishedAt.Sub(r.StartedAt).Seconds()
	if total <= 0 {
		total = 1
	}
	scale := width / total
	h := top + row*float64(len(r.Phases)) + 30
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" role="img" aria-label="Timeline of the drill's steps">`, left+width+90, h)
	fmt.Fprintf(&b, `<text x="%.0f" y="16" class="axis">0</text><text x="%.0f" y="16" class="axis" text-anchor="end">%s</text>`, left, left+width, fmtSeconds(total))
	for i, p := range r.Phases {
		y := top + row*float64(i)
		x := left + p.Start.Sub(r.StartedAt).Seconds()*scale
		w := math.Max(p.End.Sub(p.Start).Seconds()*scale, 2)
		class := "bar drill"
		if p.CountsTowardRTO {
			class = "bar rto"
		}
		switch p.Status {
		case PhaseFailed, PhaseError:
			class += " bad"
		case PhaseSkipped:
			class += " skipped"
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" class="label" text-anchor="end">%s</text>`, left-8, y+15, htmltemplate.HTMLEscapeString(string(p.Name)))
		title := fmt.Sprintf("%s: %s, %s", p.Name, p.Status, fmtSeconds(p.DurationSeconds))
		if p.Error != "" {
			title += ": " + p.Error
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="18" rx="3" class="%s"><title>%s</title></rect>`,
			x, y+2, w, class, htmltemplate.HTMLEscapeString(title))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="dur">%s</text>`, x+w+5, y+15, fmtSeconds(p.DurationSeconds))
	}
	if obj := r.DisasterAt.Sub(r.StartedAt).Seconds() + r.RTO.ObjectiveSeconds; obj > 0 && obj <= total {
		x := left + obj*scale
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" class="objective"/><text x="%.1f" y="%.0f" class="axis" text-anchor="middle">RTO objective</text>`,
			x, top-4, x, h-22, x, h-8)
	}
	b.WriteString(`</svg>`)
	return htmltemplate.HTML(b.String())
}
