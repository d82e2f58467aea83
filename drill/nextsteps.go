package drill

import (
	"fmt"
	"strings"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/plural"
)

// NearObjective is the share of an objective a met RTO or RPO may use
// before the next steps name it: above 80% a slower restore or a late
// backup misses it.
const NearObjective = 0.8

// maxNextSteps keeps the list short: the rest are in the findings.
const maxNextSteps = 8

// The values of NextStep.Kind, in the order the list gives them.
const (
	NextStepStopped = "stopped" // the drill could not run to the end
	NextStepFailed  = "failed"  // an objective missed or a finding failed
	NextStepNear    = "near"    // an objective met with little to spare
	NextStepWarning = "warning" // a warn finding: stale, partial, at risk
	NextStepTrend   = "trend"   // worse than the median of earlier drills
)

// NextStep is one thing to do after the drill, pointing at what it comes
// from in the report and at the README section that explains the fix.
type NextStep struct {
	Kind string `json:"kind"`
	Text string `json:"text"`
	// Finding is the finding's id, or rto, rpo, rpo-data, trend.rto,
	// trend.rpo, error for what is not a finding.
	Finding string `json:"finding"`
	// Anchor is the fragment of report.html that shows it: #finding-N
	// (N the finding's index in findings), #objectives, #trend, #error.
	Anchor string `json:"anchor"`
	// ReadmeSection is the heading of README.md that explains the fix;
	// ReadmeAnchor its fragment as GitHub and GitLab make it.
	ReadmeSection string `json:"readme_section"`
	ReadmeAnchor  string `json:"readme_anchor"`
}

// ReadmeURL is where the README's sections are linked from the report:
// a link the reader follows, nothing the report loads.
const ReadmeURL = "https://github.com/firedrill-dev/firedrill/blob/main/README.md"

// readmeSections maps a finding code (by its longest matching prefix) or
// an objective to the README section that says what to do about it. The
// one table: drill/nextsteps_test.go checks every section exists.
var readmeSections = []struct{ prefix, section string }{
	{"rto", "The report"},
	{"rpo", "The report"},
	{"trend.", "The report"},
	{"error", "A drill"},
	{"protection.", "Protection findings"},
	{"recovery-point.", "Recovery point and restore findings"},
	{"scope.", "Recovery point and restore findings"},
	{"restore.", "Recovery point and restore findings"},
	{"verify.", "Scenario files"},
	{"check.", "Scenario files"},
	{"runbook.", "Scenario files"},
	{"preflight.dead-drill", "A drill that dies"},
	{"scratch.in-use", "One drill at a time"},
	{"history.", "A drill"},
	{"evidence.", "Auditors"},
	{"window.", "The recovery window"},
	{"cleanup", "A drill"},
	{"", "A drill"},
}

// readmeSection is the README section for a finding code or objective.
func readmeSection(code string) string {
	best, n := "", -1
	for _, s := range readmeSections {
		if strings.HasPrefix(code, s.prefix) && len(s.prefix) > n {
			best, n = s.section, len(s.prefix)
		}
	}
	return best
}

// headingAnchor is the fragment GitHub and GitLab give a heading: lower
// case, spaces to '-', punctuation but '-' and '_' dropped.
func headingAnchor(heading string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case c == ' ':
			b.WriteByte('-')
		case c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteRune(c)
		}
	}
	return b.String()
}

// NextSteps derives the next steps from the report, in order: why the
// drill stopped, then what failed (objectives missed, then failed
// findings in report order), then what is near its objective (a met RTO
// or RPO that used more than NearObjective of it), then warnings, then a
// trend worse than the median (unless that objective is a step already).
// Each finding code is one step, however many findings share it. At most
// maxNextSteps. Never nil: an empty list means nothing to do, while a
// Report whose NextSteps is nil (a record written before next steps)
// never had them computed.
func NextSteps(r *Report) []NextStep {
	out := []NextStep{}
	seen := map[string]bool{}
	add := func(kind, code, anchor, text string) {
		if seen[code] {
			return
		}
		seen[code] = true
		sec := readmeSection(code)
		out = append(out, NextStep{Kind: kind, Text: text, Finding: code, Anchor: anchor, ReadmeSection: sec, ReadmeAnchor: headingAnchor(sec)})
	}
	if r.Result == ResultError && r.Error != "" {
		add(NextStepStopped, "error", "#error", fmt.Sprintf("Make step %s run to the end: %s", r.ErrorStep, firstLine(r.Error)))
	}
	objectives := []struct {
		code, name string
		o          *Objective
	}{{"rto", "RTO", &r.RTO}, {"rpo", "RPO (backup)", &r.RPO}, {"rpo-data", "RPO (data)", r.RPOData}}
	for _, o := range objectives {
		if o.o != nil && o.o.Status == ObjectiveMissed {
			add(NextStepFailed, o.code, "#objectives", fmt.Sprintf("%s missed: %s against %s", o.name, o.o.TimeText(), fmtSeconds(o.o.ObjectiveSeconds)))
		}
	}
	counts := map[string]int{}
	for _, f := range r.Findings {
		counts[f.ID]++
	}
	findingSteps := func(kind string, st finding.Status) {
		for i, f := range r.Findings {
			if f.Status != st {
				continue
			}
			// Short where it can be: the finding, linked, has the whole
			// message; never cut mid-sentence.
			text := firstLine(f.Subject) + ": " + leadSentences(f.Message, maxNextStepPart)
			if n := counts[f.ID]; n > 1 {
				text = fmt.Sprintf("%s (and %d more %s)", text, n-1, f.ID)
			}
			if f.Hint != "" {
				text += " — " + leadSentences(f.Hint, maxNextStepPart)
			}
			add(kind, f.ID, fmt.Sprintf("#finding-%d", i), text)
		}
	}
	findingSteps(NextStepFailed, finding.StatusFail)
	for _, o := range objectives {
		// Judged: the margin left is that of measured plus declared manual time.
		if o.o != nil && o.o.Status == ObjectiveMet && o.o.ObjectiveSeconds > 0 && *o.o.Judged() > NearObjective*o.o.ObjectiveSeconds {
			text := fmt.Sprintf("%s used %.0f%% of its objective (%s of %s): little margin left",
				o.name, 100**o.o.Judged()/o.o.ObjectiveSeconds, o.o.TimeText(), fmtSeconds(o.o.ObjectiveSeconds))
			// Where to look first: the step that eats most of the budget.
			if o.code == "rto" && r.RTOBudget != nil {
				if l := r.RTOBudget.Largest(); l.Step != "" {
					text += fmt.Sprintf("; step %s takes %s of it", l.Step, percent(l.Share))
				}
			}
			add(NextStepNear, o.code, "#objectives", text)
		}
	}
	findingSteps(NextStepWarning, finding.StatusWarn)
	if t := r.Trend; t != nil {
		for _, v := range []struct {
			code, objective, name string
			v                     TrendVerdict
		}{{"trend.rto", "rto", "RTO", t.RTO}, {"trend.rpo", "rpo", "RPO", t.RPO}} {
			// A missed or nearly missed objective is already a step.
			if v.v.Verdict == TrendWorse && !seen[v.objective] {
				add(NextStepTrend, v.code, "#trend", fmt.Sprintf("%s %s is worse than the median of the last %s (%s)",
					v.name, fmtSecondsPtr(v.v.ThisSeconds), plural.Count(v.v.Drills, "drill", "drills"), fmtSecondsPtr(v.v.MedianSeconds)))
			}
		}
	}
	if len(out) > maxNextSteps {
		out = out[:maxNextSteps]
	}
	return out
}

// retroQuestion is what the retrospective asks about a next step, by its
// kind and, for an objective near its limit or a trend, by the measure:
// a worse RTO is a slower recovery, a worse RPO an older recovery point
// (more data at risk), not a slower one.
func retroQuestion(s NextStep) string {
	rpo := strings.HasPrefix(s.Finding, "rpo") || s.Finding == "trend.rpo"
	switch s.Kind {
	case NextStepStopped:
		return "What would have told us before the drill, and what would a real recovery have done here?"
	case NextStepFailed:
		return "Why did it happen, and why did nothing tell us before the drill?"
	case NextStepNear:
		if rpo {
			return "Why was the recovery point this old, and how much more data would a late or failed backup put at risk?"
		}
		return "Which step took longest, and what would we lose on a worse day?"
	case NextStepTrend:
		if rpo {
			return "Why is the recovery point older than in the last drills: what puts more data at risk now?"
		}
		return "What got slower since the last drills?"
	}
	return "Is this a risk we accept, and who decides?"
}

// maxNextStepPart is how long a finding's message or hint may be in a
// next step before it is cut at a sentence end (leadSentences).
const maxNextStepPart = 160

// leadSentences is the first line of s, whole when it has at most n
// runes, else cut after the last sentence that ends within n runes. A
// line with no sentence end that early stays whole: a clause cut
// mid-way, marked with "…", reads as a sentence of its own when the
// retrospective appends its question ("the bucket's…. Why did it
// happen").
func leadSentences(s string, n int) string {
	s = firstLine(s)
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	for i := n - 1; i > 0; i-- {
		if strings.ContainsRune(".!?", r[i]) && r[i+1] == ' ' {
			return string(r[:i+1])
		}
	}
	return s
}

// sentence is s ending as a sentence: with a full stop unless it already
// ends with one (or with ! or ?), so a question can follow it.
func sentence(s string) string {
	s = strings.TrimRight(s, " ")
	if s == "" || strings.ContainsRune(".!?", []rune(s)[len([]rune(s))-1]) {
		return s
	}
	return s + "."
}

// NextStepsComputed reports whether the drill computed its next steps:
// false for a record written before they existed, whose reports then say
// nothing about what to do rather than "nothing to do".
func (r *Report) NextStepsComputed() bool { return r.NextSteps != nil }
